package delivery_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/delivery"
	"github.com/mamoru-id/mamoru/notify"
)

var _ notify.Sender = (*delivery.Router)(nil)

// fake records what it was asked to send and fails the recipients in
// fail.
type fake struct {
	mu      sync.Mutex
	sent    []string
	batches [][]string
	fail    map[string]error
}

func (f *fake) Send(ctx context.Context, m *mamoru.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, m.To)
	return f.fail[m.To]
}

// fakeBatch is a fake with SendBatch.
type fakeBatch struct{ fake }

func (f *fakeBatch) SendBatch(ctx context.Context, ms []*mamoru.Message) []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var tos []string
	errs := make([]error, len(ms))
	for i, m := range ms {
		tos = append(tos, m.To)
		errs[i] = f.fail[m.To]
	}
	f.batches = append(f.batches, tos)
	return errs
}

func msg(ch mamoru.Channel, to string) *mamoru.Message {
	return &mamoru.Message{ID: mamoru.NewID(), Channel: ch, To: to, Text: "x"}
}

func TestRouterSend(t *testing.T) {
	email, sms, hook := &fake{}, &fake{}, &fake{}
	r := &delivery.Router{Email: email, SMS: sms, Webhook: hook}
	for _, m := range []*mamoru.Message{
		msg(mamoru.ChannelEmail, "a@example.com"), msg(mamoru.ChannelSMS, "+819012345678"), msg(mamoru.ChannelWebhook, "endpoint-1"),
	} {
		if err := r.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if len(email.sent) != 1 || email.sent[0] != "a@example.com" || len(sms.sent) != 1 || len(hook.sent) != 1 {
		t.Errorf("email %v, sms %v, webhook %v", email.sent, sms.sent, hook.sent)
	}
	// An error from the sender comes back as it is.
	boom := errors.New("boom")
	email.fail = map[string]error{"b@example.com": boom}
	if err := r.Send(context.Background(), msg(mamoru.ChannelEmail, "b@example.com")); err != boom {
		t.Errorf("err = %v", err)
	}

	// A channel without a sender, or an unknown channel: permanent.
	only := &delivery.Router{Email: email}
	for _, ch := range []mamoru.Channel{mamoru.ChannelSMS, mamoru.ChannelWebhook, "fax", ""} {
		err := only.Send(context.Background(), msg(ch, "x"))
		if !delivery.IsPermanent(err) || !notify.Permanent(err) || !strings.Contains(err.Error(), "no sender configured for channel") {
			t.Errorf("channel %q: %v", ch, err)
		}
	}
}

func TestRouterSendBatch(t *testing.T) {
	email, sms := &fakeBatch{}, &fake{}
	boom := errors.New("boom")
	email.fail = map[string]error{"bad@example.com": boom}
	sms.fail = map[string]error{"+819099999999": boom}
	r := &delivery.Router{Email: email, SMS: sms}
	ms := []*mamoru.Message{
		msg(mamoru.ChannelEmail, "a@example.com"),
		msg(mamoru.ChannelSMS, "+819012345678"),
		msg(mamoru.ChannelEmail, "bad@example.com"),
		msg(mamoru.ChannelWebhook, "endpoint"),
		msg(mamoru.ChannelSMS, "+819099999999"),
		msg(mamoru.ChannelEmail, "c@example.com"),
	}
	errs := r.SendBatch(context.Background(), ms)
	if len(errs) != len(ms) {
		t.Fatalf("%d errors", len(errs))
	}
	if errs[0] != nil || errs[1] != nil || errs[2] != boom || !delivery.IsPermanent(errs[3]) || errs[4] != boom || errs[5] != nil {
		t.Errorf("errs %v", errs)
	}
	if len(email.batches) != 1 || strings.Join(email.batches[0], " ") != "a@example.com bad@example.com c@example.com" || len(email.sent) != 0 {
		t.Errorf("email batches %v, singles %v", email.batches, email.sent)
	}
	if strings.Join(sms.sent, " ") != "+819012345678 +819099999999" {
		t.Errorf("sms %v", sms.sent)
	}

	// An email sender without SendBatch gets the messages one by one.
	plain := &fake{}
	r = &delivery.Router{Email: plain}
	errs = r.SendBatch(context.Background(), ms[:3])
	if len(plain.sent) != 2 || errs[0] != nil || !delivery.IsPermanent(errs[1]) {
		t.Errorf("sent %v, errs %v", plain.sent, errs)
	}
}
