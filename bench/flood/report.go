package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru/bench/internal/benchkit"
)

// The targets of the attack-protection issue.
const (
	targetRejectionsPerSecond = 20000
	targetP99Factor           = 2.0
	targetHashShare           = 0.01
)

// phase is one window of the run: the baseline, the whole wave, or the
// wave after its settling time.
type phase struct {
	Name     string
	Elapsed  time.Duration // wall time (wave: until the last attack answer)
	Attack   *counts       // nil in the baseline
	Legit    []outcome
	From, To snapshot
}

func (p *phase) rejectionsPerSecond() float64 {
	if p.Attack == nil || p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Attack.rejected) / p.Elapsed.Seconds()
}

// serverCPU is the server's CPU time over the phase, or -1.
func (p *phase) serverCPU() time.Duration {
	if p.From.serverCPU < 0 || p.To.serverCPU < 0 {
		return -1
	}
	return p.To.serverCPU - p.From.serverCPU
}

func (p *phase) toolCPU() time.Duration {
	if p.From.toolCPU < 0 || p.To.toolCPU < 0 {
		return -1
	}
	return p.To.toolCPU - p.From.toolCPU
}

// verifications is the server's password verifications over the phase;
// ok is false when the metrics are missing at either end.
func (p *phase) verifications() (float64, bool) {
	if !p.From.metrics.ok || !p.To.metrics.ok {
		return 0, false
	}
	return p.To.metrics.verifications - p.From.metrics.verifications, true
}

// legitReached counts the legitimate sign-ins whose answer implies a
// verification.
func (p *phase) legitReached() int {
	n := 0
	for _, o := range p.Legit {
		if reachesHash(o.class) {
			n++
		}
	}
	return n
}

// attackReached is the verifications not explained by legitimate
// sign-ins (never below zero); ok as for verifications.
func (p *phase) attackReached() (float64, bool) {
	v, ok := p.verifications()
	if !ok || p.Attack == nil {
		return 0, false
	}
	return max(0, v-float64(p.legitReached())), true
}

// legitStats summarizes the legitimate sign-ins of a phase.
type legitStats struct {
	n, ok, captchas int
	solve           time.Duration // total solving time
	p50, p99        time.Duration
	classes         map[string]int64
}

func (p *phase) legit() legitStats {
	s := legitStats{n: len(p.Legit), classes: map[string]int64{}}
	lat := make([]time.Duration, 0, len(p.Legit))
	for _, o := range p.Legit {
		lat = append(lat, o.latency)
		if o.class == cSignedIn {
			s.ok++
		}
		if o.captcha {
			s.captchas++
			s.solve += o.solveTime
		}
		s.classes[o.describe()]++
	}
	slices.Sort(lat)
	s.p50, s.p99 = benchkit.Percentile(lat, 50), benchkit.Percentile(lat, 99)
	return s
}

// report is everything the Markdown report shows.
type report struct {
	Command       string
	Started       time.Time
	Cfg           config
	Mode          string // "serve" or "url"
	Target        string
	ServerEnv     []string // set by the tool on a started server
	InheritedEnv  []string // MAMORU_* names the started server inherited
	Passwords     int
	ReadyUsers    int
	ReadyVictims  int
	KnownAccounts int
	PrepFailures  map[string]int
	Baseline      phase
	Wave          phase
	Steady        *phase // nil when the wave is not longer than -settle
	Late          int64  // open-loop attack attempts sent late
	PeakRSSKiB    int64  // -1 unknown
	Machine       benchkit.Machine
	Notes         []string
}

// verdict is PASS, FAIL or UNKNOWN.
func verdict(known, pass bool) string {
	switch {
	case !known:
		return "UNKNOWN"
	case pass:
		return "PASS"
	}
	return "FAIL"
}

