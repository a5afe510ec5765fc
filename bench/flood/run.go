package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mamoru-id/mamoru/bench/internal/benchkit"
)

// snapshot is the state read at a phase boundary.
type snapshot struct {
	at        time.Time
	metrics   metrics
	serverCPU time.Duration // -1: unknown
	toolCPU   time.Duration // -1: unknown
}

// run is the whole command: args include the program name.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args[1:], stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "flood: "+format+"\n", a...) }

	passwords, err := loadPasswords(cfg.passwords)
	if err != nil {
		return err
	}
	rep := &report{
		Command:    benchkit.ShellQuote(args),
		Started:    time.Now(),
		Cfg:        *cfg,
		Passwords:  len(passwords),
		PeakRSSKiB: -1,
		Machine:    benchkit.ThisMachine(),
	}

	// Addresses: distinct across the attack, the users and the victims.
	gen := newAddrGen(rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))
	attackIPs := gen.strings(cfg.ips, cfg.ipv6Share)
	runID := randomHex(4)
	users := make([]*user, cfg.users)
	for i, a := range newAccounts(runID, "user", cfg.users, gen.strings(cfg.users, 0.2)) {
		users[i] = newUser(a)
	}
	victims := make([]*user, cfg.victims)
	for i, a := range newAccounts(runID, "victim", cfg.victims, gen.strings(cfg.victims, 0.2)) {
		victims[i] = newUser(a)
	}

	base, pid := cfg.url, cfg.pid
	if cfg.serve != "" {
		rep.Mode = "serve"
		rep.ServerEnv = cfg.serverEnv()
		logf("starting %s", cfg.serve)
		srv, err := benchkit.StartServer(ctx, cfg.serve, rep.ServerEnv, cfg.startTimeout)
		if err != nil {
			return err
		}
		defer srv.Stop()
		base, pid = srv.URL, srv.PID()
		if err := benchkit.CheckLoopback(base); err != nil {
			return fmt.Errorf("the server printed %s: %w", base, err)
		}
	} else {
		rep.Mode = "url"
		rep.Notes = append(rep.Notes, "The server was already running: it must trust X-Forwarded-For from 127.0.0.1 (MAMORU_TRUSTED_PROXIES=127.0.0.1/32), or every attempt comes from one address.")
		if pid == 0 {
			rep.Notes = append(rep.Notes, "No -pid: the server's CPU time and RSS are unknown.")
		}
	}
	rep.Target = base
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "MAMORU_") && cfg.serve != "" {
			rep.InheritedEnv = append(rep.InheritedEnv, name)
		}
	}
	u, _ := url.Parse(base)

	api := newAPIClient(base, cfg.requestTimeout)
	defer api.http.CloseIdleConnections()
	snap := func() snapshot {
		s := snapshot{at: time.Now(), serverCPU: -1, toolCPU: -1}
		s.metrics = scrapeMetrics(ctx, api.http, base)
		if pid > 0 {
			if d, err := benchkit.CPUTime(pid); err == nil {
				s.serverCPU = d
			}
		}
		if d, err := benchkit.SelfCPUTime(); err == nil {
			s.toolCPU = d
		}
		return s
	}
	if m := scrapeMetrics(ctx, api.http, base); !m.ok {
		logf("no server metrics (%s): hash figures will be unknown", m.why)
	}

	// Preparation.
	logf("creating %d legitimate users at %s (sign-up and first sign-in)", len(users), base)
	readyUsers, fails := api.prepare(ctx, users, true, nil)
	rep.ReadyUsers, rep.PrepFailures = len(readyUsers), benchkit.PrefixKeys("user ", fails)
	if len(readyUsers) == 0 {
		return fmt.Errorf("no legitimate user could sign up and sign in: %v", fails)
	}
	logf("creating %d victim accounts", len(victims))
	var lastLog atomic.Int64
	lastLog.Store(time.Now().UnixNano())
	readyVictims, fails := api.prepare(ctx, victims, false, func(done int) {
		last, now := lastLog.Load(), time.Now().UnixNano()
		if now-last > int64(5*time.Second) && lastLog.CompareAndSwap(last, now) {
			logf("  %d/%d victims", done, len(victims))
		}
	})
	rep.ReadyVictims = len(readyVictims)
	for k, v := range benchkit.PrefixKeys("victim ", fails) {
		rep.PrepFailures[k] = v
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	plan := &attackPlan{addr: u.Host, ips: attackIPs, unknown: "flood-" + runID + "-nobody-", knownShare: cfg.knownShare}
	for _, p := range passwords {
		plan.passwords = append(plan.passwords, jsonString(p))
	}
	for _, x := range append(append([]*user{}, readyUsers...), readyVictims...) {
		plan.known = append(plan.known, jsonString(x.email))
	}
	rep.KnownAccounts = len(plan.known)

	// Baseline: the legitimate load alone.
	logf("baseline: %.4g legitimate sign-ins/s for %v", cfg.legitRate, cfg.baseline)
	s0 := snap()
	legit := api.runLegit(ctx, readyUsers, cfg.legitRate, s0.at, cfg.baseline)
	s1 := snap()
	rep.Baseline = phase{Name: "baseline", Elapsed: cfg.baseline, Legit: legit, From: s0, To: s1}
	if err := ctx.Err(); err != nil {
		return err
	}

	// The wave: the attack and the same legitimate load.
	mode := "as fast as the connections allow"
	if cfg.attackRate > 0 {
		mode = fmt.Sprintf("at %.6g/s", cfg.attackRate)
	}
	logf("wave: %d attack connections %s and %.4g legitimate sign-ins/s for %v", cfg.concurrency, mode, cfg.legitRate, cfg.duration)
	start := time.Now()
	split, deadline := start.Add(cfg.settle), start.Add(cfg.duration)
	hasSplit := cfg.settle > 0 && cfg.settle < cfg.duration
	if !hasSplit {
		split = deadline.Add(time.Hour) // nothing falls after it
	}
	var s2 snapshot
	splitDone := make(chan struct{})
	go func() {
		defer close(splitDone)
		if !hasSplit {
			return
		}
		t := time.NewTimer(time.Until(split))
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
			s2 = snap()
		}
	}()
	legitDone := make(chan []outcome, 1)
	go func() { legitDone <- api.runLegit(ctx, readyUsers, cfg.legitRate, start, cfg.duration) }()
	atk := runAttack(ctx, plan, cfg.concurrency, cfg.attackRate, cfg.requestTimeout, start, split, deadline)
	legit = <-legitDone
	<-splitDone
	s3 := snap()
	if atk.end.IsZero() {
		atk.end = deadline
	}
	rep.Late = atk.late
	whole := atk.win[0]
	whole.add(&atk.win[1])
	rep.Wave = phase{Name: "wave", Elapsed: atk.end.Sub(start), Attack: &whole, Legit: legit, From: s1, To: s3}
	if hasSplit && !s2.at.IsZero() {
		var after []outcome
		for _, o := range legit {
			if !o.at.Before(split) {
				after = append(after, o)
			}
		}
		rep.Steady = &phase{Name: fmt.Sprintf("wave after %v", cfg.settle), Elapsed: atk.end.Sub(split), Attack: &atk.win[1], Legit: after, From: s2, To: s3}
	}
	logf("wave: %d attack attempts, %d rejected (%.1f/s)", whole.sent, whole.rejected, rep.Wave.rejectionsPerSecond())

	if pid > 0 {
		if kib, err := benchkit.PeakRSSKiB(pid); err == nil {
			rep.PeakRSSKiB = kib
		}
	}
	if ctx.Err() != nil {
		rep.Notes = append(rep.Notes, "Interrupted: the wave was cut short.")
	}

	var out strings.Builder
	if err := rep.writeMarkdown(&out); err != nil {
		return err
	}
	if err := benchkit.WriteReport(cfg.out, stdout, out.String(), logf); err != nil {
		return err
	}
	return ctx.Err()
}
