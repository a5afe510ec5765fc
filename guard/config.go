package guard

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Config tunes the checkpoint. Zero fields take the defaults of
// DefaultConfig; every number is configurable (docs/configuration.md).
type Config struct {
	Lockout  LockoutConfig
	Throttle ThrottleConfig
	Captcha  CaptchaConfig
	Attack   AttackConfig
	// Allow lists networks that no throttle, CAPTCHA or attack mode
	// touches (an office, a monitoring probe). Account lockout still
	// applies to them.
	Allow []netip.Prefix
}

// LockoutConfig is the lock of one sign-in identifier.
type LockoutConfig struct {
	// Threshold failures within Window lock the identifier for Duration.
	Threshold int
	Window    time.Duration
	Duration  time.Duration
	// Extend: an attempt during the lock moves its end to Duration after
	// the attempt (Yahoo! JAPAN's rule: locked for 10 minutes, a retry
	// after 6 makes it 16).
	Extend bool
}

// ThrottleConfig limits failures per network. A network that reaches its
// limit within the window is refused (HTTP 429, Retry-After) for Penalty,
// and again while it stays over the limit.
type ThrottleConfig struct {
	IPFailures     int // failed attempts per IP (IPv6: per /64) per IPWindow
	IPWindow       time.Duration
	PrefixFailures int // per /24 (IPv6: /48) per PrefixWindow
	PrefixWindow   time.Duration
	ASNFailures    int // per autonomous system per ASNWindow (0: none)
	ASNWindow      time.Duration
	Penalty        time.Duration
	// ForgotPerIP limits password-reset requests per IP per hour.
	ForgotPerIP int
}

// CaptchaConfig says when a CAPTCHA is required outside attack mode.
type CaptchaConfig struct {
	// AfterIPFailures failures from one IP within an hour, or
	// AfterIdentifierFailures on one identifier within the lockout
	// window, make the next sign-in attempts need a CAPTCHA.
	AfterIPFailures         int
	AfterIdentifierFailures int
}

// AttackConfig is the detection of credential-stuffing and spraying
// waves and the attack mode they turn on.
type AttackConfig struct {
	// Window is the sliding window of the global failure rate.
	Window time.Duration
	// MinFailures in Window is the least failure count that can be a
	// wave, and SpikeFactor times the learned baseline (failures per
	// Window outside waves) the rate that is one.
	MinFailures int
	SpikeFactor float64
	// UnknownRatio of attempts on identifiers with no account, among at
	// least MinNetworkAttempts attempts from one IP or autonomous system
	// within NetworkWindow, puts that network in attack mode.
	UnknownRatio       float64
	MinNetworkAttempts int
	NetworkWindow      time.Duration
	// SprayAccounts distinct identifiers tried with one password within
	// SprayWindow is password spraying.
	SprayAccounts int
	SprayWindow   time.Duration
	// DeviceAccounts distinct identifiers tried from one device within
	// SprayWindow put that device in attack mode.
	DeviceAccounts int
	// Hold is how long attack mode lasts after the last sign of the wave.
	Hold time.Duration
	// KeyRotation is how often the in-memory key that hashes passwords
	// for the spraying detector is replaced.
	KeyRotation time.Duration
}

