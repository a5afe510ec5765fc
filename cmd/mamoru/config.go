package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/account"
	"github.com/mamoru-id/mamoru/breach"
	"github.com/mamoru-id/mamoru/clientip"
	"github.com/mamoru-id/mamoru/delivery"
	"github.com/mamoru-id/mamoru/mfa"
	"github.com/mamoru-id/mamoru/notify"
	"github.com/mamoru-id/mamoru/password"
	"github.com/mamoru-id/mamoru/session"
	"github.com/mamoru-id/mamoru/webhook"
	"gopkg.in/yaml.v3"
)

// Config is the whole configuration of mamoru: defaults, then a YAML file,
// then MAMORU_* environment variables, then command-line flags, validated
// once. Each component receives only its own section. docs/configuration.md
// lists every key; a test keeps it in sync with this struct.
type Config struct {
	Listen   string         `yaml:"listen" doc:"address to listen on"`
	BaseURL  string         `yaml:"base_url" doc:"public URL of the server; the only source of links in messages (default: http://<listen>)"`
	Dev      bool           `yaml:"dev" doc:"development mode: keep every message in the dev outbox (/dev/outbox)"`
	Log      LogConfig      `yaml:"log"`
	Database DatabaseConfig `yaml:"database"`
	HTTP     HTTPConfig     `yaml:"http"`
	Password PasswordConfig `yaml:"password"`
	Sessions SessionsConfig `yaml:"sessions"`
	SignIn   SignInConfig   `yaml:"signin"`
	TwoStep  TwoStepConfig  `yaml:"two_step"`
	Tokens   TokensConfig   `yaml:"tokens"`
	Outbox   OutboxConfig   `yaml:"outbox"`
	// TrustedProxies and ProxyHeader say where the client's address comes
	// from behind reverse proxies (docs/geoip.md).
	TrustedProxies []string    `yaml:"trusted_proxies" doc:"reverse proxies and load balancers whose forwarding header is believed: IP addresses or CIDR prefixes (environment: comma-separated)"`
	ProxyHeader    string      `yaml:"proxy_header" doc:"the header the trusted proxies set: X-Forwarded-For, Forwarded (RFC 7239), or empty for none"`
	GeoIP          GeoIPConfig `yaml:"geoip"`
	// Delivery of messages and events (docs/delivery.md, docs/webhooks.md).
	ProductName string              `yaml:"product_name" doc:"the service name that messages use"`
	SMTP        delivery.SMTPConfig `yaml:"smtp"`
	SMS         delivery.SMSConfig  `yaml:"sms"`
	Webhooks    webhook.Config      `yaml:"webhooks"`
	Events      EventsConfig        `yaml:"events"`
	Risk        RiskConfig          `yaml:"risk"`
	// Attack protection (docs/attack-protection.md).
	Guard   GuardConfig   `yaml:"guard"`
	Captcha CaptchaConfig `yaml:"captcha"`
	Redis   RedisConfig   `yaml:"redis"`
	Breach  BreachConfig  `yaml:"breach"`
	Metrics MetricsConfig `yaml:"metrics"`
}

// EventsConfig tunes the security event log (docs/events.md).
type EventsConfig struct {
	Retention time.Duration `yaml:"retention" doc:"security events older than this are deleted"`
}

// GeoIPConfig names the MaxMind-format databases that place IP addresses
// (docs/geoip.md); without them places are unknown.
type GeoIPConfig struct {
	CityDB string `yaml:"city_db" doc:"city database (.mmdb): GeoLite2 City, GeoIP2 City or DB-IP IP to City Lite"`
	ASNDB  string `yaml:"asn_db" doc:"ASN database (.mmdb): GeoLite2 ASN or DB-IP IP to ASN Lite"`
}

// LogConfig configures logging.
type LogConfig struct {
	Level  string `yaml:"level" doc:"debug, info, warn or error"`
	Format string `yaml:"format" doc:"json or text"`
}

