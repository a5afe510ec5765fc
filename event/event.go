// Package event records security events. A Recorder fills in what every
// event carries (ID, time, the place of the IP address and the device of
// the User-Agent), stores the event in the caller's transaction and hands
// it to its sinks (webhooks) in the same transaction, so that an event
// and everything it causes commit together with the change it describes.
//
// It must not send anything itself, nor decide what is worth recording:
// the services do.
package event

import (
	"context"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/mamoru-id/mamoru"
)

// Sink receives every recorded event inside the transaction that records
// it. An error aborts the transaction.
type Sink interface {
	EventRecorded(ctx context.Context, tx mamoru.Tx, e *mamoru.Event) error
}

// Recorder implements mamoru.EventRecorder.
type Recorder struct {
	clock  mamoru.Clock
	locate func(netip.Addr) mamoru.Place
	device func(userAgent string) mamoru.Device
	sinks  []Sink
}

var _ mamoru.EventRecorder = (*Recorder)(nil)

// Limits of what an event keeps of the request.
const (
	maxUserAgent = 512
	maxIP        = 64
	maxDetail    = 320
)

// New returns a Recorder. locate and device may be nil (places and
// devices are then unknown).
func New(clock mamoru.Clock, locate func(netip.Addr) mamoru.Place, device func(string) mamoru.Device, sinks ...Sink) *Recorder {
	if locate == nil {
		locate = func(netip.Addr) mamoru.Place { return mamoru.Place{} }
	}
	if device == nil {
		device = func(string) mamoru.Device { return mamoru.Device{} }
	}
	return &Recorder{clock: clock, locate: locate, device: device, sinks: sinks}
}

// AddSink adds a sink; call it before the Recorder is used.
func (r *Recorder) AddSink(s Sink) { r.sinks = append(r.sinks, s) }

// Record implements mamoru.EventRecorder: Enrich, store, then the sinks.
func (r *Recorder) Record(ctx context.Context, tx mamoru.Tx, e *mamoru.Event) error {
	r.Enrich(e)
	if err := tx.AppendEvent(ctx, e); err != nil {
		return err
	}
	for _, s := range r.sinks {
		if err := s.EventRecorded(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

// Enrich implements mamoru.EventRecorder: it sets e.ID and e.Time when
// they are empty, clips what the client sent, and sets e.Place and
// e.Device from e.IP and e.UserAgent when they are unknown.
func (r *Recorder) Enrich(e *mamoru.Event) {
	if e.ID == "" {
		e.ID = mamoru.NewID()
	}
	if e.Time.IsZero() {
		e.Time = r.clock.Now()
	}
	e.IP = clip(e.IP, maxIP)
	e.UserAgent = clip(e.UserAgent, maxUserAgent)
	if !e.Place.Known() {
		if ip, err := netip.ParseAddr(e.IP); err == nil {
			e.Place = r.locate(ip.Unmap())
		}
	}
	if !e.Device.Known() && e.UserAgent != "" {
		e.Device = r.device(e.UserAgent)
	}
	for k, v := range e.Details {
		e.Details[k] = clip(v, maxDetail)
	}
}

// FromRequest returns an event of type t about the account, with the
// client's address and User-Agent.
func FromRequest(t mamoru.EventType, accountID string, req mamoru.Request) *mamoru.Event {
	return &mamoru.Event{Type: t, AccountID: accountID, IP: req.IP, UserAgent: req.UserAgent}
}

// clip cuts s to at most n bytes at a rune boundary and drops invalid
// UTF-8, so that whatever a client sent is safe to store.
func clip(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
