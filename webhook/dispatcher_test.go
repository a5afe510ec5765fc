package webhook

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// captureTx is a mamoru.Tx that only keeps enqueued messages (any other
// method panics).
type captureTx struct {
	mamoru.Tx
	msgs []*mamoru.Message
}

func (c *captureTx) EnqueueMessage(_ context.Context, m *mamoru.Message) error {
	c.msgs = append(c.msgs, m)
	return nil
}

func TestEventRecorded(t *testing.T) {
	keys := testKeys(t)
	store := openStore(t)
	clock := mamoru.NewFakeClock(t0.Add(time.Second))
	all := endpoint("all", "https://all.example.com/hook", "")
	signIns := endpoint("signins", "https://signins.example.com/hook", "")
	signIns.Events = []string{"sign_in.*"}
	set := endpoint("risc", "https://risc.example.com/hook", "set")
	set.Audience = "risc-receiver"
	set.Events = []string{"password.changed", "sign_in.failed"}
	d, err := NewDispatcher(Config{Endpoints: []Endpoint{all, signIns, set}}, testIssuer, keys, clock)
	if err != nil {
		t.Fatal(err)
	}

	events := sampleEvents()
	for _, name := range []string{"password.changed", "sign_in.failed", "email.changed"} {
		if err := store.Update(ctx, func(tx mamoru.Tx) error { return d.EventRecorded(ctx, tx, events[name]) }); err != nil {
			t.Fatal(err)
		}
	}
	var msgs []*mamoru.Message
	store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		msgs, err = tx.ListMessages(ctx, mamoru.MessageFilter{Channel: mamoru.ChannelWebhook})
		return err
	})
	got := map[string]*mamoru.Message{}
	for _, m := range msgs {
		got[m.To+" "+m.Template] = m
	}
	want := []string{"all password.changed", "risc password.changed", "all sign_in.failed", "signins sign_in.failed",
		"risc sign_in.failed", "all email.changed"}
	if len(msgs) != len(want) {
		t.Errorf("%d deliveries, want %d: %v", len(msgs), len(want), keysOf(got))
	}
	jwks := fetchJWKS(t, keys)
	for _, w := range want {
		m := got[w]
		if m == nil {
			t.Errorf("no delivery %q", w)
			continue
		}
		e := events[m.Template]
		wantKey := m.To + ":" + e.AccountID
		if e.AccountID == "" {
			wantKey = m.To + ":-"
		}
		if m.Channel != mamoru.ChannelWebhook || m.Subject != e.ID || m.AccountID != e.AccountID ||
			m.OrderKey != wantKey || !m.CreatedAt.Equal(clock.Now()) || !m.NextAttemptAt.Equal(clock.Now()) {
			t.Errorf("%s: %+v", w, m)
		}
		if m.To == "risc" {
			_, claims := verifySET(t, jwks, m.Text)
			if claims["aud"] != "risc-receiver" || claims["jti"] != m.ID || claims["txn"] != e.ID {
				t.Errorf("%s: claims %v", w, claims)
			}
		} else if want, _ := marshalPayload(e); m.Text != string(want) {
			t.Errorf("%s: text %s, want %s", w, m.Text, want)
		}
	}
}

func keysOf(m map[string]*mamoru.Message) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestNewDispatcher(t *testing.T) {
	set := Config{Endpoints: []Endpoint{endpoint("s", "https://s.example.com", "set")}}
	if _, err := NewDispatcher(set, testIssuer, nil, nil); err == nil || !strings.Contains(err.Error(), "KeySet") {
		t.Errorf("set endpoint without keys: %v", err)
	}
	if _, err := NewDispatcher(set, "id.example.com", testKeys(t), nil); err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Errorf("relative issuer: %v", err)
	}
	if _, err := NewDispatcher(Config{Endpoints: []Endpoint{{Name: "x"}}}, testIssuer, nil, nil); err == nil {
		t.Error("an invalid config was accepted")
	}
	d, err := NewDispatcher(Config{}, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.EventRecorded(ctx, &captureTx{}, &mamoru.Event{}); err != nil {
		t.Errorf("no endpoints: %v", err)
	}
}
