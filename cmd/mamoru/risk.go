package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru/clientip"
	"github.com/mamoru-id/mamoru/risk"
)

// RiskConfig is the risk policy (docs/risk.md), as the configuration file
// and the environment spell it.
type RiskConfig struct {
	Enabled            bool          `yaml:"enabled" doc:"assess every sign-in with a right password; false signs in on the password alone"`
	Audit              bool          `yaml:"audit" doc:"decide and record every assessment but enforce none (for rollout)"`
	NotifyAt           float64       `yaml:"notify_at" doc:"score (log10 likelihood ratio) from which the owner is told; 0 turns the band off"`
	ChallengeAt        float64       `yaml:"challenge_at" doc:"score from which a code is asked; 0 turns the band off"`
	ApprovalAt         float64       `yaml:"approval_at" doc:"score from which the owner's approval is asked; 0 turns the band off"`
	DenyAt             float64       `yaml:"deny_at" doc:"score from which the sign-in is refused; 0 turns the band off"`
	Overrides          []string      `yaml:"overrides" doc:"reason=decision pairs, e.g. new_device=challenge, hosting_asn=allow"`
	AllowCIDRs         []string      `yaml:"allow_cidrs" doc:"networks whose sign-ins are at most notified (unless hostile)"`
	DenyCIDRs          []string      `yaml:"deny_cidrs" doc:"networks whose sign-ins are refused"`
	HostingASNs        []string      `yaml:"hosting_asns" doc:"ASNs of hosting providers (e.g. AS16509)"`
	AnonymizerASNs     []string      `yaml:"anonymizer_asns" doc:"ASNs of VPN, proxy and Tor networks"`
	DenyCountries      []string      `yaml:"deny_countries" doc:"ISO 3166-1 codes whose sign-ins are refused"`
	ChallengeCountries []string      `yaml:"challenge_countries" doc:"ISO 3166-1 codes whose sign-ins are challenged"`
	MaxSpeedKMH        float64       `yaml:"max_speed_kmh" doc:"fastest believable travel between two sign-ins (impossible travel above it)"`
	HistoryMaxAge      time.Duration `yaml:"history_max_age" doc:"sign-ins older than this leave an account's history"`
	HistoryMaxLogins   int           `yaml:"history_max_logins" doc:"sign-ins an account's history keeps at most"`
	IPFailures         int           `yaml:"ip_failures" doc:"failed sign-ins from one IP in the window from which it is suspect"`
	ASNFailures        int           `yaml:"asn_failures" doc:"failed sign-ins from one ASN in the window from which it is suspect"`
	FailureWindow      time.Duration `yaml:"failure_window" doc:"the window of the failure counts"`
	LongAbsence        time.Duration `yaml:"long_absence" doc:"time since the last sign-in after which a sign-in is challenged"`
}

// defaultRiskConfig spells risk.DefaultConfig.
func defaultRiskConfig() RiskConfig {
	d := risk.DefaultConfig()
	band := func(f float64) float64 {
		if math.IsInf(f, 1) {
			return 0
		}
		return f
	}
	return RiskConfig{
		Enabled: true, Audit: d.Audit,
		NotifyAt: band(d.Bands.Notify), ChallengeAt: band(d.Bands.Challenge),
		ApprovalAt: band(d.Bands.Approval), DenyAt: band(d.Bands.Deny),
		MaxSpeedKMH: d.MaxSpeedKMH, HistoryMaxAge: d.Limits.MaxAge, HistoryMaxLogins: d.Limits.MaxLogins,
		IPFailures: d.IPFailures, ASNFailures: d.ASNFailures, FailureWindow: d.FailureWindow,
		LongAbsence: d.LongAbsence,
	}
}

// policy is the risk.Config of the configuration, or every problem of it.
func (c RiskConfig) policy() (risk.Config, error) {
	var errs []error
	band := func(f float64) float64 {
		if f == 0 {
			return math.Inf(1)
		}
		return f
	}
	out := risk.Config{
		Bands:       risk.Bands{Notify: band(c.NotifyAt), Challenge: band(c.ChallengeAt), Approval: band(c.ApprovalAt), Deny: band(c.DenyAt)},
		Audit:       c.Audit,
		Limits:      risk.Limits{MaxAge: c.HistoryMaxAge, MaxLogins: c.HistoryMaxLogins},
		MaxSpeedKMH: c.MaxSpeedKMH, IPFailures: c.IPFailures, ASNFailures: c.ASNFailures,
		FailureWindow: c.FailureWindow, LongAbsence: c.LongAbsence,
		Lists: risk.Lists{DenyCountries: upper(c.DenyCountries), ChallengeCountries: upper(c.ChallengeCountries)},
	}
	if len(c.Overrides) > 0 {
		out.Overrides = map[string]risk.Decision{}
		for _, o := range c.Overrides {
			code, dec, ok := strings.Cut(o, "=")
			if !ok {
				errs = append(errs, fmt.Errorf("overrides: %q is not reason=decision", o))
				continue
			}
			out.Overrides[strings.TrimSpace(code)] = risk.Decision(strings.TrimSpace(dec))
		}
	}
	var err error
	if out.Lists.AllowCIDRs, err = clientip.ParseTrusted(c.AllowCIDRs); err != nil {
		errs = append(errs, fmt.Errorf("allow_cidrs: %w", err))
	}
	if out.Lists.DenyCIDRs, err = clientip.ParseTrusted(c.DenyCIDRs); err != nil {
		errs = append(errs, fmt.Errorf("deny_cidrs: %w", err))
	}
	if out.Lists.HostingASNs, err = asns(c.HostingASNs); err != nil {
		errs = append(errs, fmt.Errorf("hosting_asns: %w", err))
	}
	if out.Lists.AnonymizerASNs, err = asns(c.AnonymizerASNs); err != nil {
		errs = append(errs, fmt.Errorf("anonymizer_asns: %w", err))
	}
	if err := out.Validate(); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

func upper(list []string) []string {
	var out []string
	for _, s := range list {
		out = append(out, strings.ToUpper(strings.TrimSpace(s)))
	}
	return out
}

// asns parses "AS2516" or "2516".
func asns(list []string) ([]uint32, error) {
	var out []uint32
	var errs []error
	for _, s := range list {
		t := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "AS")
		n, err := strconv.ParseUint(t, 10, 32)
		if err != nil || n == 0 {
			errs = append(errs, fmt.Errorf("%q is not an ASN", s))
			continue
		}
		out = append(out, uint32(n))
	}
	return out, errors.Join(errs...)
}
