package delivery

import (
	"context"
	"fmt"

	"github.com/mamoru-id/mamoru"
)

// Router sends each message with the sender of its channel. A nil sender
// means the channel is not configured: its messages fail permanently, so
// the worker parks them at once rather than retrying in vain.
type Router struct {
	Email   Sender // mamoru.ChannelEmail, e.g. *SMTPSender
	SMS     Sender // mamoru.ChannelSMS, e.g. *TwilioSender or *WebhookSMSSender
	Webhook Sender // mamoru.ChannelWebhook
}

var (
	_ Sender      = (*Router)(nil)
	_ BatchSender = (*Router)(nil)
)

// sender returns the sender of ch.
func (r *Router) sender(ch mamoru.Channel) (Sender, error) {
	var s Sender
	switch ch {
	case mamoru.ChannelEmail:
		s = r.Email
	case mamoru.ChannelSMS:
		s = r.SMS
	case mamoru.ChannelWebhook:
		s = r.Webhook
	}
	if s == nil {
		return nil, permanent(fmt.Errorf("no sender configured for channel %q", ch))
	}
	return s, nil
}

// Send implements notify.Sender.
func (r *Router) Send(ctx context.Context, m *mamoru.Message) error {
	s, err := r.sender(m.Channel)
	if err != nil {
		return err
	}
	return s.Send(ctx, m)
}

// SendBatch implements BatchSender: the email messages of the batch go
// together to the email sender's SendBatch when it has one; every other
// message goes alone, in order.
func (r *Router) SendBatch(ctx context.Context, ms []*mamoru.Message) []error {
	errs := make([]error, len(ms))
	var emails []int
	for i, m := range ms {
		if m.Channel == mamoru.ChannelEmail && r.Email != nil {
			if _, ok := r.Email.(BatchSender); ok {
				emails = append(emails, i)
				continue
			}
		}
		errs[i] = r.Send(ctx, m)
	}
	if len(emails) > 0 {
		batch := make([]*mamoru.Message, len(emails))
		for j, i := range emails {
			batch[j] = ms[i]
		}
		for j, err := range r.Email.(BatchSender).SendBatch(ctx, batch) {
			errs[emails[j]] = err
		}
	}
	return errs
}