// DatabaseConfig chooses the database.
type DatabaseConfig struct {
	Driver  string `yaml:"driver" doc:"sqlite or postgres"`
	Path    string `yaml:"path" doc:"SQLite database file"`
	DSN     string `yaml:"dsn" doc:"PostgreSQL connection string (postgres://user@host:5432/db?sslmode=...)"`
	Migrate bool   `yaml:"migrate" doc:"apply PostgreSQL migrations at start (SQLite always migrates at start)"`
}

// HTTPConfig tunes the HTTP server.
type HTTPConfig struct {
	MaxBodyBytes      int64         `yaml:"max_body_bytes" doc:"largest request body accepted"`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout" doc:"time to read request headers"`
	ReadTimeout       time.Duration `yaml:"read_timeout" doc:"time to read a whole request"`
	WriteTimeout      time.Duration `yaml:"write_timeout" doc:"time to write a response"`
	IdleTimeout       time.Duration `yaml:"idle_timeout" doc:"keep-alive idle time"`
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout" doc:"time allowed to finish in-flight requests at shutdown"`
}

// PasswordConfig holds the password rules and hashing cost.
type PasswordConfig struct {
	MinLength           int          `yaml:"min_length" doc:"fewest characters (Unicode code points) in a new password; at least 8"`
	MaxLength           int          `yaml:"max_length" doc:"most characters in a new password; at least 64"`
	Argon2              Argon2Config `yaml:"argon2"`
	MaxConcurrentHashes int          `yaml:"max_concurrent_hashes" doc:"hashes computed at once; bounds memory to this × argon2.memory_kib (0: number of CPUs)"`
}

// Argon2Config is the argon2id cost.
type Argon2Config struct {
	MemoryKiB int `yaml:"memory_kib" doc:"memory per hash in KiB; at least 19456 (19 MiB)"`
	Time      int `yaml:"time" doc:"passes; memory_kib × time must be at least 38912 (OWASP)"`
	Threads   int `yaml:"threads" doc:"lanes per hash"`
}

// SessionsConfig holds the session timeouts.
type SessionsConfig struct {
	IdleTimeout     time.Duration `yaml:"idle_timeout" doc:"a session unused this long ends"`
	AbsoluteTimeout time.Duration `yaml:"absolute_timeout" doc:"a session ends this long after sign-in"`
}

// SignInConfig tunes sign-in flows.
type SignInConfig struct {
	FlowTTL                   time.Duration `yaml:"flow_ttl" doc:"time allowed to complete a sign-in page"`
	ApprovalDenyKeepsPassword bool          `yaml:"approval_deny_keeps_password" doc:"when the owner denies a sign-in approval request, do not require a new password (by default it is required: whoever tried knows it)"`
}

// TwoStepConfig says when 2-step verification is asked (docs/mfa.md).
type TwoStepConfig struct {
	RememberFor        time.Duration `yaml:"remember_for" doc:"how long a device remembered after 2-step verification skips the second step"`
	ChallengeNewDevice bool          `yaml:"challenge_new_device" doc:"accounts without 2-step methods prove a sign-in from a new device with an emailed code (accounts with methods always use them on a device not remembered)"`
	ChallengeAfter     time.Duration `yaml:"challenge_after" doc:"a sign-in after this long without one is challenged even on a remembered device"`
	StepUpTTL          time.Duration `yaml:"step_up_ttl" doc:"how long a step-up (a second factor, or the password without 2-step methods) allows sensitive changes"`
	WebAuthn           bool          `yaml:"webauthn" doc:"security keys and passkeys (WebAuthn); the relying party is the base URL's host, which must not change once keys are registered"`
}

// TokensConfig holds the lifetime of emailed codes and links.
type TokensConfig struct {
	VerifyTTL    time.Duration `yaml:"verify_ttl" doc:"lifetime of an email verification code and link"`
	ResetTTL     time.Duration `yaml:"reset_ttl" doc:"lifetime of a password reset code and link (at most 15m)"`
	MaxCodeTries int           `yaml:"max_code_tries" doc:"wrong codes before a code dies"`
}

