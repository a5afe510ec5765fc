package eval

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru/risk"
	"github.com/mamoru-id/mamoru/risk/eval/internal/gensample/synth"
)

var update = flag.Bool("update", false, "rewrite testdata/sample.golden.txt and testdata/sample.svg")

func runFile(t testing.TB, path string, o Options) *Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Run(context.Background(), f, o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func sampleOptions() Options { return Options{Config: risk.DefaultConfig(), Seed: 1} }

// TestSample evaluates the committed sample (see package gensample) under
// the default policy: the figures must make sense, come out the same on
// every run, and match the golden report (go test -update rewrites it,
// and the plot of docs/risk.md, after a change of the engine).
func TestSample(t *testing.T) {
	rep := runFile(t, "testdata/sample.csv", sampleOptions())
	in := rep.Input
	if in.Rows != 3600 || in.BadRows != 0 || in.Late != 0 || len(in.MissingColumns) != 0 || in.Users < 100 {
		t.Errorf("input %+v", in)
	}
	legit, first, attack := rep.Group(GroupReturning), rep.Group(GroupFirst), rep.Group(GroupAttackTotal)
	if legit.Rows+first.Rows+rep.Group(GroupFailed).Rows+attack.Rows != in.Rows || first.Rows != int64(in.Users) {
		t.Errorf("groups do not add up: %+v", rep.Groups)
	}
	if rep.Takeovers == 0 || attack.Rows < 100 {
		t.Errorf("%d takeovers, %d attack rows", rep.Takeovers, attack.Rows)
	}
	// Attacks are challenged far more often than legitimate sign-ins, and
	// score higher.
	if !(rep.Detection > 5*rep.RAR) || rep.RAR > 0.10 || rep.Detection < 0.2 {
		t.Errorf("RAR %.4f, detection %.4f", rep.RAR, rep.Detection)
	}
	if !(attack.Scores.P50 > legit.Scores.P50) {
		t.Errorf("median scores: attack %v, legitimate %v", attack.Scores.P50, legit.Scores.P50)
	}
	a := rep.Attackers
	if a == nil || len(a.Models) != 3 || a.Attempts != 1000 || a.Users < 50 || a.MinHistory != 3 {
		t.Fatalf("attackers %+v", a)
	}
	for _, m := range a.Models {
		if m.Attempts != 1000 || m.AUC == nil || len(m.AtRAR) != len(DefaultRARTargets) || len(m.Curve) < 2 {
			t.Errorf("%s: %+v", m.Name, m)
			continue
		}
		if *m.AUC <= 0.5 {
			t.Errorf("%s: AUC %.3f", m.Name, *m.AUC)
		}
		for k, p := range m.AtRAR {
			if p.RAR > p.Target || (k > 0 && p.TPR < m.AtRAR[k-1].TPR) {
				t.Errorf("%s at %v: %+v", m.Name, p.Target, p)
			}
		}
	}
	// The naive attacker knows least: it is the easiest to tell apart.
	if naive, targeted := a.Models[0], a.Models[2]; *naive.AUC < *targeted.AUC {
		t.Errorf("AUC naive %.3f < targeted %.3f", *naive.AUC, *targeted.AUC)
	}

	// Deterministic: the same seed gives the same report; another seed
	// other attackers but the same replay.
	var j1, j2 bytes.Buffer
	rep.WriteJSON(&j1)
	runFile(t, "testdata/sample.csv", sampleOptions()).WriteJSON(&j2)
	if !bytes.Equal(j1.Bytes(), j2.Bytes()) {
		t.Error("two runs with the same seed differ")
	}
	o := sampleOptions()
	o.Seed = 2
	rep2 := runFile(t, "testdata/sample.csv", o)
	if rep2.RAR != rep.RAR || rep2.Detection != rep.Detection {
		t.Error("the seed changed the replay")
	}
	if *rep2.Attackers.Models[2].AUC == *rep.Attackers.Models[2].AUC {
		t.Error("the seed did not change the attackers")
	}

	var text, svg bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := rep.WritePlot(&svg, "mamoru eval: risk/eval/testdata/sample.csv"); err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/sample.golden.txt", text.Bytes())
	golden(t, "../../docs/risk-eval.svg", svg.Bytes())
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it after a change of the engine); got:\n%s", path, got)
	}
}