func pct(part, whole float64) string {
	if whole <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f%%", 100*part/whole)
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// cpu formats CPU time over a wall time: "3.2 s (1.60 cores)".
func cpu(d, wall time.Duration) string {
	if d < 0 {
		return "unknown"
	}
	if wall <= 0 {
		return seconds(d)
	}
	return fmt.Sprintf("%s (%.2f cores)", seconds(d), d.Seconds()/wall.Seconds())
}

// writeMarkdown writes r as Markdown.
func (r *report) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	c := r.Cfg
	phases := []*phase{&r.Baseline, &r.Wave}
	if r.Steady != nil {
		phases = append(phases, r.Steady)
	}
	steadyName := fmt.Sprintf("wave after %v", c.settle)

	fmt.Fprintf(&b, "# mamoru credential-stuffing flood\n\n")
	fmt.Fprintf(&b, "Run %s.\n\n", r.Started.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "```\n%s\n```\n\n", r.Command)

	// Setup.
	fmt.Fprintf(&b, "| setting | value |\n| --- | --- |\n")
	fmt.Fprintf(&b, "| server | %s (%s) |\n", r.Target, map[string]string{"serve": "started by the tool", "url": "already running"}[r.Mode])
	if len(r.ServerEnv) > 0 {
		env := "`" + strings.Join(r.ServerEnv, "`, `") + "`"
		if len(r.InheritedEnv) > 0 {
			env += "; inherited: `" + strings.Join(r.InheritedEnv, "`, `") + "`"
		}
		fmt.Fprintf(&b, "| server environment | %s |\n", env)
	}
	fmt.Fprintf(&b, "| legitimate users | %d created, %d signed in once before the baseline; each keeps one address, one browser and its cookies |\n", c.users, r.ReadyUsers)
	fmt.Fprintf(&b, "| victim accounts | %d created, %d ready (random strong passwords) |\n", c.victims, r.ReadyVictims)
	fmt.Fprintf(&b, "| legitimate load | %.4g sign-ins/s, open loop, in the baseline and in the wave |\n", c.legitRate)
	attack := fmt.Sprintf("%d connections, closed loop (as fast as answers come)", c.concurrency)
	if c.attackRate > 0 {
		attack = fmt.Sprintf("%.6g attempts/s, open loop, over %d connections", c.attackRate, c.concurrency)
	}
	fmt.Fprintf(&b, "| attack | %s |\n", attack)
	fmt.Fprintf(&b, "| attack credentials | %.0f%% addresses of the %d accounts (legitimate users included), the rest unknown; passwords from %d common ones (%s) |\n",
		100*c.knownShare, r.KnownAccounts, r.Passwords, shortPath(c.passwords))
	fmt.Fprintf(&b, "| attack sources | %d random public addresses (%.0f%% IPv6) in X-Forwarded-For; random browser; no cookies; never solves a CAPTCHA |\n", c.ips, 100*c.ipv6Share)
	fmt.Fprintf(&b, "| phases | baseline %v, wave %v; steady state: the wave after %v |\n", c.baseline, c.duration, c.settle)
	metricsState := "available"
	if !r.Wave.From.metrics.ok {
		metricsState = "unknown: " + r.Wave.From.metrics.why
	}
	fmt.Fprintf(&b, "| server metrics | %s |\n", metricsState)

	// Targets.
	fmt.Fprintf(&b, "\n## Targets\n\n| target | measured | result |\n| --- | ---: | --- |\n")
	rp := &r.Wave
	if r.Steady != nil {
		rp = r.Steady
	}
	fmt.Fprintf(&b, "| attack attempts rejected per second ≥ %d (%s) | %.1f | %s |\n", targetRejectionsPerSecond, rp.Name, rp.rejectionsPerSecond(),
		verdict(true, rp.rejectionsPerSecond() >= targetRejectionsPerSecond))
	bl, wl := r.Baseline.legit(), r.Wave.legit()
	limit := time.Duration(targetP99Factor * float64(bl.p99))
	fmt.Fprintf(&b, "| legitimate p99 in the wave ≤ %.0f × baseline p99 (≤ %s) | %s | %s |\n", targetP99Factor, benchkit.MS(limit), benchkit.MS(wl.p99),
		verdict(bl.n > 0 && wl.n > 0, wl.p99 <= limit))
	if r.Steady == nil {
		fmt.Fprintf(&b, "| attack attempts reaching the password hash ≤ %.0f%% after the first %v of the wave | the wave is not longer than %v | UNKNOWN |\n", 100*targetHashShare, c.settle, c.settle)
	} else {
		reached, ok := r.Steady.attackReached()
		measured := "unknown"
		if ok {
			measured = pct(reached, float64(r.Steady.Attack.sent))
		}
		fmt.Fprintf(&b, "| attack attempts reaching the password hash ≤ %.0f%% (%s) | %s | %s |\n", 100*targetHashShare, steadyName, measured,
			verdict(ok && r.Steady.Attack.sent > 0, ok && r.Steady.Attack.sent > 0 && reached <= targetHashShare*float64(r.Steady.Attack.sent)))
	}
	if wl.n > 0 {
		fmt.Fprintf(&b, "\nLegitimate sign-ins that succeeded in the wave: %s (baseline %s).\n", pct(float64(wl.ok), float64(wl.n)), pct(float64(bl.ok), float64(bl.n)))
	}

	// Results.
	fmt.Fprintf(&b, "\n## Results\n\n|")
	for _, p := range phases {
		fmt.Fprintf(&b, " | %s", p.Name)
	}
	fmt.Fprintf(&b, " |\n| ---%s |\n", strings.Repeat(" | ---:", len(phases)))
	row := func(name string, f func(p *phase) string) {
		fmt.Fprintf(&b, "| %s", name)
		for _, p := range phases {
			fmt.Fprintf(&b, " | %s", f(p))
		}
		fmt.Fprintf(&b, " |\n")
	}
	attackRow := func(name string, f func(p *phase) string) {
		row(name, func(p *phase) string {
			if p.Attack == nil {
				return "—"
			}
			return f(p)
		})
	}
	row("wall time", func(p *phase) string { return seconds(p.Elapsed) })
	attackRow("attack attempts", func(p *phase) string { return fmt.Sprint(p.Attack.sent) })
	attackRow("attack attempts/s", func(p *phase) string { return fmt.Sprintf("%.1f", float64(p.Attack.sent)/p.Elapsed.Seconds()) })
	attackRow("rejected", func(p *phase) string { return fmt.Sprint(p.Attack.rejected) })
	attackRow("**rejected/s**", func(p *phase) string { return fmt.Sprintf("**%.1f**", p.rejectionsPerSecond()) })
	row("server CPU", func(p *phase) string { return cpu(p.serverCPU(), p.To.at.Sub(p.From.at)) })
	attackRow("**server CPU per rejection**", func(p *phase) string {
		if p.serverCPU() < 0 || p.Attack.rejected == 0 {
			return "unknown"
		}
		return fmt.Sprintf("**%.0f µs**", float64(p.serverCPU().Microseconds())/float64(p.Attack.rejected))
	})
	row("password verifications (server)", func(p *phase) string {
		v, ok := p.verifications()
		if !ok {
			return "unknown"
		}
		return fmt.Sprintf("%.0f", v)
	})
	row("legitimate sign-ins that reached the hash", func(p *phase) string { return fmt.Sprint(p.legitReached()) })
	attackRow("**attack attempts that reached the hash**", func(p *phase) string {
		v, ok := p.attackReached()
		if !ok {
			return "unknown"
		}
		return fmt.Sprintf("**%.0f (%s)**", v, pct(v, float64(p.Attack.sent)))
	})
	row("legitimate sign-ins", func(p *phase) string { return fmt.Sprint(len(p.Legit)) })
	row("**legitimate success**", func(p *phase) string {
		s := p.legit()
		return fmt.Sprintf("**%s**", pct(float64(s.ok), float64(s.n)))
	})
	row("**legitimate p50**", func(p *phase) string { return "**" + benchkit.MS(p.legit().p50) + "**" })
	row("**legitimate p99**", func(p *phase) string { return "**" + benchkit.MS(p.legit().p99) + "**" })
	row("CAPTCHAs solved by legitimate users", func(p *phase) string {
		s := p.legit()
		if s.captchas == 0 {
			return "0"
		}
		return fmt.Sprintf("%d (mean %s to solve)", s.captchas, benchkit.MS(s.solve/time.Duration(s.captchas)))
	})
	row("legitimate share of requests", func(p *phase) string {
		if p.Attack == nil {
			return "100%"
		}
		return pct(float64(len(p.Legit)), float64(len(p.Legit))+float64(p.Attack.sent))
	})
	row("this tool's CPU", func(p *phase) string { return cpu(p.toolCPU(), p.To.at.Sub(p.From.at)) })

	fmt.Fprintf(&b, "\nWall time of the wave: until the last attack answer (attempts in flight at the end are waited for, up to -request-timeout). "+
		"Rejected: attack attempts answered with anything but a sign-in or a further sign-in step (invalid_credentials, captcha_required, rate_limited, locked, other 4xx, 503). "+
		"Server CPU per rejection: the server process's utime+stime over the phase (legitimate sign-ins included) ÷ rejections. "+
		"Attack attempts that reached the hash: the server's %s over the phase minus the legitimate sign-ins answered after a verification (signed_in, invalid_credentials, challenge_required, approval_required, password_reset_required). "+
		"Legitimate latency counts from when a sign-in was due to its final answer, CAPTCHA included, whatever the answer; one that times out counts with its time (about -request-timeout %v) and as a failure.\n", metricVerifications, c.requestTimeout)

	// Answers by class.
	attackPhases := phases[1:]
	classTable := func(title, column string, ps []*phase, get func(p *phase) map[string]int64) {
		keys := map[string]bool{}
		for _, p := range ps {
			for k := range get(p) {
				keys[k] = true
			}
		}
		if len(keys) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n### %s\n\n| %s", title, column)
		for _, p := range ps {
			fmt.Fprintf(&b, " | %s", p.Name)
		}
		fmt.Fprintf(&b, " |\n| ---%s |\n", strings.Repeat(" | ---:", len(ps)))
		for _, k := range benchkit.SortedKeys(keys) {
			fmt.Fprintf(&b, "| %s", k)
			for _, p := range ps {
				fmt.Fprintf(&b, " | %d", get(p)[k])
			}
			fmt.Fprintf(&b, " |\n")
		}
	}
	classTable("Attack answers", "answer", attackPhases, func(p *phase) map[string]int64 { return p.Attack.byName() })
	classTable("Legitimate answers", "answer", phases, func(p *phase) map[string]int64 { return p.legit().classes })
	classTable("Guard rejections (server metrics)", "reason", phases, func(p *phase) map[string]int64 {
		m := map[string]int64{}
		if !p.From.metrics.ok || !p.To.metrics.ok {
			return m
		}
		for k, v := range p.To.metrics.guard {
			if d := int64(v - p.From.metrics.guard[k]); d != 0 {
				m[k] = d
			}
		}
		return m
	})
	if len(r.PrepFailures) > 0 {
		fmt.Fprintf(&b, "\n### Preparation failures\n\n| kind | count |\n| --- | ---: |\n")
		for _, k := range benchkit.SortedKeys(r.PrepFailures) {
			fmt.Fprintf(&b, "| %s | %d |\n", k, r.PrepFailures[k])
		}
	}

	fmt.Fprintf(&b, "\n## Server and machine\n\n| | |\n| --- | --- |\n")
	fmt.Fprintf(&b, "| server peak RSS (VmHWM) | %s |\n", benchkit.RSS(r.PeakRSSKiB))
	b.WriteString(r.Machine.MarkdownRows())

	notes := slices.Clone(r.Notes)
	if r.Late > 0 {
		notes = append(notes, fmt.Sprintf("%d attack attempts were sent more than 100 ms late: the generator or its connections could not keep the -attack-rate.", r.Late))
	}
	if a := r.Wave.Attack; a != nil {
		if a.noRetryAfter > 0 {
			notes = append(notes, fmt.Sprintf("%d rate_limited answers to the attack had no Retry-After header.", a.noRetryAfter))
		}
		if n := a.n[cSignedIn] + a.n[cChallenge] + a.n[cApproval] + a.n[cResetRequired]; n > 0 {
			notes = append(notes, fmt.Sprintf("%d attack attempts were answered as if the password were right: an account of this run has a password from the list?", n))
		}
	}
	notes = append(notes, "The server and this tool share the machine: the tool's CPU row shows its part. Legitimate latency includes the tool's own scheduling delays.")
	fmt.Fprintf(&b, "\n## Notes\n\n")
	for _, n := range notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// shortPath shows a path relative to the repository when it lies inside.
func shortPath(p string) string {
	if i := strings.LastIndex(p, defaultPasswordList); i >= 0 && i+len(defaultPasswordList) == len(p) {
		return defaultPasswordList
	}
	return p
}
