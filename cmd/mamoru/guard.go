package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/breach"
	"github.com/mamoru-id/mamoru/captcha"
	"github.com/mamoru-id/mamoru/clientip"
	"github.com/mamoru-id/mamoru/guard"
	"github.com/mamoru-id/mamoru/inmem"
	"github.com/mamoru-id/mamoru/redis"
)

// GuardConfig is attack protection (docs/attack-protection.md), as the
// configuration file and the environment spell it.
type GuardConfig struct {
	Enabled                        bool          `yaml:"enabled" doc:"attack protection: lockout, throttles, stuffing and spraying detection, CAPTCHA; false lets every attempt through"`
	LockoutThreshold               int           `yaml:"lockout_threshold" doc:"failed attempts on one address within lockout_window that lock it"`
	LockoutWindow                  time.Duration `yaml:"lockout_window" doc:"the window of lockout_threshold"`
	LockoutDuration                time.Duration `yaml:"lockout_duration" doc:"how long a lock lasts"`
	LockoutExtend                  bool          `yaml:"lockout_extend" doc:"an attempt during a lock moves its end to lockout_duration after the attempt"`
	IPFailures                     int           `yaml:"ip_failures" doc:"failed attempts per IP (IPv6: per /64) per ip_window before it is throttled (429)"`
	IPWindow                       time.Duration `yaml:"ip_window" doc:"the window of ip_failures"`
	PrefixFailures                 int           `yaml:"prefix_failures" doc:"failed attempts per /24 (IPv6: /48) per prefix_window before it is throttled"`
	PrefixWindow                   time.Duration `yaml:"prefix_window" doc:"the window of prefix_failures"`
	ASNFailures                    int           `yaml:"asn_failures" doc:"failed attempts per autonomous system per asn_window before it is throttled; 0 turns it off"`
	ASNWindow                      time.Duration `yaml:"asn_window" doc:"the window of asn_failures"`
	Penalty                        time.Duration `yaml:"penalty" doc:"how long a throttled network is refused (Retry-After)"`
	ForgotPerIP                    int           `yaml:"forgot_per_ip" doc:"password-reset requests per IP per hour"`
	CaptchaAfterIPFailures         int           `yaml:"captcha_after_ip_failures" doc:"failed sign-ins from one IP within an hour after which a CAPTCHA is required"`
	CaptchaAfterIdentifierFailures int           `yaml:"captcha_after_identifier_failures" doc:"failed sign-ins on one address after which a CAPTCHA is required"`
	AttackWindow                   time.Duration `yaml:"attack_window" doc:"the window of the global failure rate"`
	AttackMinFailures              int           `yaml:"attack_min_failures" doc:"the least number of failures in attack_window that is a wave"`
	AttackSpikeFactor              float64       `yaml:"attack_spike_factor" doc:"a wave is this many times the learned baseline failure rate"`
	UnknownRatio                   float64       `yaml:"unknown_ratio" doc:"share of attempts on unknown addresses from one IP or AS that puts it in attack mode"`
	MinNetworkAttempts             int           `yaml:"min_network_attempts" doc:"attempts from one IP or AS within network_window before unknown_ratio applies"`
	NetworkWindow                  time.Duration `yaml:"network_window" doc:"the window of unknown_ratio"`
	SprayAccounts                  int           `yaml:"spray_accounts" doc:"addresses tried with one password within spray_window that are password spraying"`
	SprayWindow                    time.Duration `yaml:"spray_window" doc:"the window of spray_accounts and device_accounts"`
	DeviceAccounts                 int           `yaml:"device_accounts" doc:"addresses tried from one device within spray_window that put the device in attack mode"`
	AttackHold                     time.Duration `yaml:"attack_hold" doc:"how long attack mode lasts after the last sign of the wave"`
	AllowCIDRs                     []string      `yaml:"allow_cidrs" doc:"networks no throttle, CAPTCHA or attack mode touches (lockout still applies)"`
}