// TestReplayOrderAndBadRows: a shuffled log (within the reorder window)
// and bad records change nothing in what is replayed.
func TestReplayOrderAndBadRows(t *testing.T) {
	var log bytes.Buffer
	if _, err := synth.Generate(&log, synth.Options{Rows: 1500, Users: 60, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(log.String(), "\n")
	header, rows := lines[0], lines[1:len(lines)-1] // the last is empty
	o := Options{Config: risk.DefaultConfig(), Seed: 3, Attackers: 200}
	run := func(body []string) *Report {
		t.Helper()
		rep, err := Run(context.Background(), strings.NewReader(header+strings.Join(body, "")), o)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	want := run(rows)
	if want.Input.Rows != 1500 || want.Input.Late != 0 {
		t.Fatalf("%+v", want.Input)
	}

	// Shuffled within blocks of 100 rows, with junk between them.
	shuffled := append([]string(nil), rows...)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < len(shuffled); i += 100 {
		blk := shuffled[i:min(i+100, len(shuffled))]
		rng.Shuffle(len(blk), func(a, b int) { blk[a], blk[b] = blk[b], blk[a] })
	}
	var body []string
	for i, r := range shuffled {
		body = append(body, r)
		if i%500 == 0 {
			body = append(body, "not,a,row\n", "2020-02-03 00:00:00,,1.2.3.4\n")
		}
	}
	got := run(body)
	if got.Input.BadRows != 6 || len(got.Input.BadExamples) != 6 || got.Input.Rows != 1500 {
		t.Errorf("%+v", got.Input)
	}
	got.Input = want.Input
	var a, b bytes.Buffer
	want.WriteJSON(&a)
	got.WriteJSON(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the shuffled log gave another report")
	}

	// Beyond the window: replayed late, and counted.
	o.Reorder = 10
	late := run(shuffled)
	if late.Input.Late == 0 || late.Input.Rows != 1500 {
		t.Errorf("%+v", late.Input)
	}
}

func TestRunErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Run(ctx, strings.NewReader("a,b\n"), Options{Config: risk.DefaultConfig()}); err == nil {
		t.Error("no error for a header without the columns")
	}
	bad := risk.DefaultConfig()
	bad.Bands.Notify, bad.Bands.Challenge = 5, 1
	if _, err := Run(ctx, strings.NewReader("Login Timestamp,User ID,Login Successful\n"), Options{Config: bad}); err == nil {
		t.Error("no error for an invalid policy")
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	f, err := os.Open("testdata/sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := Run(canceled, f, sampleOptions()); err == nil {
		t.Error("no error after the context's end")
	}

	// An empty log and a log without attacks report zeros, not errors.
	rep, err := Run(ctx, strings.NewReader("Login Timestamp,User ID,Login Successful\n"), Options{Config: risk.DefaultConfig()})
	if err != nil || rep.Input.Rows != 0 || rep.Attackers != nil {
		t.Errorf("%+v %v", rep, err)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "no attack rows in the log") {
		t.Errorf("%s", b.String())
	}
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	rep, err = Run(ctx, strings.NewReader("Login Timestamp,User ID,Login Successful\n2020-01-01 00:00:00,u,True\n2020-01-02 00:00:00,u,True\n"),
		Options{Config: risk.DefaultConfig(), MinHistory: 1, Attackers: 5})
	if err != nil || rep.Input.Rows != 2 || rep.Attackers == nil {
		t.Fatalf("%+v %v", rep, err)
	}
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if err := rep.WritePlot(&b, ""); err != nil {
		t.Fatal(err)
	}
}

// TestGeneratedLog: the generator's log reads without a bad row, has the
// rows and labels it says, and is the same for the same seed.
func TestGeneratedLog(t *testing.T) {
	var a, b bytes.Buffer
	st, err := synth.Generate(&a, synth.Options{Rows: 4000, Users: 100, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	synth.Generate(&b, synth.Options{Rows: 4000, Users: 100, Seed: 5})
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("same seed, other log")
	}
	rows, rd := readAll(t, a.String())
	if n, bad := rd.Bad(); n != 0 || len(rows) != 4000 || st.Rows != 4000 {
		t.Fatalf("%d rows, bad %v", len(rows), bad)
	}
	var legit, failed, attackIP, ato int
	last := time.Time{}
	for _, r := range rows {
		if r.Time.Before(last) {
			t.Fatalf("line %d out of order", r.Line)
		}
		last = r.Time
		switch {
		case r.AttackIP:
			attackIP++
		case r.Takeover:
		case r.Success:
			legit++
		default:
			failed++
		}
		if r.Takeover {
			ato++
		}
		if !r.IP.IsValid() || r.Place.Country == "" || r.Place.ASN == 0 || r.UserAgent == "" || r.Device.Type == "unknown" {
			t.Errorf("line %d: %+v", r.Line, r)
		}
	}
	if legit != st.Legitimate || failed != st.LegitimateFailed || attackIP != st.AttackIP || ato != st.Takeovers || st.Takeovers < 3 {
		t.Errorf("stats %+v; counted %d %d %d %d", st, legit, failed, attackIP, ato)
	}
	if float64(attackIP)/4000 < 0.08 || float64(attackIP)/4000 > 0.12 {
		t.Errorf("attack share %d/4000", attackIP)
	}
}

// BenchmarkEval1M measures `mamoru eval`'s replay on a generated log of a
// million rows (MAMORU_BENCH=1; docs/benchmarks.md):
//
//	MAMORU_BENCH=1 go test -run '^$' -bench Eval1M -benchtime 1x ./risk/eval
func BenchmarkEval1M(b *testing.B) {
	if os.Getenv("MAMORU_BENCH") != "1" {
		b.Skip("set MAMORU_BENCH=1 (generates a 270 MB log in a temporary directory)")
	}
	path := filepath.Join(b.TempDir(), "log.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := synth.Generate(f, synth.Options{Rows: 1_000_000, Users: 50_000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated in %v", time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	var rep *Report
	for range b.N {
		rep = runFile(b, path, Options{Config: risk.DefaultConfig(), Seed: 1})
	}
	b.StopTimer()
	perRun := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(rep.Input.Rows)/perRun, "rows/s")
	b.ReportMetric(0, "ns/op")
	b.Log(fmt.Sprintf("RAR %.4f, detection %.4f, users %d", rep.RAR, rep.Detection, rep.Input.Users))
}
