// Package delivery sends the outbox's messages for real: email over SMTP
// (SMTPSender), SMS through a Twilio-style Messages API (TwilioSender) or
// a signed JSON webhook (WebhookSMSSender), and a Router that picks the
// sender by the message's channel. Every sender implements notify.Sender
// (Send(ctx, *mamoru.Message) error); SMTPSender and Router also
// implement BatchSender, which sends a whole batch over one SMTP
// connection.
//
// An error from a sender means "not delivered". A permanent one (the
// recipient does not exist, the address is not valid, the provider
// refuses the message for good) wraps ErrPermanent and has a method
// Permanent() bool that returns true, so that the outbox worker parks the
// message at once instead of retrying; every other error is temporary
// (the server is down, slow or busy, the configuration is wrong) and the
// worker retries with backoff. docs/delivery.md lists which is which.
package delivery

import (
	"context"
	"errors"

	"github.com/mamoru-id/mamoru"
)

// Sender delivers one message; the same method set as notify.Sender.
type Sender interface {
	Send(ctx context.Context, m *mamoru.Message) error
}

// BatchSender delivers several messages at once, for example over one
// SMTP connection. It returns one error per message, in order, nil for
// each one delivered. ctx bounds the whole batch; each step of each
// message has the sender's own timeout too.
type BatchSender interface {
	SendBatch(ctx context.Context, ms []*mamoru.Message) []error
}

// ErrPermanent is in the chain of every permanent delivery error:
// errors.Is(err, ErrPermanent).
var ErrPermanent = errors.New("permanent delivery failure")

// PermanentError is a failure that retrying cannot cure.
type PermanentError struct{ Err error }

// Error implements error.
func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }

// Unwrap returns ErrPermanent and the cause.
func (e *PermanentError) Unwrap() []error { return []error{ErrPermanent, e.Err} }

// Permanent reports true; the outbox worker checks for this method
// (notify.Permanent) without importing this package.
func (e *PermanentError) Permanent() bool { return true }

// permanent wraps err as a PermanentError.
func permanent(err error) error { return &PermanentError{Err: err} }

// IsPermanent reports whether err, or an error in its chain, says it is
// permanent.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}