// OutboxConfig tunes message delivery.
type OutboxConfig struct {
	PollInterval time.Duration `yaml:"poll_interval" doc:"how often the worker looks for due messages"`
	MaxAttempts  int           `yaml:"max_attempts" doc:"failed deliveries before a message is parked"`
	Batch        int           `yaml:"batch" doc:"messages a worker claims at once"`
	ClaimTTL     time.Duration `yaml:"claim_ttl" doc:"how long a claim holds before another worker may take the message (a crashed worker's messages wait this long)"`
	BaseBackoff  time.Duration `yaml:"base_backoff" doc:"delay after the first failed delivery; doubles with each failure, with jitter"`
	MaxBackoff   time.Duration `yaml:"max_backoff" doc:"longest delay between two attempts"`
}

// DefaultConfig returns the configuration of `mamoru serve` with no file.
// Where a package has defaults of its own, they are taken from it.
func DefaultConfig() Config {
	argon := password.DefaultParams()
	sessions := session.DefaultConfig()
	return Config{
		Listen:   "127.0.0.1:8080",
		Log:      LogConfig{Level: "info", Format: "json"},
		Database: DatabaseConfig{Driver: "sqlite", Path: "mamoru.db"},
		HTTP: HTTPConfig{MaxBodyBytes: 64 << 10, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, ShutdownTimeout: 20 * time.Second},
		Password: PasswordConfig{MinLength: password.DefaultMinLength, MaxLength: password.DefaultMaxLength,
			Argon2: Argon2Config{MemoryKiB: int(argon.MemoryKiB), Time: int(argon.Time), Threads: int(argon.Threads)}},
		Sessions: SessionsConfig{IdleTimeout: sessions.IdleTimeout, AbsoluteTimeout: sessions.AbsoluteTimeout},
		SignIn:   SignInConfig{FlowTTL: 15 * time.Minute},
		TwoStep: TwoStepConfig{RememberFor: 30 * 24 * time.Hour, ChallengeAfter: 90 * 24 * time.Hour,
			StepUpTTL: 10 * time.Minute, WebAuthn: true},
		Tokens: TokensConfig{VerifyTTL: time.Hour, ResetTTL: 15 * time.Minute, MaxCodeTries: 5},
		Outbox: OutboxConfig{PollInterval: time.Second, MaxAttempts: 10, Batch: 20, ClaimTTL: time.Minute,
			BaseBackoff: 5 * time.Second, MaxBackoff: time.Hour},
		ProductName: notify.DefaultProductName,
		SMTP:        delivery.SMTPConfig{Security: "starttls", Timeout: 30 * time.Second},
		Events:      EventsConfig{Retention: 400 * 24 * time.Hour},
		Risk:        defaultRiskConfig(),
		Guard:       defaultGuardConfig(),
		Captcha:     CaptchaConfig{Provider: "altcha", MaxNumberLow: 20000, MaxNumberMedium: 100000, MaxNumberHigh: 300000},
		Redis:       RedisConfig{Prefix: "mamoru:"},
		Breach:      BreachConfig{APIURL: breach.DefaultBaseURL, OnlineTimeout: 3 * time.Second},

		ProxyHeader: clientip.XForwardedFor,
	}
}

// policy is the password policy of the configuration.
func (p PasswordConfig) policy() password.Policy {
	return password.Policy{MinLength: p.MinLength, MaxLength: p.MaxLength}
}

// hasher returns an argon2id hasher with the configured cost, computing at
// most maxConcurrent hashes at once (0: the configured limit).
func (p PasswordConfig) hasher(maxConcurrent int) (*password.Hasher, error) {
	if maxConcurrent == 0 {
		maxConcurrent = p.MaxConcurrentHashes
	}
	return password.NewHasher(password.Params{
		MemoryKiB: uint32(p.Argon2.MemoryKiB),
		Time:      uint32(p.Argon2.Time),
		Threads:   uint8(p.Argon2.Threads),
	}, maxConcurrent)
}

// LoadConfig builds the configuration from the defaults, the YAML file at
// path (if not ""), and the environment. It does not validate.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) { // io.EOF: empty file
			return cfg, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	if err := applyEnv(reflect.ValueOf(&cfg).Elem(), "MAMORU", getenv); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// EnvVars returns every environment variable name LoadConfig reads, with
// its YAML key, in struct order.
func EnvVars() [][2]string {
	var out [][2]string
	walkConfig(reflect.TypeOf(Config{}), "MAMORU", "", func(env, key string, f reflect.StructField) {
		out = append(out, [2]string{env, key})
	})
	return out
}

