package notify

import (
	"context"

	"github.com/mamoru-id/mamoru"
)

// DevSender is the sender of development mode: it delivers nowhere. The
// message stays in the outbox, marked sent, where /dev/outbox shows it.
type DevSender struct{}

// Send implements Sender.
func (DevSender) Send(ctx context.Context, m *mamoru.Message) error { return nil }

// OutboxReader implements mamoru.OutboxService over a Store, for the dev
// outbox pages.
type OutboxReader struct{ Store mamoru.Store }

var _ mamoru.OutboxService = OutboxReader{}

// ListMessages implements mamoru.OutboxService.
func (o OutboxReader) ListMessages(ctx context.Context, f mamoru.MessageFilter) ([]*mamoru.Message, error) {
	var out []*mamoru.Message
	err := o.Store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		out, err = tx.ListMessages(ctx, f)
		return err
	})
	return out, err
}

// MessageByID implements mamoru.OutboxService.
func (o OutboxReader) MessageByID(ctx context.Context, id string) (*mamoru.Message, error) {
	var m *mamoru.Message
	err := o.Store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		m, err = tx.MessageByID(ctx, id)
		return err
	})
	return m, err
}
