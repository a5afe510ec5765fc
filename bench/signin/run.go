package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
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
	rep := &report{
		Command:     benchkit.ShellQuote(args),
		Started:     time.Now(),
		Users:       cfg.users,
		Duration:    cfg.duration,
		MaxRequests: cfg.maxRequests,
		MemoryKiB:   cfg.argonMemoryKiB,
		Time:        cfg.argonTime,
		Threads:     cfg.argonThreads,
		MaxHashes:   cfg.maxHashes,
		PeakRSSKiB:  -1,
		Machine:     benchkit.ThisMachine(),
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	base := cfg.url
	pid := 0
	if cfg.serve != "" {
		rep.Mode = "serve"
		logf("starting %s", cfg.serve)
		srv, err := benchkit.StartServer(ctx, cfg.serve, cfg.serverEnv(), cfg.startTimeout)
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
		rep.Notes = append(rep.Notes, "The server was already running: its argon2id parameters are its own (the table assumes the flags match them) and its RSS is unknown.")
	}
	rep.Target = base
	readRSS := func() int64 {
		if pid == 0 {
			return -1
		}
		kib, err := benchkit.PeakRSSKiB(pid)
		if err != nil {
			return -1
		}
		return kib
	}

	maxConc := 1
	for _, c := range cfg.concurrency {
		maxConc = max(maxConc, c)
	}
	c := newClient(base, maxConc, cfg.requestTimeout)
	logf("creating %d users at %s", cfg.users, base)
	users, failures := prepare(ctx, c, newUsers(cfg.users))
	rep.ReadyUsers, rep.PrepFailures = len(users), failures
	if len(users) == 0 {
		return fmt.Errorf("no user could sign up and sign in: %v", failures)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	avail := memAvailableKiB()
	for _, conc := range cfg.concurrency {
		logf("concurrency %d: sign-ins for %v", conc, cfg.duration)
		l := level{Concurrency: conc}
		l.Load = runLoad(ctx, c, users, conc, cfg.duration, cfg.maxRequests)
		l.PeakRSSKiB = readRSS()
		par := rawParallelism(conc, cfg.argonMemoryKiB, avail)
		if par < conc {
			rep.Notes = append(rep.Notes, fmt.Sprintf("Raw hashing at concurrency %d used %d goroutines: %d × %d KiB would exceed half the available memory.", conc, par, conc, cfg.argonMemoryKiB))
		}
		logf("concurrency %d: raw argon2id for %v", conc, cfg.duration)
		l.Raw = runRaw(ctx, par, cfg.argonMemoryKiB, cfg.argonTime, cfg.argonThreads, cfg.duration, cfg.maxRequests)
		rep.Levels = append(rep.Levels, l)
		logf("concurrency %d: %.1f sign-ins/s, %.1f raw hashes/s, %d errors", conc, l.Load.PerSecond(), l.Raw.PerSecond(), l.Load.Errors)
		if err := ctx.Err(); err != nil {
			rep.Notes = append(rep.Notes, "Interrupted: later levels were not run.")
			break
		}
	}
	rep.PeakRSSKiB = readRSS()

	var out strings.Builder
	if err := rep.writeMarkdown(&out); err != nil {
		return err
	}
	if err := benchkit.WriteReport(cfg.out, stdout, out.String(), logf); err != nil {
		return err
	}
	return ctx.Err()
}
