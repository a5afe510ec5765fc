package risk

import (
	"errors"
	"time"
)

// Limits bound a History.
type Limits struct {
	MaxAge    time.Duration // values not seen for longer are forgotten (default 180 days)
	MaxLogins int           // sign-ins remembered (default 100); older ones fade out
}

// maxLogins is the largest Limits.MaxLogins (counts are 16-bit).
const maxLogins = 10000

// History is one account's legitimate sign-ins, kept compactly: for each
// feature value a 64-bit hash, a count and the day it was last seen, plus
// the last sign-in's time and place, and the values the owner marked
// hostile. The zero value is not usable: use NewHistory or DecodeHistory.
// A History is not safe for concurrent use.
type History struct {
}

// NewHistory returns an empty history.
func NewHistory() *History { return &History{} }

// DecodeHistory decodes what Encode wrote. It returns an error, never
// panics, on anything else.
func DecodeHistory(b []byte) (*History, error) {
	return nil, errors.New("risk: not implemented")
}

// Encode returns h in a versioned compact binary form.
func (h *History) Encode() []byte { return nil }

// Learn records a legitimate sign-in: one that succeeded and was not
// denied, or that the owner confirmed ("this was me"). It keeps h within
// l (zero fields take the defaults).
func (h *History) Learn(a Attempt, l Limits) {}

// MarkHostile records the owner's "this wasn't me" about a: it takes a
// out of the legitimate history, and its identifying values (device,
// IP, prefix, User-Agent, and any network, place or client the account had
// not otherwise used) become hostile for the account.
func (h *History) MarkHostile(a Attempt) {}

// Logins returns how many sign-ins h remembers (at most Limits.MaxLogins).
func (h *History) Logins() int { return 0 }