// DefaultConfig returns the defaults: lock after 10 failures in 15
// minutes for 10 minutes, extended by each attempt during the lock; 100
// failures per IP per day (as Auth0's brute-force protection), 1,000 per
// /24 per day, 10,000 per autonomous system per hour; a CAPTCHA after 3
// failures from an IP or on an identifier; a wave is 5× the baseline
// failure rate and at least 60 failures a minute.
func DefaultConfig() Config {
	return Config{
		Lockout: LockoutConfig{Threshold: 10, Window: 15 * time.Minute, Duration: 10 * time.Minute, Extend: true},
		Throttle: ThrottleConfig{
			IPFailures: 100, IPWindow: 24 * time.Hour,
			PrefixFailures: 1000, PrefixWindow: 24 * time.Hour,
			ASNFailures: 10000, ASNWindow: time.Hour,
			Penalty: 15 * time.Minute, ForgotPerIP: 20,
		},
		Captcha: CaptchaConfig{AfterIPFailures: 3, AfterIdentifierFailures: 3},
		Attack: AttackConfig{
			Window: time.Minute, MinFailures: 60, SpikeFactor: 5,
			UnknownRatio: 0.5, MinNetworkAttempts: 20, NetworkWindow: 10 * time.Minute,
			SprayAccounts: 10, SprayWindow: time.Hour, DeviceAccounts: 10,
			Hold: 5 * time.Minute, KeyRotation: time.Hour,
		},
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	def := func(v *int, dv int) {
		if *v == 0 {
			*v = dv
		}
	}
	defD := func(v *time.Duration, dv time.Duration) {
		if *v == 0 {
			*v = dv
		}
	}
	def(&c.Lockout.Threshold, d.Lockout.Threshold)
	defD(&c.Lockout.Window, d.Lockout.Window)
	defD(&c.Lockout.Duration, d.Lockout.Duration)
	def(&c.Throttle.IPFailures, d.Throttle.IPFailures)
	defD(&c.Throttle.IPWindow, d.Throttle.IPWindow)
	def(&c.Throttle.PrefixFailures, d.Throttle.PrefixFailures)
	defD(&c.Throttle.PrefixWindow, d.Throttle.PrefixWindow)
	defD(&c.Throttle.ASNWindow, d.Throttle.ASNWindow)
	defD(&c.Throttle.Penalty, d.Throttle.Penalty)
	def(&c.Throttle.ForgotPerIP, d.Throttle.ForgotPerIP)
	def(&c.Captcha.AfterIPFailures, d.Captcha.AfterIPFailures)
	def(&c.Captcha.AfterIdentifierFailures, d.Captcha.AfterIdentifierFailures)
	defD(&c.Attack.Window, d.Attack.Window)
	def(&c.Attack.MinFailures, d.Attack.MinFailures)
	if c.Attack.SpikeFactor == 0 {
		c.Attack.SpikeFactor = d.Attack.SpikeFactor
	}
	if c.Attack.UnknownRatio == 0 {
		c.Attack.UnknownRatio = d.Attack.UnknownRatio
	}
	def(&c.Attack.MinNetworkAttempts, d.Attack.MinNetworkAttempts)
	defD(&c.Attack.NetworkWindow, d.Attack.NetworkWindow)
	def(&c.Attack.SprayAccounts, d.Attack.SprayAccounts)
	defD(&c.Attack.SprayWindow, d.Attack.SprayWindow)
	def(&c.Attack.DeviceAccounts, d.Attack.DeviceAccounts)
	defD(&c.Attack.Hold, d.Attack.Hold)
	defD(&c.Attack.KeyRotation, d.Attack.KeyRotation)
	return c
}

// Validate reports every invalid value together.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	pos := func(name string, v int) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("guard: %s is %d; want ≥ 0", name, v))
		}
	}
	posD := func(name string, v time.Duration) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("guard: %s is %s; want > 0", name, v))
		}
	}
	pos("lockout.threshold", c.Lockout.Threshold)
	posD("lockout.window", c.Lockout.Window)
	posD("lockout.duration", c.Lockout.Duration)
	pos("throttle.ip_failures", c.Throttle.IPFailures)
	pos("throttle.prefix_failures", c.Throttle.PrefixFailures)
	pos("throttle.asn_failures", c.Throttle.ASNFailures)
	pos("throttle.forgot_per_ip", c.Throttle.ForgotPerIP)
	posD("throttle.ip_window", c.Throttle.IPWindow)
	posD("throttle.prefix_window", c.Throttle.PrefixWindow)
	posD("throttle.asn_window", c.Throttle.ASNWindow)
	posD("throttle.penalty", c.Throttle.Penalty)
	pos("captcha.after_ip_failures", c.Captcha.AfterIPFailures)
	pos("captcha.after_identifier_failures", c.Captcha.AfterIdentifierFailures)
	posD("attack.window", c.Attack.Window)
	posD("attack.network_window", c.Attack.NetworkWindow)
	posD("attack.spray_window", c.Attack.SprayWindow)
	posD("attack.hold", c.Attack.Hold)
	posD("attack.key_rotation", c.Attack.KeyRotation)
	pos("attack.min_failures", c.Attack.MinFailures)
	pos("attack.min_network_attempts", c.Attack.MinNetworkAttempts)
	pos("attack.spray_accounts", c.Attack.SprayAccounts)
	pos("attack.device_accounts", c.Attack.DeviceAccounts)
	if c.Attack.SpikeFactor < 1 {
		errs = append(errs, fmt.Errorf("guard: attack.spike_factor is %g; want ≥ 1", c.Attack.SpikeFactor))
	}
	if c.Attack.UnknownRatio <= 0 || c.Attack.UnknownRatio > 1 {
		errs = append(errs, fmt.Errorf("guard: attack.unknown_ratio is %g; want in (0, 1]", c.Attack.UnknownRatio))
	}
	if c.Lockout.Threshold == 0 {
		errs = append(errs, errors.New("guard: lockout.threshold must be > 0"))
	}
	return errors.Join(errs...)
}