// defaultGuardConfig spells guard.DefaultConfig.
func defaultGuardConfig() GuardConfig {
	d := guard.DefaultConfig()
	return GuardConfig{
		Enabled:          true,
		LockoutThreshold: d.Lockout.Threshold, LockoutWindow: d.Lockout.Window, LockoutDuration: d.Lockout.Duration, LockoutExtend: d.Lockout.Extend,
		IPFailures: d.Throttle.IPFailures, IPWindow: d.Throttle.IPWindow, PrefixFailures: d.Throttle.PrefixFailures,
		PrefixWindow: d.Throttle.PrefixWindow, ASNFailures: d.Throttle.ASNFailures, ASNWindow: d.Throttle.ASNWindow,
		Penalty: d.Throttle.Penalty, ForgotPerIP: d.Throttle.ForgotPerIP,
		CaptchaAfterIPFailures: d.Captcha.AfterIPFailures, CaptchaAfterIdentifierFailures: d.Captcha.AfterIdentifierFailures,
		AttackWindow: d.Attack.Window, AttackMinFailures: d.Attack.MinFailures, AttackSpikeFactor: d.Attack.SpikeFactor,
		UnknownRatio: d.Attack.UnknownRatio, MinNetworkAttempts: d.Attack.MinNetworkAttempts, NetworkWindow: d.Attack.NetworkWindow,
		SprayAccounts: d.Attack.SprayAccounts, SprayWindow: d.Attack.SprayWindow, DeviceAccounts: d.Attack.DeviceAccounts,
		AttackHold: d.Attack.Hold,
	}
}

// config is the guard.Config of the configuration, or every problem of it.
func (c GuardConfig) config() (guard.Config, error) {
	allow, err := clientip.ParseTrusted(c.AllowCIDRs)
	if err != nil {
		return guard.Config{}, fmt.Errorf("allow_cidrs: %w", err)
	}
	out := guard.Config{
		Lockout: guard.LockoutConfig{Threshold: c.LockoutThreshold, Window: c.LockoutWindow, Duration: c.LockoutDuration, Extend: c.LockoutExtend},
		Throttle: guard.ThrottleConfig{IPFailures: c.IPFailures, IPWindow: c.IPWindow, PrefixFailures: c.PrefixFailures,
			PrefixWindow: c.PrefixWindow, ASNFailures: c.ASNFailures, ASNWindow: c.ASNWindow, Penalty: c.Penalty, ForgotPerIP: c.ForgotPerIP},
		Captcha: guard.CaptchaConfig{AfterIPFailures: c.CaptchaAfterIPFailures, AfterIdentifierFailures: c.CaptchaAfterIdentifierFailures},
		Attack: guard.AttackConfig{Window: c.AttackWindow, MinFailures: c.AttackMinFailures, SpikeFactor: c.AttackSpikeFactor,
			UnknownRatio: c.UnknownRatio, MinNetworkAttempts: c.MinNetworkAttempts, NetworkWindow: c.NetworkWindow,
			SprayAccounts: c.SprayAccounts, SprayWindow: c.SprayWindow, DeviceAccounts: c.DeviceAccounts, Hold: c.AttackHold,
			KeyRotation: time.Hour},
		Allow: allow,
	}
	return out, out.Validate()
}

// CaptchaConfig chooses the CAPTCHA (docs/captcha.md).
type CaptchaConfig struct {
	Provider        string   `yaml:"provider" doc:"altcha (our proof of work, no third party), turnstile or hcaptcha"`
	SiteKey         string   `yaml:"site_key" doc:"turnstile/hcaptcha: the public site key"`
	Secret          string   `yaml:"secret" doc:"turnstile/hcaptcha: the secret key"`
	VerifyURL       string   `yaml:"verify_url" doc:"turnstile/hcaptcha: the siteverify endpoint (default: the provider's)"`
	Hostnames       []string `yaml:"hostnames" doc:"turnstile/hcaptcha: the hostnames the answer may be for (empty: not checked)"`
	MaxNumberLow    int      `yaml:"max_number_low" doc:"altcha: search space of the low level (after failures)"`
	MaxNumberMedium int      `yaml:"max_number_medium" doc:"altcha: search space of the medium level (attack mode)"`
	MaxNumberHigh   int      `yaml:"max_number_high" doc:"altcha: search space of the high level (a device that tried many accounts)"`
}

