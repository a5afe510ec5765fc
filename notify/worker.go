package notify

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/emailaddr"
	"github.com/mamoru-id/mamoru/phone"
)

// Sender delivers one message. An error means "not delivered, try again
// later"; the worker records it and retries with backoff, unless the error
// says it is permanent (see Permanent): then the message is parked at once.
type Sender interface {
	Send(ctx context.Context, m *mamoru.Message) error
}

// Permanent reports whether err says that retrying cannot help (an
// invalid address, a 5xx SMTP reply, an endpoint that is gone): some error
// in its chain has a method Permanent() bool that returns true.
func Permanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// WorkerConfig tunes the outbox worker.
type WorkerConfig struct {
	PollInterval time.Duration // how often to look for due messages (default 1s)
	Batch        int           // messages claimed at once (default 20)
	ClaimTTL     time.Duration // how long a claim holds before another worker may retry (default 1m)
	MaxAttempts  int           // failures before a message is parked (default 10)
	BaseBackoff  time.Duration // first retry delay (default 5s); doubles each failure
	MaxBackoff   time.Duration // cap of the delay (default 1h)
	SendTimeout  time.Duration // per message (default 30s)
}

func (c *WorkerConfig) defaults() {
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 20
	}
	if c.ClaimTTL <= 0 {
		c.ClaimTTL = time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = 5 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Hour
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = 30 * time.Second
	}
}

// Worker delivers the outbox.
type Worker struct {
	store  mamoru.Store
	sender Sender
	clock  mamoru.Clock
	log    *slog.Logger
	cfg    WorkerConfig
	kick   chan struct{}
	events mamoru.EventRecorder
}

// SetEvents makes the worker record a notification.sent event for every
// email and SMS it delivers about an account, in the transaction that
// marks it sent; call it before Run.
func (w *Worker) SetEvents(rec mamoru.EventRecorder) { w.events = rec }

// NewWorker returns a Worker.
func NewWorker(store mamoru.Store, sender Sender, clock mamoru.Clock, log *slog.Logger, cfg WorkerConfig) *Worker {
	cfg.defaults()
	return &Worker{store: store, sender: sender, clock: clock, log: log, cfg: cfg, kick: make(chan struct{}, 1)}
}

// Kick wakes the worker now rather than at the next poll.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends. A batch under way when ctx ends is finished
// (with its own timeouts), so that graceful shutdown loses no claim.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.PollInterval)
	defer t.Stop()
	for {
		for {
			n, err := w.RunOnce(context.WithoutCancel(ctx))
			if err != nil {
				w.log.Error("outbox: batch failed", "err", err)
				break
			}
			// Go on until a claim comes back empty: delivering a message
			// may release the next one of its order key.
			if n == 0 || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.kick:
		}
	}
}

// RunOnce claims one batch of due messages, delivers them and records the
// outcome of each. It returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	now := w.clock.Now()
	var batch []*mamoru.Message
	err := w.store.Update(ctx, func(tx mamoru.Tx) error {
		var err error
		batch, err = tx.ClaimMessages(ctx, now, now.Add(w.cfg.ClaimTTL), w.cfg.Batch)
		return err
	})
	if err != nil {
		return 0, err
	}
	// Sending stops well before the claims lapse, so that no other worker
	// takes a message this one is still sending; what is left unsent is
	// claimed again when its claim lapses.
	deadline := now.Add(w.cfg.ClaimTTL * 4 / 5)
	sendErrs := w.send(ctx, batch, deadline)
	for i, m := range batch {
		sendErr := sendErrs[i]
		if sendErr == errNotSent {
			continue
		}
		at := w.clock.Now()
		if sendErr == nil {
			err = w.store.Update(ctx, func(tx mamoru.Tx) error {
				if err := tx.MarkMessageSent(ctx, m.ID, at); err != nil {
					return err
				}
				return w.recordSent(ctx, tx, m)
			})
			if err == nil {
				w.log.Info("outbox: delivered", "message", m.ID, "template", m.Template)
			}
		} else {
			attempts := m.Attempts + 1
			park := attempts >= w.cfg.MaxAttempts || Permanent(sendErr)
			next := at.Add(w.Backoff(attempts))
			err = w.store.Update(ctx, func(tx mamoru.Tx) error {
				return tx.MarkMessageFailed(ctx, m.ID, at, next, sendErr.Error(), park)
			})
			w.log.Warn("outbox: delivery failed", "message", m.ID, "attempt", attempts, "parked", park, "err", sendErr)
		}
		if err != nil {
			return len(batch), err
		}
	}
	return len(batch), nil
}

// BatchSender is a Sender that can deliver several messages at once (an
// SMTP sender over one connection); the worker uses it when the sender
// has it. It returns one error per message, nil for delivered.
type BatchSender interface {
	SendBatch(ctx context.Context, ms []*mamoru.Message) []error
}

// errNotSent marks a message the worker did not try, for lack of time.
var errNotSent = errors.New("not sent")

// send delivers the batch before deadline and returns one error per
// message.
func (w *Worker) send(ctx context.Context, batch []*mamoru.Message, deadline time.Time) []error {
	errs := make([]error, len(batch))
	if b, ok := w.sender.(BatchSender); ok {
		limit := w.clock.Now().Add(w.cfg.SendTimeout * time.Duration(len(batch)))
		if limit.After(deadline) {
			limit = deadline
		}
		sctx, cancel := context.WithTimeout(ctx, limit.Sub(w.clock.Now()))
		defer cancel()
		got := b.SendBatch(sctx, batch)
		for i := range errs {
			if i < len(got) {
				errs[i] = got[i]
			} else {
				errs[i] = errNotSent
			}
		}
		return errs
	}
	for i, m := range batch {
		left := deadline.Sub(w.clock.Now())
		if left <= 0 {
			errs[i] = errNotSent
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, min(w.cfg.SendTimeout, left))
		errs[i] = w.sender.Send(sctx, m)
		cancel()
	}
	return errs
}

// recordSent records that m reached its recipient.
func (w *Worker) recordSent(ctx context.Context, tx mamoru.Tx, m *mamoru.Message) error {
	if w.events == nil || m.AccountID == "" || m.Channel == mamoru.ChannelWebhook {
		return nil
	}
	return w.events.Record(ctx, tx, &mamoru.Event{
		Type: mamoru.EventNotificationSent, AccountID: m.AccountID,
		Details: map[string]string{mamoru.DetailTemplate: m.Template, mamoru.DetailChannel: string(m.Channel), mamoru.DetailTo: MaskRecipient(m)},
	})
}

// MaskRecipient is a message's recipient as logs, events and operators
// see it: the email address or phone number masked; a webhook endpoint's
// name as is.
func MaskRecipient(m *mamoru.Message) string {
	switch m.Channel {
	case mamoru.ChannelEmail:
		return emailaddr.Mask(m.To)
	case mamoru.ChannelSMS:
		return phone.Mask(m.To)
	}
	return m.To
}

// Backoff returns the delay after the given number of failed attempts:
// exponential from BaseBackoff, capped at MaxBackoff, with "full jitter"
// in its upper half so that retries of many messages spread out.
func (w *Worker) Backoff(attempts int) time.Duration {
	d := w.cfg.BaseBackoff
	for i := 1; i < attempts && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	if d > w.cfg.MaxBackoff {
		d = w.cfg.MaxBackoff
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}
