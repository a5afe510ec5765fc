package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru/breach"
)

const breachUsage = "usage: mamoru breach import [--out PATH] [--min-count N] FILE|-"

// cmdBreach implements `mamoru breach import`: build the breached-password
// filter from a Pwned Passwords SHA-1 file (docs/breach.md).
func cmdBreach(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return usageError{breachUsage}
	}
	fs := newFlagSet("breach import", env)
	out := fs.String("out", "pwned.fuse", "the filter file to write; replaced only once the new one is complete and checked")
	minCount := fs.Int64("min-count", 1, "leave out the hashes seen fewer times than this (COUNT); 2 drops those seen once")
	// Flags may come before or after the file.
	var files []string
	rest := args[1:]
	for {
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 || *minCount < 0 || *out == "" {
		return usageError{breachUsage}
	}

	var in io.Reader = env.stdin
	name := "standard input"
	if files[0] != "-" {
		f, err := os.Open(files[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, files[0]
	}
	in, err := maybeGunzip(in)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}

	start := time.Now()
	lastReport := start
	opt := breach.BuildOptions{MinCount: *minCount, Progress: func(phase string, lines int64) {
		// Long imports only: every 10 seconds, and at each phase after.
		if time.Since(lastReport) < 10*time.Second && (phase == "read" || lastReport == start) {
			return
		}
		lastReport = time.Now()
		fmt.Fprintf(env.stderr, "# %s: %d lines read, %s\n", phase, lines, time.Since(start).Round(time.Second))
	}}
	st, err := writeFilter(ctx, in, *out, opt)
	if err != nil {
		if st.Lines > 0 {
			fmt.Fprintf(env.stderr, "# %s: %d lines read, %d malformed\n", name, st.Lines, st.BadLines)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	printBuildStats(env.stdout, name, *out, st)
	return nil
}

// maybeGunzip returns r decompressed if it starts like gzip, as is
// otherwise.
func maybeGunzip(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if !bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		return br, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return zr, nil
}

// writeFilter builds the filter of in into a temporary file next to
// path, checks that it opens, and renames it to path: path is either the
// old filter or the complete new one, never a partial file.
func writeFilter(ctx context.Context, in io.Reader, path string, opt breach.BuildOptions) (breach.BuildStats, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return breach.BuildStats{}, err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 1<<20)
	st, err := breach.Build(ctx, in, w, opt)
	if err != nil {
		return st, err
	}
	if err := w.Flush(); err != nil {
		return st, err
	}
	if err := tmp.Chmod(0o644); err != nil { // not secret: the server's user reads it
		return st, err
	}
	if err := tmp.Sync(); err != nil {
		return st, err
	}
	if err := tmp.Close(); err != nil {
		return st, err
	}
	f, err := breach.Open(tmp.Name())
	if err != nil {
		return st, fmt.Errorf("the new filter does not open: %w", err)
	}
	f.Close()
	if err := os.Rename(tmp.Name(), path); err != nil {
		return st, err
	}
	done = true
	return st, nil
}

// printBuildStats writes the report of an import.
func printBuildStats(w io.Writer, name, path string, st breach.BuildStats) {
	fmt.Fprintf(w, "wrote %s: %d hashes, %.2f bits per hash, %s\n", path, st.Entries, st.BitsPerEntry, byteSize(st.Bytes))
	fmt.Fprintf(w, "read %s: %d lines", name, st.Lines)
	if st.BelowMinCount > 0 {
		fmt.Fprintf(w, ", %d below the minimum count", st.BelowMinCount)
	}
	if st.Duplicates > 0 {
		fmt.Fprintf(w, ", %d duplicates", st.Duplicates)
	}
	if st.BadLines > 0 {
		nums := make([]string, len(st.BadLineNumbers))
		for i, n := range st.BadLineNumbers {
			nums[i] = strconv.FormatInt(n, 10)
		}
		more := ""
		if st.BadLines > int64(len(nums)) {
			more = ", ..."
		}
		fmt.Fprintf(w, ", %d malformed (skipped; lines %s%s)", st.BadLines, strings.Join(nums, ", "), more)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "took %s (reading %s)\n", st.Duration.Round(time.Millisecond), st.ReadDuration.Round(time.Millisecond))
	fmt.Fprintf(w, "false positives: %.3f%% measured on random hashes (1/256 = 0.391%% expected): passwords not in the file that the filter reports breached\n",
		100*st.FalsePositiveRate)
}

// byteSize is e.g. "1.1 GB" or "233 kB".
func byteSize(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.0f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d bytes", n)
}
