package risk

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"
)

// Bands are the score thresholds (on the log10 scale of the package doc)
// at or above which the score alone asks for each decision. +Inf turns a
// band off. They must not decrease from Notify to Deny. The defaults are
// Notify 2 (100 times likelier an attacker than the owner), Challenge 4
// (10,000 times), Approval and Deny off: with 100 sign-ins of history a
// sign-in new in one way (a new network, or device) scores up to about 2,
// in three ways about 5 to 6, and rules, not the score, deny.
type Bands struct {
	Notify, Challenge, Approval, Deny float64
}

// Lists are the operator's network and country lists.
type Lists struct {
	AllowCIDRs, DenyCIDRs             []netip.Prefix // trusted and refused networks
	HostingASNs, AnonymizerASNs       []uint32       // hosting providers; VPN, proxy and Tor networks
	DenyCountries, ChallengeCountries []string       // ISO 3166-1 alpha-2
}

// Config is the risk policy. New fills zero fields with the defaults of
// DefaultConfig (zero Bands: the default bands); to turn a rule off,
// override its reason code with Allow.
type Config struct {
	Bands Bands
	// Overrides maps a reason code to the decision it forces at least,
	// instead of its default; Allow makes the reason force nothing. For
	// allow_cidr it is the cap instead (Deny: no cap).
	Overrides map[string]Decision
	// Audit makes Assess decide and say so (Assessment.Audit) without the
	// decision being enforced: the caller records it and allows.
	Audit  bool
	Limits Limits // the bounds of a History (for Learn)
	Lists  Lists
	// MaxSpeedKMH is the fastest believable travel between two sign-ins
	// (default 1000 km/h).
	MaxSpeedKMH float64
	// IPFailures and ASNFailures are the failed sign-ins in a
	// Reputation's window from which an IP or an ASN is suspect.
	IPFailures, ASNFailures int
	// FailureWindow is the span of the Reputation's counts, for
	// explanations (default 1 hour).
	FailureWindow time.Duration
	// LongAbsence is the time since the last sign-in after which a sign-in
	// is challenged (default 90 days).
	LongAbsence time.Duration
}

// The defaults of DefaultConfig.
const (
	DefaultMaxAge        = 180 * 24 * time.Hour
	DefaultMaxLogins     = 100
	DefaultMaxSpeedKMH   = 1000
	DefaultIPFailures    = 30
	DefaultASNFailures   = 1000
	DefaultFailureWindow = time.Hour
	DefaultLongAbsence   = 90 * 24 * time.Hour
)

// DefaultConfig returns the default policy: bands Notify 2, Challenge 4,
// Approval and Deny off (+Inf); no overrides, lists or audit; history of
// 100 sign-ins over 180 days; 1000 km/h; 30 failures per IP and 1000 per
// ASN in an hour; 90 days of absence.
func DefaultConfig() Config {
	return Config{
		Bands:         Bands{Notify: 2, Challenge: 4, Approval: math.Inf(1), Deny: math.Inf(1)},
		Limits:        Limits{MaxAge: DefaultMaxAge, MaxLogins: DefaultMaxLogins},
		MaxSpeedKMH:   DefaultMaxSpeedKMH,
		IPFailures:    DefaultIPFailures,
		ASNFailures:   DefaultASNFailures,
		FailureWindow: DefaultFailureWindow,
		LongAbsence:   DefaultLongAbsence,
	}
}

// Validate reports every problem of c together.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("risk: "+format, args...)) }
	b := []float64{c.Bands.Notify, c.Bands.Challenge, c.Bands.Approval, c.Bands.Deny}
	for i, v := range b {
		if math.IsNaN(v) {
			bad("band %s is not a number", Decisions[i+1])
		} else if i > 0 && v < b[i-1] {
			bad("band %s (%g) is below band %s (%g)", Decisions[i+1], v, Decisions[i], b[i-1])
		}
	}
	for code, d := range c.Overrides {
		if !knownCode(code) {
			bad("override for unknown reason code %q", code)
		}
		if !d.Valid() {
			bad("override for %s: unknown decision %q", code, d)
		}
	}
	if c.Limits.MaxAge < 0 {
		bad("history max age %v is negative", c.Limits.MaxAge)
	}
	if c.Limits.MaxLogins < 0 || c.Limits.MaxLogins > maxLogins {
		bad("history max logins %d is outside 0..%d", c.Limits.MaxLogins, maxLogins)
	}
	for _, p := range append(append([]netip.Prefix(nil), c.Lists.AllowCIDRs...), c.Lists.DenyCIDRs...) {
		if !p.IsValid() {
			bad("invalid CIDR %v in a list", p)
		}
	}
	for _, cc := range append(append([]string(nil), c.Lists.DenyCountries...), c.Lists.ChallengeCountries...) {
		if !validCountry(cc) {
			bad("country %q in a list is not an ISO 3166-1 alpha-2 code", cc)
		}
	}
	if math.IsNaN(c.MaxSpeedKMH) || c.MaxSpeedKMH < 0 {
		bad("max speed %g km/h is not a positive number", c.MaxSpeedKMH)
	}
	if c.IPFailures < 0 || c.ASNFailures < 0 {
		bad("failure thresholds must not be negative")
	}
	if c.FailureWindow < 0 || c.LongAbsence < 0 {
		bad("durations must not be negative")
	}
	return errors.Join(errs...)
}

// validCountry reports whether s is two ASCII letters.
func validCountry(s string) bool {
	if len(s) != 2 {
		return false
	}
	for i := 0; i < 2; i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
