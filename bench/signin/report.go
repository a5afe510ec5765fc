package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru/bench/internal/benchkit"
)

// level is the result of one concurrency level.
type level struct {
	Concurrency int
	Load        loadResult
	Raw         rawResult
	PeakRSSKiB  int64 // server VmHWM after the level; -1 unknown
}

// Ratio is sign-ins per second over raw hashes per second (0 if no raw
// hashes were measured).
func (l level) Ratio() float64 {
	if r := l.Raw.PerSecond(); r > 0 {
		return l.Load.PerSecond() / r
	}
	return 0
}

// report is everything the Markdown report shows.
type report struct {
	Command      string
	Started      time.Time
	Mode         string // "serve" or "url"
	Target       string
	Users        int
	ReadyUsers   int
	PrepFailures map[string]int
	Duration     time.Duration
	MaxRequests  int
	MemoryKiB    uint32
	Time         uint32
	Threads      uint8
	MaxHashes    int   // 0: server default
	PeakRSSKiB   int64 // -1 unknown
	Machine      benchkit.Machine
	Levels       []level
	Notes        []string
}

// writeMarkdown writes r as Markdown.
func (r *report) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# mamoru sign-in benchmark\n\n")
	fmt.Fprintf(&b, "Run %s.\n\n", r.Started.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "```\n%s\n```\n\n", r.Command)
	fmt.Fprintf(&b, "| setting | value |\n| --- | --- |\n")
	fmt.Fprintf(&b, "| server | %s (%s) |\n", r.Target, map[string]string{"serve": "started by the tool", "url": "already running"}[r.Mode])
	fmt.Fprintf(&b, "| argon2id | m=%d KiB, t=%d, p=%d |\n", r.MemoryKiB, r.Time, r.Threads)
	hashes := "server default"
	if r.MaxHashes > 0 {
		hashes = fmt.Sprint(r.MaxHashes)
	}
	fmt.Fprintf(&b, "| server concurrent hashes | %s |\n", hashes)
	fmt.Fprintf(&b, "| users | %d created, %d signed in before measuring |\n", r.Users, r.ReadyUsers)
	fmt.Fprintf(&b, "| per level | %v or %d requests, whichever comes first; then the same for raw hashes |\n", r.Duration, r.MaxRequests)
	fmt.Fprintf(&b, "\n## Results\n\n")
	fmt.Fprintf(&b, "| concurrency | sign-ins/s | p50 | p99 | requests | errors | raw argon2id hashes/s | ratio | server peak RSS |\n")
	fmt.Fprintf(&b, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, l := range r.Levels {
		raw := fmt.Sprintf("%.1f", l.Raw.PerSecond())
		if l.Raw.Parallel != l.Concurrency {
			raw += fmt.Sprintf(" (%d goroutines)", l.Raw.Parallel)
		}
		fmt.Fprintf(&b, "| %d | %.1f | %s | %s | %d | %d | %s | %.2f | %s |\n",
			l.Concurrency, l.Load.PerSecond(), benchkit.MS(l.Load.P50), benchkit.MS(l.Load.P99),
			l.Load.Requests, l.Load.Errors, raw, l.Ratio(), benchkit.RSS(l.PeakRSSKiB))
	}
	fmt.Fprintf(&b, "\nratio = sign-ins/s ÷ raw hashes/s at the same parallelism: the share of the machine's hashing capacity that reaches users as sign-ins (a sign-in verifies one hash). Server peak RSS is VmHWM, cumulative since start.\n")
	var errLines []string
	for _, l := range r.Levels {
		for _, k := range benchkit.SortedKeys(l.Load.ErrorKind) {
			errLines = append(errLines, fmt.Sprintf("| %d | %s | %d |", l.Concurrency, k, l.Load.ErrorKind[k]))
		}
	}
	for _, k := range benchkit.SortedKeys(r.PrepFailures) {
		errLines = append(errLines, fmt.Sprintf("| preparation | %s | %d |", k, r.PrepFailures[k]))
	}
	if len(errLines) > 0 {
		fmt.Fprintf(&b, "\n### Errors\n\n| level | kind | count |\n| --- | --- | ---: |\n%s\n", strings.Join(errLines, "\n"))
	}
	fmt.Fprintf(&b, "\n## Server and machine\n\n| | |\n| --- | --- |\n")
	fmt.Fprintf(&b, "| server peak RSS (VmHWM) | %s |\n", benchkit.RSS(r.PeakRSSKiB))
	b.WriteString(r.Machine.MarkdownRows())
	if len(r.Notes) > 0 {
		fmt.Fprintf(&b, "\n## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