func walkConfig(t reflect.Type, envPrefix, keyPrefix string, fn func(env, key string, f reflect.StructField)) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		env := envPrefix + "_" + strings.ToUpper(tag)
		key := tag
		if keyPrefix != "" {
			key = keyPrefix + "." + tag
		}
		if f.Type.Kind() == reflect.Struct {
			walkConfig(f.Type, env, key, fn)
			continue
		}
		fn(env, key, f)
	}
}

func applyEnv(v reflect.Value, prefix string, getenv func(string) string) error {
	var errs []error
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := prefix + "_" + strings.ToUpper(f.Tag.Get("yaml"))
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			if err := applyEnv(fv, name, getenv); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		s := getenv(name)
		if s == "" {
			continue
		}
		if err := setValue(fv, s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func setValue(v reflect.Value, s string) error {
	switch v.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported type %s", v.Type())
		}
		var list []string
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		v.Set(reflect.ValueOf(list))
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		v.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		v.SetFloat(f)
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

// Validate reports every problem of the configuration at once, and fills
// in values derived from others (the default base URL).
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "must be host:port (%v)", err)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		switch {
		case err != nil:
			bad("base_url", "%v", err)
		case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
			bad("base_url", "must be an absolute http(s) URL")
		case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			bad("base_url", "must not have a query, fragment or user")
		case u.Scheme == "http" && !isLoopback(u.Hostname()):
			bad("base_url", "must be https unless the host is localhost: session cookies are __Host- and Secure")
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error")
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		bad("log.format", "must be json or text")
	}
	switch c.Database.Driver {
	case "sqlite":
		if c.Database.Path == "" {
			bad("database.path", "required for sqlite")
		}
	case "postgres":
		if c.Database.DSN == "" {
			bad("database.dsn", "required for postgres")
		}
	default:
		bad("database.driver", "must be sqlite or postgres")
	}
	if c.SMTP.Host != "" {
		if err := c.SMTP.Validate(); err != nil {
			bad("smtp", "%v", err)
		}
	}
	if c.SMS.Provider != "" {
		if err := c.SMS.Validate(); err != nil {
			bad("sms", "%v", err)
		}
	}
	if err := c.Webhooks.Validate(); err != nil {
		bad("webhooks", "%v", err)
	}
	if _, err := c.Risk.policy(); err != nil {
		bad("risk", "%v", err)
	}
	if _, err := c.Guard.config(); err != nil {
		bad("guard", "%v", err)
	}
	switch c.Captcha.Provider {
	case "altcha":
	case "turnstile", "hcaptcha":
		if c.Captcha.SiteKey == "" || c.Captcha.Secret == "" {
			bad("captcha", "%s needs site_key and secret", c.Captcha.Provider)
		}
	default:
		bad("captcha.provider", "must be altcha, turnstile or hcaptcha")
	}
	if _, err := clientip.ParseTrusted(c.Metrics.Allow); err != nil {
		bad("metrics.allow", "%v", err)
	}
	if c.Outbox.Batch < 1 || c.Outbox.Batch > 1000 {
		bad("outbox.batch", "must be between 1 and 1000")
	}
	if c.ProductName == "" || len(c.ProductName) > 64 {
		bad("product_name", "must be 1 to 64 characters")
	}
	if _, err := clientip.ParseTrusted(c.TrustedProxies); err != nil {
		bad("trusted_proxies", "%v", err)
	}
	if _, err := clientip.New(nil, c.ProxyHeader); err != nil {
		bad("proxy_header", "must be X-Forwarded-For, Forwarded, or empty for none")
	}
	if c.HTTP.MaxBodyBytes < 1024 {
		bad("http.max_body_bytes", "must be at least 1024")
	}
	for key, d := range map[string]time.Duration{
		"http.read_header_timeout": c.HTTP.ReadHeaderTimeout, "http.read_timeout": c.HTTP.ReadTimeout,
		"http.write_timeout": c.HTTP.WriteTimeout, "http.idle_timeout": c.HTTP.IdleTimeout,
		"http.shutdown_timeout": c.HTTP.ShutdownTimeout, "sessions.idle_timeout": c.Sessions.IdleTimeout,
		"sessions.absolute_timeout": c.Sessions.AbsoluteTimeout, "signin.flow_ttl": c.SignIn.FlowTTL,
		"tokens.verify_ttl": c.Tokens.VerifyTTL, "tokens.reset_ttl": c.Tokens.ResetTTL,
		"outbox.poll_interval": c.Outbox.PollInterval, "outbox.claim_ttl": c.Outbox.ClaimTTL,
		"outbox.base_backoff": c.Outbox.BaseBackoff, "outbox.max_backoff": c.Outbox.MaxBackoff,
		"events.retention": c.Events.Retention, "two_step.remember_for": c.TwoStep.RememberFor,
		"two_step.challenge_after": c.TwoStep.ChallengeAfter, "two_step.step_up_ttl": c.TwoStep.StepUpTTL,
	} {
		if d <= 0 {
			bad(key, "must be a positive duration such as 15m")
		}
	}
	if c.Sessions.IdleTimeout > c.Sessions.AbsoluteTimeout {
		bad("sessions.idle_timeout", "must not exceed sessions.absolute_timeout")
	}
	if c.TwoStep.StepUpTTL > time.Hour {
		bad("two_step.step_up_ttl", "must be at most 1h")
	}
	if c.Tokens.ResetTTL > 15*time.Minute {
		bad("tokens.reset_ttl", "must be at most 15m")
	}
	if c.Tokens.MaxCodeTries < 1 || c.Tokens.MaxCodeTries > 10 {
		bad("tokens.max_code_tries", "must be between 1 and 10")
	}
	if c.Outbox.MaxAttempts < 1 {
		bad("outbox.max_attempts", "must be at least 1")
	}
	p := c.Password
	if p.MinLength < 8 {
		bad("password.min_length", "must be at least 8 (NIST SP 800-63B)")
	}
	if p.MaxLength < password.MaxLengthFloor || p.MaxLength < p.MinLength {
		bad("password.max_length", "must be at least 64 and at least min_length")
	}
	if p.MaxLength > 4096 {
		bad("password.max_length", "must be at most 4096")
	}
	if p.Argon2.MemoryKiB < 19456 {
		bad("password.argon2.memory_kib", "must be at least 19456 (19 MiB)")
	}
	if p.Argon2.Time < 1 || p.Argon2.MemoryKiB*p.Argon2.Time < 19456*2 {
		bad("password.argon2.time", "must be at least 1, with memory_kib × time at least 38912")
	}
	if p.Argon2.Threads < 1 || p.Argon2.Threads > 255 {
		bad("password.argon2.threads", "must be between 1 and 255")
	}
	if p.MaxConcurrentHashes < 0 {
		bad("password.max_concurrent_hashes", "must not be negative")
	}
	return errors.Join(errs...)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// mfa builds the means of 2-step verification: the sealer and backup-code
// key always, security keys and passkeys when enabled, with the relying
// party derived from the base URL.
//
// WebAuthn needs a host name (and https, but for localhost): a server
// whose base URL is an IP address serves without it, and says so.
func (c TwoStepConfig) mfa(product string, baseURL *url.URL, log *slog.Logger, sealKey, backupKey, handleKey []byte, clock mamoru.Clock) (*account.MFA, error) {
	sealer, err := mfa.NewSealer(sealKey)
	if err != nil {
		return nil, err
	}
	out := &account.MFA{Sealer: sealer, BackupKey: backupKey}
	if !c.WebAuthn {
		return out, nil
	}
	rpID, origin, err := mfa.RelyingParty(baseURL.String())
	if err == nil {
		out.WebAuthn, err = mfa.NewWebAuthn(mfa.WebAuthnConfig{RPID: rpID, RPDisplayName: product, RPOrigins: []string{origin},
			UserHandleKey: handleKey, Clock: clock})
	}
	if err != nil {
		log.Warn("security keys and passkeys are off: WebAuthn needs a host name; set base_url (e.g. http://localhost:8080)",
			"base_url", baseURL.String(), "err", err)
		return out, nil
	}
	return out, nil
}
