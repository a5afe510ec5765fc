package risk

import (
	"net/netip"
	"sync"
	"time"
)

// Reputation tells how many sign-ins failed recently from an address or a
// network. The window is the implementation's; Config.FailureWindow says
// it for explanations.
type Reputation interface {
	IPFailures(ip netip.Addr, now time.Time) int
	ASNFailures(asn uint32, now time.Time) int
}

// Window counts failed sign-ins in memory over a sliding window, per IP
// address (IPv6 per /64, which one subscriber usually holds) and per ASN.
// It keeps two fixed windows per key, the current and the previous one,
// and weighs the previous by how much of it the sliding window still
// covers (an estimate that is exact for steady rates). Memory is bounded:
// at most MaxWindowKeys addresses and as many ASNs; when full, expired
// keys go first, then arbitrary ones. It is safe for concurrent use.
type Window struct {
	d   time.Duration
	mu  sync.Mutex
	ips map[netip.Addr]*counter
	asn map[uint32]*counter
}

// MaxWindowKeys is how many addresses (and how many ASNs) a Window
// tracks at once.
const MaxWindowKeys = 1 << 17

// counter is the failures of one key in two fixed windows.
type counter struct {
	slot      int64 // index of the current fixed window
	cur, prev uint32
}

var _ Reputation = (*Window)(nil)

// NewWindow returns a Window counting failures over the last d (an hour
// if d <= 0).
func NewWindow(d time.Duration) *Window {
	if d <= 0 {
		d = time.Hour
	}
	return &Window{d: d, ips: map[netip.Addr]*counter{}, asn: map[uint32]*counter{}}
}

// Fail counts a failed sign-in from ip (unless zero) in asn (unless 0) at
// time at.
func (w *Window) Fail(ip netip.Addr, asn uint32, at time.Time) {
	slot := w.slot(at)
	w.mu.Lock()
	defer w.mu.Unlock()
	if ip.IsValid() {
		k := windowKey(ip)
		c := w.ips[k]
		if c == nil {
			if len(w.ips) >= MaxWindowKeys {
				evict(w.ips, slot)
			}
			c = &counter{slot: slot}
			w.ips[k] = c
		}
		c.add(slot)
	}
	if asn != 0 {
		c := w.asn[asn]
		if c == nil {
			if len(w.asn) >= MaxWindowKeys {
				evict(w.asn, slot)
			}
			c = &counter{slot: slot}
			w.asn[asn] = c
		}
		c.add(slot)
	}
}

// IPFailures implements Reputation.
func (w *Window) IPFailures(ip netip.Addr, now time.Time) int {
	if !ip.IsValid() {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.count(w.ips[windowKey(ip)], now)
}

// ASNFailures implements Reputation.
func (w *Window) ASNFailures(asn uint32, now time.Time) int {
	if asn == 0 {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.count(w.asn[asn], now)
}

// slot returns the index of the fixed window holding t.
func (w *Window) slot(t time.Time) int64 {
	n := t.UnixNano()
	s := n / int64(w.d)
	if n < 0 && n%int64(w.d) != 0 {
		s--
	}
	return s
}

// count estimates c's failures in the sliding window ending at now.
func (w *Window) count(c *counter, now time.Time) int {
	if c == nil {
		return 0
	}
	slot := w.slot(now)
	var cur, prev uint32
	switch slot {
	case c.slot:
		cur, prev = c.cur, c.prev
	case c.slot + 1:
		prev = c.cur
	default:
		return 0
	}
	into := now.UnixNano() - slot*int64(w.d) // time into the current fixed window
	frac := 1 - float64(into)/float64(w.d)
	return int(cur) + int(float64(prev)*frac+0.5)
}

// add counts one failure in slot.
func (c *counter) add(slot int64) {
	switch {
	case slot == c.slot:
		c.cur++
	case slot == c.slot-1:
		c.prev++
	case slot == c.slot+1:
		c.slot, c.prev, c.cur = slot, c.cur, 1
	case slot > c.slot:
		c.slot, c.prev, c.cur = slot, 0, 1
	}
	// Older than the previous window: not counted.
}

// windowKey is the key of ip: itself, or its /64 for IPv6.
func windowKey(ip netip.Addr) netip.Addr {
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return ip
}

// evict makes room in m: it drops the keys with nothing in the window of
// slot, then arbitrary keys until m is 7/8 full.
func evict[K comparable](m map[K]*counter, slot int64) {
	for k, c := range m {
		if c.slot < slot-1 {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) <= MaxWindowKeys*7/8 {
			break
		}
		delete(m, k)
	}
}
