package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/account"
	"github.com/mamoru-id/mamoru/breach"
	"github.com/mamoru-id/mamoru/catalog"
	"github.com/mamoru-id/mamoru/clientip"
	"github.com/mamoru-id/mamoru/delivery"
	"github.com/mamoru-id/mamoru/event"
	"github.com/mamoru-id/mamoru/geoip"
	"github.com/mamoru-id/mamoru/guard"
	"github.com/mamoru-id/mamoru/mfa"
	"github.com/mamoru-id/mamoru/notify"
	"github.com/mamoru-id/mamoru/risk"
	"github.com/mamoru-id/mamoru/session"
	"github.com/mamoru-id/mamoru/signin"
	"github.com/mamoru-id/mamoru/useragent"
	"github.com/mamoru-id/mamoru/web"
	"github.com/mamoru-id/mamoru/webhook"
)

// cmdServe implements `mamoru serve`.
func cmdServe(ctx context.Context, env *environment, args []string) error {
	var c commonFlags
	fs := newFlagSet("serve", env)
	c.register(fs)
	dev := fs.Bool("dev", false, "development mode: keep every message in the dev outbox at /dev/outbox")
	listen := fs.String("listen", "", "address to listen on (default 127.0.0.1:8080)")
	migrate := fs.Bool("migrate", false, "apply PostgreSQL migrations at start")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := c.load(env, func(cfg *Config) {
		if *dev {
			cfg.Dev = true
		}
		if *listen != "" {
			cfg.Listen = *listen
		}
		if *migrate {
			cfg.Database.Migrate = true
		}
	})
	if err != nil {
		return err
	}
	return serve(ctx, env, cfg)
}

