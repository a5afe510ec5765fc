package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru/bench/internal/benchkit"
)

// report is everything the Markdown report shows.
type report struct {
	Command      string
	Started      time.Time
	Cfg          config
	Mode         string // "serve" or "url"
	Target       string
	ServerEnv    []string
	InheritedEnv []string
	SignedUp     int
	Waiting      int
	SignUpTime   time.Duration
	SignInTime   time.Duration
	FirstFlow    time.Time
	PrepFailures map[string]int

	OpenTime     time.Duration
	OpenFailures map[string]int
	StreamsOpen  int

	Before, Open, IdleEnd, After, Closed procState // the server
	ToolOpen, Tool                       procState // this process
	IdleKeepAlives, IdleCuts             int64
	Approvals                            []approval
	ApproveTime                          time.Duration
	ApproveCuts                          int64
	StreamPhase                          time.Duration
	Stats                                *streamStats

	Machine benchkit.Machine
	Notes   []string
}

func num(n int64) string {
	if n < 0 {
		return "unknown"
	}
	return fmt.Sprint(n)
}

func kib(n int64) string { return benchkit.RSS(n) }

// perStream is (b - a) / n as a decimal, or "unknown".
func perStream(a, b int64, n int, unit float64, format string) string {
	if a < 0 || b < 0 || n <= 0 {
		return "unknown"
	}
	return fmt.Sprintf(format, float64(b-a)*unit/float64(n))
}

func cpuOver(a, b procState) (time.Duration, time.Duration, bool) {
	if a.cpu < 0 || b.cpu < 0 {
		return 0, 0, false
	}
	return b.cpu - a.cpu, b.at.Sub(a.at), true
}

