package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mamoru-id/mamoru/bench/internal/benchkit"
)

// run is the whole command: args include the program name.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args[1:], stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "approval: "+format+"\n", a...) }
	rep := &report{Command: benchkit.ShellQuote(args), Started: time.Now(), Cfg: *cfg, Machine: benchkit.ThisMachine()}

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
		for _, kv := range os.Environ() {
			if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "MAMORU_") {
				rep.InheritedEnv = append(rep.InheritedEnv, name)
			}
		}
	} else {
		rep.Mode = "url"
		rep.Notes = append(rep.Notes, "The server was already running: it must run with --dev (the mails are read from the dev outbox), MAMORU_RISK_OVERRIDES="+overrides+" and MAMORU_TRUSTED_PROXIES=127.0.0.1/32; its argon2id parameters are its own.")
		if pid == 0 {
			rep.Notes = append(rep.Notes, "No -pid: the server's memory, threads, open files and CPU time are unknown.")
		}
	}
	rep.Target = base
	u, _ := url.Parse(base)
	api := newAPIClient(base, cfg.requestTimeout)
	defer api.http.CloseIdleConnections()
	// The readings leave out this tool's idle keep-alive connections, and
	// /metrics is read over a connection of its own, after the count.
	metricsClient := &http.Client{Timeout: cfg.requestTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	server := func() procState {
		api.http.CloseIdleConnections()
		time.Sleep(100 * time.Millisecond)
		return readProc(ctx, pid, metricsClient, base)
	}
	pause := func(d time.Duration) {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}

	// Preparation: an account per waiting sign-in (a newer request for the
	// same account replaces the older link).
	accts := newAccounts(randomHex(4), cfg.n)
	logf("signing up %d accounts at %s", cfg.n, base)
	t := time.Now()
	signedUp, fails := parallel(ctx, accts, cfg.prepWorkers, api.signUp, every(logf, "sign-ups", cfg.n))
	rep.SignUpTime, rep.SignedUp, rep.PrepFailures = time.Since(t), len(signedUp), benchkit.PrefixKeys("sign-up: ", fails)
	if err := ctx.Err(); err != nil {
		return err
	}
	logf("signing %d accounts in from new devices (each waits for approval)", len(signedUp))
	t = time.Now()
	rep.FirstFlow = t
	waiting, fails := parallel(ctx, signedUp, cfg.prepWorkers, api.signIn, every(logf, "sign-ins", len(signedUp)))
	rep.SignInTime, rep.Waiting = time.Since(t), len(waiting)
	for k, v := range benchkit.PrefixKeys("sign-in: ", fails) {
		rep.PrepFailures[k] = v
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(waiting) == 0 {
		return fmt.Errorf("no sign-in waits for approval: %v", rep.PrepFailures)
	}

	// Before the streams.
	pause(cfg.settle)
	rep.Before = server()

	// Open a stream per waiting sign-in.
	logf("opening %d event streams", len(waiting))
	streamCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	stats := &streamStats{}
	streams := make([]*stream, len(waiting))
	var opened sync.WaitGroup
	var openMu sync.Mutex
	openFailures := map[string]int{}
	sem := make(chan struct{}, cfg.openWorkers)
	t = time.Now()
	var running sync.WaitGroup
	for i, a := range waiting {
		if ctx.Err() != nil {
			break
		}
		s := newStream(a, u.Host, stats)
		streams[i] = s
		sem <- struct{}{}
		opened.Add(1)
		running.Add(1)
		go func() {
			defer running.Done()
			s.run(streamCtx, cfg.requestTimeout, func(err error) {
				if err != nil {
					openMu.Lock()
					openFailures[shortError(ctx, err)]++
					openMu.Unlock()
				}
				<-sem
				opened.Done()
			})
		}()
	}
	opened.Wait()
	rep.OpenTime, rep.OpenFailures = time.Since(t), openFailures
	rep.StreamsOpen = int(stats.opened.Load())
	logf("%d streams open in %v", rep.StreamsOpen, rep.OpenTime.Round(time.Millisecond))
	defer func() {
		for _, s := range streams {
			if s != nil {
				s.stop()
			}
		}
	}()

	// All waiting, nothing else going on.
	pause(cfg.settle)
	rep.Open = server()
	rep.ToolOpen = selfState()
	logf("waiting phase: %v", cfg.idle)
	ka0, cut0 := stats.keepAlives.Load(), stats.cut.Load()
	pause(cfg.idle)
	rep.IdleEnd = server()
	rep.IdleKeepAlives, rep.IdleCuts = stats.keepAlives.Load()-ka0, stats.cut.Load()-cut0
	if err := ctx.Err(); err != nil {
		return err
	}

	// Approvals, one at a time, while the others wait.
	k := min(cfg.k, len(waiting))
	logf("approving %d sign-ins one at a time", k)
	t = time.Now()
	cut1 := stats.cut.Load()
	for i := range k {
		if ctx.Err() != nil {
			break
		}
		if cfg.approveEvery > 0 {
			if wait := time.Until(t.Add(time.Duration(i) * cfg.approveEvery)); wait > 0 {
				pause(wait)
			}
		}
		// The last sign-ins are approved: their requests, valid for 10
		// minutes from the sign-in, are the youngest.
		j := len(waiting) - k + i
		if streams[j] == nil {
			continue
		}
		rep.Approvals = append(rep.Approvals, api.approve(ctx, waiting[j], cfg.requestTimeout))
	}
	rep.ApproveTime = time.Since(t)
	rep.ApproveCuts = stats.cut.Load() - cut1
	pause(cfg.settle)
	rep.After = server()

	// Close every stream: what the server gives back.
	logf("closing the streams")
	rep.StreamPhase = time.Since(rep.Open.at)
	stopStreams()
	for _, s := range streams {
		if s != nil {
			s.stop()
		}
	}
	running.Wait()
	pause(cfg.settle)
	rep.Closed = server()
	rep.Tool = selfState()
	rep.Stats = stats

	if ctx.Err() != nil {
		rep.Notes = append(rep.Notes, "Interrupted: the run was cut short.")
	}
	var out strings.Builder
	rep.writeMarkdown(&out)
	if err := benchkit.WriteReport(cfg.out, stdout, out.String(), logf); err != nil {
		return err
	}
	return ctx.Err()
}