// RedisConfig is the shared counters of several instances.
type RedisConfig struct {
	URL    string `yaml:"url" doc:"redis://host:6379/0 for counters shared by every instance; empty keeps them in this process"`
	Prefix string `yaml:"prefix" doc:"prefix of every key mamoru writes"`
}

// BreachConfig is the breached-password check (docs/breach.md).
type BreachConfig struct {
	Filter        string        `yaml:"filter" doc:"the filter file built by mamoru breach import (empty: only the common-password list)"`
	Online        bool          `yaml:"online" doc:"ask the Pwned Passwords range API (k-anonymity, padded) and confirm filter hits with it"`
	APIURL        string        `yaml:"api_url" doc:"the range API's base URL"`
	OnlineTimeout time.Duration `yaml:"online_timeout" doc:"time allowed for one range API lookup"`
}

// MetricsConfig is /metrics.
type MetricsConfig struct {
	Allow []string `yaml:"allow" doc:"peers (direct, not forwarded) that may read /metrics; empty: loopback only"`
}

// openCounters returns the counters: Redis when configured, behind a
// fallback to this process' own counters while Redis is down (a metric
// and a log line say so); this process' otherwise.
func openCounters(cfg RedisConfig, clock mamoru.Clock, log *slog.Logger, reg prometheus.Registerer) (mamoru.Counters, func(), error) {
	local := inmem.New(clock)
	if cfg.URL == "" {
		return local, func() {}, nil
	}
	r, err := redis.Open(cfg.URL, cfg.Prefix, clock)
	if err != nil {
		return nil, nil, fmt.Errorf("redis: %w", err)
	}
	down := prometheus.NewGauge(prometheus.GaugeOpts{Name: "mamoru_counters_redis_down",
		Help: "1 while Redis is unreachable and this process counts on its own."})
	reg.MustRegister(down)
	f := inmem.NewFallback(r, local, log, func(d bool) {
		if d {
			down.Set(1)
		} else {
			down.Set(0)
		}
	})
	return f, func() { r.Close() }, nil
}

// newCaptcha returns the configured CAPTCHA provider.
func newCaptcha(cfg CaptchaConfig, key []byte, clock mamoru.Clock, counters mamoru.Counters) (captcha.Provider, error) {
	switch cfg.Provider {
	case "", "altcha":
		return captcha.NewPoW(key, clock, counters, captcha.PoWConfig{
			MaxNumberLow: cfg.MaxNumberLow, MaxNumberMedium: cfg.MaxNumberMedium, MaxNumberHigh: cfg.MaxNumberHigh,
			ChallengeURL: "/api/v1/captcha/challenge", ScriptURL: "/static/altcha-solver.js",
		})
	}
	sv := captcha.SiteVerifyConfig{SiteKey: cfg.SiteKey, Secret: cfg.Secret, VerifyURL: cfg.VerifyURL, Hostnames: cfg.Hostnames}
	switch cfg.Provider {
	case "turnstile":
		return captcha.NewTurnstile(sv)
	case "hcaptcha":
		return captcha.NewHCaptcha(sv)
	}
	return nil, errors.New("captcha.provider: must be altcha, turnstile or hcaptcha")
}

// newBreach returns the breached-password check of the configuration.
func newBreach(cfg BreachConfig) (func(ctx context.Context, pw string) (bool, error), func(), error) {
	var f *breach.Filter
	var online *breach.Online
	closeFn := func() {}
	if cfg.Filter != "" {
		var err error
		if f, err = breach.Open(cfg.Filter); err != nil {
			return nil, nil, fmt.Errorf("breach.filter: %w", err)
		}
		closeFn = func() { f.Close() }
	}
	if cfg.Online {
		var err error
		if online, err = breach.NewOnline(breach.OnlineConfig{BaseURL: cfg.APIURL, Timeout: cfg.OnlineTimeout}); err != nil {
			closeFn()
			return nil, nil, fmt.Errorf("breach: %w", err)
		}
	}
	c := breach.NewChecker(f, online)
	return func(ctx context.Context, pw string) (bool, error) {
		r, err := c.Breached(ctx, pw)
		return r.Breached, err
	}, closeFn, nil
}
