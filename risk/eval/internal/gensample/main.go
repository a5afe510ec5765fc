// Command gensample writes a synthetic login log in the format of the
// public RBA login data set (das-group/rba-dataset) to standard output, for
// `mamoru eval`'s tests and benchmark. See package synth for what the log
// contains.
//
//	go run ./risk/eval/internal/gensample -rows N -users U -seed S > file.csv
//
// The sample in risk/eval/testdata/sample.csv (3,600 rows, under 1 MB) was
// made with
//
//	go run ./risk/eval/internal/gensample -rows 3600 -users 150 -seed 1 > risk/eval/testdata/sample.csv
//
// and the benchmark's log of a million rows (docs/benchmarks.md) is
// -rows 1000000 -users 50000 -seed 1. The same flags give the same file.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/mamoru-id/mamoru/risk/eval/internal/gensample/synth"
)

func main() {
	var o synth.Options
	start := flag.String("start", "2020-02-03", "first day of the log (YYYY-MM-DD, UTC)")
	flag.IntVar(&o.Rows, "rows", 3600, "data rows to write")
	flag.IntVar(&o.Users, "users", 150, "legitimate users")
	flag.Uint64Var(&o.Seed, "seed", 1, "random seed")
	flag.IntVar(&o.Days, "days", 180, "length of the log in days")
	flag.Float64Var(&o.AttackShare, "attack", 0.10, "share of rows from attack IPs (credential stuffing)")
	flag.Parse()
	t, err := time.Parse(time.DateOnly, *start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gensample: -start:", err)
		os.Exit(2)
	}
	o.Start = t
	if o.AttackShare == 0 {
		o.AttackShare = -1 // none
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<16)
	st, err := synth.Generate(w, o)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gensample:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gensample: %d rows: %d legitimate sign-ins of %d users, %d mistyped, %d from attack IPs, %d takeovers\n",
		st.Rows, st.Legitimate, st.UsersSeen, st.LegitimateFailed, st.AttackIP, st.Takeovers)
}