// writeMarkdown writes r as Markdown.
func (r *report) writeMarkdown(w io.Writer) {
	var b strings.Builder
	c := r.Cfg
	fmt.Fprintf(&b, "# mamoru sign-in approval: waiting sign-ins and approvals\n\n")
	fmt.Fprintf(&b, "Run %s.\n\n```\n%s\n```\n\n", r.Started.UTC().Format(time.RFC3339), r.Command)

	fmt.Fprintf(&b, "| setting | value |\n| --- | --- |\n")
	fmt.Fprintf(&b, "| server | %s (%s) |\n", r.Target, map[string]string{"serve": "started by the tool", "url": "already running"}[r.Mode])
	if len(r.ServerEnv) > 0 {
		env := "`" + strings.Join(r.ServerEnv, "`, `") + "`"
		if len(r.InheritedEnv) > 0 {
			env += "; inherited: `" + strings.Join(r.InheritedEnv, "`, `") + "`"
		}
		fmt.Fprintf(&b, "| server environment | %s |\n", env)
	}
	fmt.Fprintf(&b, "| accounts | %d created (sign-up) in %s; %d signed in from a new device and wait for approval (sign-ins took %s) |\n",
		r.SignedUp, seconds(r.SignUpTime), r.Waiting, seconds(r.SignInTime))
	fmt.Fprintf(&b, "| event streams | %d open, one raw HTTP/1.1 connection each from this process (opened %d at a time in %s) |\n",
		r.StreamsOpen, c.openWorkers, seconds(r.OpenTime))
	fmt.Fprintf(&b, "| waiting phase | %s with nothing but the open streams |\n", seconds(c.idle))
	every := "each right after the last"
	if c.approveEvery > 0 {
		every = fmt.Sprintf("one every %v", c.approveEvery)
	}
	fmt.Fprintf(&b, "| approvals | %d, one at a time (%s), in %s; the last %d sign-ins made (approval links live 10 minutes from the sign-in) |\n", len(r.Approvals), every, seconds(r.ApproveTime), len(r.Approvals))
	if len(r.PrepFailures) > 0 {
		fmt.Fprintf(&b, "| preparation failures | %s |\n", kinds(r.PrepFailures))
	}
	if len(r.OpenFailures) > 0 {
		fmt.Fprintf(&b, "| streams not opened | %s |\n", kinds(r.OpenFailures))
	}
	b.WriteString("\n")

	// 1. Cost per waiting sign-in.
	n := r.StreamsOpen
	fmt.Fprintf(&b, "## Cost of a waiting sign-in\n\n")
	fmt.Fprintf(&b, "The server process (`/proc/PID/status`, `/proc/PID/fd`, `go_goroutines` of `/metrics` when exported), %s after each step.\n\n", seconds(c.settle))
	fmt.Fprintf(&b, "| | %d flows waiting, no stream | %d streams open | after %d approvals | all streams closed |\n| --- | ---: | ---: | ---: | ---: |\n", r.Waiting, n, len(r.Approvals))
	row := func(name string, f func(procState) string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", name, f(r.Before), f(r.Open), f(r.After), f(r.Closed))
	}
	row("RSS (VmRSS)", func(s procState) string { return kib(s.rssKiB) })
	row("peak RSS (VmHWM)", func(s procState) string { return kib(s.hwmKiB) })
	row("OS threads", func(s procState) string { return num(s.threads) })
	row("open file descriptors", func(s procState) string { return num(s.fds) })
	row("goroutines", func(s procState) string { return num(s.goroutines) })
	fmt.Fprintf(&b, "\n| per waiting sign-in (open streams − no stream, ÷ %d) | |\n| --- | ---: |\n", n)
	fmt.Fprintf(&b, "| **memory** | **%s** |\n", perStream(r.Before.rssKiB, r.Open.rssKiB, n, 1024, "%.0f bytes"))
	fmt.Fprintf(&b, "| file descriptors | %s |\n", perStream(r.Before.fds, r.Open.fds, n, 1, "%.3f"))
	fmt.Fprintf(&b, "| OS threads | %s |\n", perStream(r.Before.threads, r.Open.threads, n, 1, "%.4f"))
	fmt.Fprintf(&b, "| goroutines | %s |\n", perStream(r.Before.goroutines, r.Open.goroutines, n, 1, "%.2f"))
	b.WriteString("\nThe open files include the server's database connections, whose pool may grow while streams are being opened (each opening reads the flow) and stay grown.\n\n")

	// 2. Approvals.
	var ev, sess, click, follow []time.Duration
	failures := map[string]int{}
	for _, a := range r.Approvals {
		if a.err != "" {
			failures[a.err]++
			continue
		}
		ev, sess, click, follow = append(ev, a.toEvent), append(sess, a.toSession), append(click, a.click), append(follow, a.followUp)
	}
	fmt.Fprintf(&b, "## Approve click → the waiting client's session\n\n")
	fmt.Fprintf(&b, "%d approvals, %d signed the waiting client in, while the other sign-ins waited with their streams open. Times from sending the owner's approve POST.\n\n", len(r.Approvals), len(ev))
	fmt.Fprintf(&b, "| | p50 | p99 | max |\n| --- | ---: | ---: | ---: |\n")
	lat := func(name string, d []time.Duration) {
		slices.Sort(d)
		var mx time.Duration
		if len(d) > 0 {
			mx = d[len(d)-1]
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, benchkit.MS(benchkit.Percentile(d, 50)), benchkit.MS(benchkit.Percentile(d, 99)), benchkit.MS(mx))
	}
	lat("**approve → `signed_in`** (event received, then POST /api/v1/signin/approval)", sess)
	lat("**approve → `event: decided`** on the waiting stream", ev)
	lat("the approve POST's own answer", click)
	lat("the follow-up POST /api/v1/signin/approval alone", follow)
	if len(failures) > 0 {
		fmt.Fprintf(&b, "\nFailed approvals: %s.\n", kinds(failures))
	}
	b.WriteString("\n")

	// 3. The waiting phase.
	fmt.Fprintf(&b, "## The waiting phase\n\n")
	fmt.Fprintf(&b, "| | |\n| --- | ---: |\n")
	if d, wall, ok := cpuOver(r.Open, r.IdleEnd); ok {
		fmt.Fprintf(&b, "| **server CPU while %d sign-ins wait** | **%s over %s (%.3f cores)** |\n", n, seconds(d), seconds(wall), d.Seconds()/wall.Seconds())
		if n > 0 {
			fmt.Fprintf(&b, "| per waiting sign-in | %.1f µs of CPU per second |\n", d.Seconds()*1e6/wall.Seconds()/float64(n))
		}
	} else {
		fmt.Fprintf(&b, "| server CPU while %d sign-ins wait | unknown |\n", n)
	}
	if d, wall, ok := cpuOver(r.IdleEnd, r.After); ok {
		fmt.Fprintf(&b, "| server CPU during the approvals | %s over %s (%.3f cores) |\n", seconds(d), seconds(wall), d.Seconds()/wall.Seconds())
	}
	fmt.Fprintf(&b, "| keep-alive comments received in the waiting phase | %d |\n", r.IdleKeepAlives)
	if r.Stats != nil {
		r.Stats.mu.Lock()
		cuts := slices.Clone(r.Stats.cutAfter)
		r.Stats.mu.Unlock()
		slices.Sort(cuts)
		fmt.Fprintf(&b, "| streams the server ended before the answer | %d (%d in the waiting phase, %d during the approvals); each reopened after %v like EventSource |\n",
			r.Stats.cut.Load(), r.IdleCuts, r.ApproveCuts, reconnectDelay)
		if len(cuts) > 0 {
			fmt.Fprintf(&b, "| their lifetime | p50 %s, min %s, max %s |\n", seconds(benchkit.Percentile(cuts, 50)), seconds(cuts[0]), seconds(cuts[len(cuts)-1]))
		}
		if f := r.Stats.failed.Load(); f > 0 {
			r.Stats.mu.Lock()
			fmt.Fprintf(&b, "| streams that could not be (re)opened | %d: %s |\n", f, kinds(r.Stats.failures))
			r.Stats.mu.Unlock()
		}
	}
	fmt.Fprintf(&b, "| streams open from the first reading to the last | %s |\n", seconds(r.StreamPhase))
	fmt.Fprintf(&b, "| this tool | RSS %s with the streams open; CPU %s in all |\n", kib(r.ToolOpen.rssKiB), cpuText(r.Tool.cpu))
	b.WriteString("\n")

	fmt.Fprintf(&b, "## Machine\n\n| | |\n| --- | --- |\n%s\n", r.Machine.MarkdownRows())
	if len(r.Notes) > 0 {
		fmt.Fprintf(&b, "## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	io.WriteString(w, b.String())
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func cpuText(d time.Duration) string {
	if d < 0 {
		return "unknown"
	}
	return seconds(d)
}

// kinds renders counts by kind: "timeout 3, http 429 rate_limited 1".
func kinds(m map[string]int) string {
	var parts []string
	for _, k := range benchkit.SortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, "; ")
}