// serve runs the server until ctx ends, then shuts down gracefully:
// in-flight requests finish, the outbox batch under way finishes, and
// background jobs already answered finish.
func serve(ctx context.Context, env *environment, cfg Config) error {
	log := newLogger(cfg.Log, env.stderr)
	store, err := openStore(ctx, cfg.Database, cfg.Database.Migrate, log)
	if err != nil {
		return err
	}
	defer store.Close()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	base := cfg.BaseURL
	if base == "" {
		base = "http://" + addr
	}
	baseURL, err := url.Parse(base)
	if err != nil {
		return err
	}

	app, err := build(ctx, cfg, store, baseURL, log)
	if err != nil {
		return err
	}

	srv := &http.Server{
		Handler:           app.handler,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { app.worker.Run(workCtx) })
	wg.Go(func() { janitor(workCtx, store, cfg.Events.Retention, log) })
	wg.Go(func() { app.accounts.RunRiskFlusher(workCtx, 2*time.Second) })
	if app.guard != nil {
		wg.Go(func() { app.guard.Run(workCtx) })
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("mamoru started", "listen", addr, "base_url", baseURL.String(), "database", cfg.Database.Driver, "dev", cfg.Dev, "version", version)
	fmt.Fprintf(env.stdout, "mamoru listening on http://%s (base URL %s)\n", addr, baseURL)
	if cfg.Dev {
		fmt.Fprintf(env.stdout, "dev outbox: %s\n", strings.TrimSuffix(baseURL.String(), "/")+"/dev/outbox")
	}

	select {
	case err = <-serveErr:
	case <-ctx.Done():
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
		err = srv.Shutdown(sctx)
		cancel()
	}
	stopWork()
	wg.Wait()
	app.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	log.Info("stopped")
	return err
}

// app is the wired server.
type app struct {
	handler  http.Handler
	worker   *notify.Worker
	accounts *account.Service
	guard    *guard.Guard // nil when attack protection is off
	geo      *geoip.DB
	close    []func()
}

// Close releases what build opened, after the server and the worker have
// stopped.
func (a *app) Close() {
	a.accounts.Close()
	for _, f := range a.close {
		f()
	}
	a.geo.Close()
}

// unconfigured is the sender of a channel that has none (no smtp/sms
// section and no --dev): its messages wait, retried with backoff until
// one is configured or they are parked.
type unconfigured mamoru.Channel

func (u unconfigured) Send(context.Context, *mamoru.Message) error {
	return fmt.Errorf("no sender configured for %s messages", string(u))
}

// senders picks the sender of each channel: the configured one, else the
// dev outbox in dev mode, else none (messages wait).
func senders(cfg Config, clock mamoru.Clock, log *slog.Logger) (*delivery.Router, []func(), error) {
	r := &delivery.Router{}
	var closers []func()
	fallback := func(ch mamoru.Channel) delivery.Sender {
		if cfg.Dev {
			return notify.DevSender{}
		}
		log.Warn("no sender configured: these messages wait in the outbox (run with --dev to see them at /dev/outbox)", "channel", ch)
		return unconfigured(ch)
	}
	if cfg.SMTP.Host != "" {
		smtp, err := delivery.NewSMTPSender(cfg.SMTP)
		if err != nil {
			return nil, nil, err
		}
		r.Email = smtp
	} else {
		r.Email = fallback(mamoru.ChannelEmail)
	}
	sms, err := delivery.NewSMSSender(cfg.SMS)
	if err != nil {
		return nil, nil, err
	}
	if sms != nil {
		r.SMS = sms
	} else {
		r.SMS = fallback(mamoru.ChannelSMS)
	}
	if len(cfg.Webhooks.Endpoints) > 0 {
		hooks, err := webhook.NewSender(cfg.Webhooks, clock)
		if err != nil {
			return nil, nil, err
		}
		r.Webhook = hooks
		closers = append(closers, hooks.Close)
	}
	return r, closers, nil
}

// build wires every component from the configuration.
func build(ctx context.Context, cfg Config, store mamoru.Store, baseURL *url.URL, log *slog.Logger) (*app, error) {
	clock := mamoru.SystemClock{}
	var codeKey, deviceKey, captchaKey, identifierKey, sealKey, backupKey, handleKey []byte
	err := store.Update(ctx, func(tx mamoru.Tx) error {
		var err error
		if codeKey, err = tx.EnsureSecret(ctx, "code-hmac-key", mamoru.RandomBytes(32)); err != nil {
			return err
		}
		if captchaKey, err = tx.EnsureSecret(ctx, "captcha-hmac-key", mamoru.RandomBytes(32)); err != nil {
			return err
		}
		if identifierKey, err = tx.EnsureSecret(ctx, "guard-identifier-key", mamoru.RandomBytes(32)); err != nil {
			return err
		}
		if sealKey, err = tx.EnsureSecret(ctx, mfa.SealKeySecret, mamoru.RandomBytes(32)); err != nil {
			return err
		}
		if backupKey, err = tx.EnsureSecret(ctx, mfa.BackupCodeKeySecret, mamoru.RandomBytes(32)); err != nil {
			return err
		}
		if handleKey, err = tx.EnsureSecret(ctx, mfa.WebAuthnUserHandleKeySecret, mamoru.RandomBytes(32)); err != nil {
			return err
		}
		deviceKey, err = tx.EnsureSecret(ctx, "device-cookie-key", mamoru.RandomBytes(32))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("server secret: %w", err)
	}
	cat, err := catalog.New()
	if err != nil {
		return nil, err
	}
	hasher, err := cfg.Password.hasher(0)
	if err != nil {
		return nil, err
	}
	mailer, err := notify.NewMailer(cat, baseURL, clock, notify.WithProductName(cfg.ProductName))
	if err != nil {
		return nil, err
	}
	a := &app{}
	if a.geo, err = openGeoIP(cfg.GeoIP); err != nil {
		return nil, err
	}
	for _, info := range a.geo.Info() {
		log.Info("geoip database", "db", info.String())
	}
	resolver, err := clientIPResolver(cfg)
	if err != nil {
		return nil, err
	}

	// Events, and the webhooks that carry them to the apps.
	events := event.New(clock, a.geo.Lookup, useragent.Parse)
	keys, err := webhook.NewKeySet(ctx, store)
	if err != nil {
		return nil, fmt.Errorf("webhook signing key: %w", err)
	}
	if len(cfg.Webhooks.Endpoints) > 0 {
		d, err := webhook.NewDispatcher(cfg.Webhooks, baseURL.String(), keys, clock)
		if err != nil {
			return nil, err
		}
		events.AddSink(d)
	}

	router, closers, err := senders(cfg, clock, log)
	if err != nil {
		return nil, err
	}
	a.close = closers
	a.worker = notify.NewWorker(store, router, clock, log, notify.WorkerConfig{
		PollInterval: cfg.Outbox.PollInterval, MaxAttempts: cfg.Outbox.MaxAttempts, Batch: cfg.Outbox.Batch,
		ClaimTTL: cfg.Outbox.ClaimTTL, BaseBackoff: cfg.Outbox.BaseBackoff, MaxBackoff: cfg.Outbox.MaxBackoff,
	})
	a.worker.SetEvents(events)

	sessions := session.NewManager(store, clock, session.Config{
		IdleTimeout: cfg.Sessions.IdleTimeout, AbsoluteTimeout: cfg.Sessions.AbsoluteTimeout,
	})
	sessions.SetEvents(events)
	var riskEngine *account.Risk
	if cfg.Risk.Enabled {
		policy, err := cfg.Risk.policy()
		if err != nil {
			return nil, err
		}
		engine, err := risk.New(policy)
		if err != nil {
			return nil, err
		}
		riskEngine = &account.Risk{Engine: engine, Window: risk.NewWindow(policy.FailureWindow), Limits: policy.Limits}
	}
	// Attack protection: counters (Redis when configured), the CAPTCHA,
	// the checkpoint, the breach check, and the metrics of all of it.
	reg := prometheus.NewRegistry()
	// The Go runtime (go_goroutines, memory) and the process (fds, CPU):
	// what a waiting sign-in costs shows there.
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mamoru_password_verifications_total",
		Help: "Password verifications (argon2id or imported hashes, dummy ones for unknown addresses included)."},
		func() float64 { return float64(hasher.Verifications()) }))
	counters, closeCounters, err := openCounters(cfg.Redis, clock, log, reg)
	if err != nil {
		return nil, err
	}
	a.close = append(a.close, closeCounters)
	breached, closeBreach, err := newBreach(cfg.Breach)
	if err != nil {
		return nil, err
	}
	a.close = append(a.close, closeBreach)
	var accountGuard account.Guard
	if cfg.Guard.Enabled {
		gcfg, err := cfg.Guard.config()
		if err != nil {
			return nil, err
		}
		cp, err := newCaptcha(cfg.Captcha, captchaKey, clock, counters)
		if err != nil {
			return nil, err
		}
		a.guard, err = guard.New(gcfg, guard.Deps{
			Store: store, Counters: counters, Clock: clock, Logger: log, Lookup: a.geo.Lookup, Captcha: cp,
			IdentifierKey: identifierKey, Metrics: guard.NewMetrics(reg),
			OnLock: func(ctx context.Context, tx mamoru.Tx, id string, l *mamoru.Lockout, r mamoru.Request) error {
				return a.accounts.NotifyLock(ctx, tx, id, l, r)
			},
		})
		if err != nil {
			return nil, err
		}
		accountGuard = a.guard
		if riskEngine != nil {
			riskEngine.Reputation = a.guard.Reputation()
		}
	}
	twoStep, err := cfg.TwoStep.mfa(cfg.ProductName, baseURL, log, sealKey, backupKey, handleKey, clock)
	if err != nil {
		return nil, err
	}
	waiters := &signin.Waiters{}
	a.accounts = account.New(account.Deps{
		Store: store, Hasher: hasher, Sessions: sessions, Mailer: mailer, Common: breach.Common,
		Clock: clock, Logger: log, Kick: a.worker.Kick, Events: events, Risk: riskEngine,
		Breached: breached, Guard: accountGuard, OnApprovalDecided: waiters.Notify, MFA: twoStep,
	}, account.Config{
		TwoStep: account.TwoStepConfig{
			Issuer: cfg.ProductName, RememberFor: cfg.TwoStep.RememberFor, ChallengeNewDevice: cfg.TwoStep.ChallengeNewDevice,
			ChallengeAfter: cfg.TwoStep.ChallengeAfter, StepUpTTL: cfg.TwoStep.StepUpTTL,
		},
		ApprovalDenyKeepsPassword: cfg.SignIn.ApprovalDenyKeepsPassword,
		Policy:                    cfg.Password.policy(),
		VerifyTTL:                 cfg.Tokens.VerifyTTL,
		ResetTTL:                  cfg.Tokens.ResetTTL,
		MaxCodeTries:              cfg.Tokens.MaxCodeTries,
		CodeKey:                   codeKey,
	})
	signins := signin.New(store, hasher, sessions, clock, log, signin.Config{FlowTTL: cfg.SignIn.FlowTTL})
	signins.SetObserver(a.accounts)
	signins.SetChallenger(a.accounts)
	if a.guard != nil {
		signins.SetGuard(a.guard)
	}
	signins.AddPostCheck(a.accounts.ResetRequiredCheck)
	signins.AddPostCheck(a.accounts.BreachCheck)
	signins.AddPostCheck(a.accounts.RiskCheck)
	signins.AddPostCheck(a.accounts.TwoStepCheck)
	allow, err := clientip.ParseTrusted(cfg.Metrics.Allow)
	if err != nil {
		return nil, err
	}
	deps := web.Deps{
		Accounts:      a.accounts,
		SignIn:        signins,
		Sessions:      sessions,
		Activity:      a.accounts,
		SecureAccount: a.accounts.Secure(),
		Profile:       a.accounts,
		TwoStep:       a.accounts,
		JWKS:          keys.JWKSHandler(),
		Catalog:       cat,
		Logger:        log,
		Clock:         clock,
		Ready:         store.Ping,
		Config: web.Config{
			BaseURL:      baseURL,
			Dev:          cfg.Dev,
			MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
			PasswordMin:  cfg.Password.MinLength,
			PasswordMax:  cfg.Password.MaxLength,
			Version:      version,
			ClientIP:     resolver,
			DeviceKey:    deviceKey,
			MetricsAllow: allow,
			RememberDays: int(cfg.TwoStep.RememberFor / (24 * time.Hour)),
		},
		Unlock:         a.accounts,
		Approvals:      a.accounts,
		ApprovalWaiter: waiters,
		Metrics:        promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
	}
	if a.guard != nil {
		deps.Guard = a.guard
	}
	if cfg.Dev {
		deps.Outbox = notify.OutboxReader{Store: store}
	}
	h, err := web.NewServer(deps)
	if err != nil {
		return nil, err
	}
	a.handler = h
	return a, nil
}

// janitor deletes what has expired, hourly.
func janitor(ctx context.Context, store mamoru.Store, retention time.Duration, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Keep a week of history of ended sessions and used tokens.
		before := time.Now().Add(-7 * 24 * time.Hour)
		err := store.Update(ctx, func(tx mamoru.Tx) error {
			if _, err := tx.DeleteSessionsBefore(ctx, before); err != nil {
				return err
			}
			if _, err := tx.DeleteFlowsBefore(ctx, before); err != nil {
				return err
			}
			if _, err := tx.DeleteEventsBefore(ctx, time.Now().Add(-retention)); err != nil {
				return err
			}
			if _, err := tx.DeleteLockoutsBefore(ctx, time.Now().Add(-24*time.Hour)); err != nil {
				return err
			}
			_, err := tx.DeleteTokensBefore(ctx, before)
			return err
		})
		if err != nil && ctx.Err() == nil {
			log.Error("janitor failed", "err", err)
		}
	}
}
