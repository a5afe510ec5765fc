package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/mamoru-id/mamoru"
)

// Dispatcher turns recorded events into webhook deliveries in the outbox.
// It is safe for concurrent use.
type Dispatcher struct {
	endpoints []Endpoint
	issuer    string
	keys      *KeySet
	clock     mamoru.Clock
}

// NewDispatcher returns a Dispatcher for the endpoints of cfg. issuer is the
// public base URL of the server: the "iss" of SETs and of their iss_sub
// subjects. keys signs SETs; it may be nil when no endpoint has format
// "set".
func NewDispatcher(cfg Config, issuer string, keys *KeySet, clock mamoru.Clock) (*Dispatcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, ep := range cfg.Endpoints {
		if ep.format() != FormatSET {
			continue
		}
		if keys == nil {
			return nil, errors.New("webhook: endpoints with format set need a KeySet")
		}
		if u, err := url.Parse(issuer); err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("webhook: the issuer %q is not an absolute URL", issuer)
		}
		break
	}
	if clock == nil {
		clock = mamoru.SystemClock{}
	}
	eps := append([]Endpoint(nil), cfg.Endpoints...)
	for i := range eps {
		eps[i].Events = append([]string(nil), eps[i].Events...)
	}
	return &Dispatcher{endpoints: eps, issuer: issuer, keys: keys, clock: clock}, nil
}

// EventRecorded enqueues, in tx, one delivery of e to every endpoint
// subscribed to its type. The event recorder calls it inside the
// transaction that records e, after e is complete (ID, time, place,
// device), so that the event and its deliveries commit together. The
// payload is built (and a SET signed) now, so that every retry sends the
// same bytes.
//
// Each delivery is a mamoru.Message with Channel ChannelWebhook, To the
// endpoint name, Template the event type, Subject the event ID, Text the
// payload, and OrderKey "<endpoint>:<account ID>" ("<endpoint>:-" without
// an account): the outbox delivers one key at a time, in order.
func (d *Dispatcher) EventRecorded(ctx context.Context, tx mamoru.Tx, e *mamoru.Event) error {
	if len(d.endpoints) == 0 {
		return nil
	}
	if e.ID == "" || e.Time.IsZero() {
		return errors.New("webhook: event without ID or time")
	}
	now := d.clock.Now()
	var jsonBody string // built once, shared by the JSON endpoints
	for i := range d.endpoints {
		ep := &d.endpoints[i]
		if !subscribed(ep.Events, e.Type) {
			continue
		}
		m := &mamoru.Message{
			ID:            mamoru.NewID(),
			AccountID:     e.AccountID,
			Channel:       mamoru.ChannelWebhook,
			To:            ep.Name,
			Template:      string(e.Type),
			Subject:       e.ID,
			OrderKey:      orderKey(ep.Name, e.AccountID),
			CreatedAt:     now,
			NextAttemptAt: now,
		}
		switch ep.format() {
		case FormatSET:
			token, err := buildSET(d.keys, d.issuer, ep.audience(), m.ID, e, now)
			if err != nil {
				return fmt.Errorf("webhook: endpoint %s: %w", ep.Name, err)
			}
			m.Text = token
		default:
			if jsonBody == "" {
				b, err := marshalPayload(e)
				if err != nil {
					return fmt.Errorf("webhook: payload: %w", err)
				}
				jsonBody = string(b)
			}
			m.Text = jsonBody
		}
		if err := tx.EnqueueMessage(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// orderKey orders the deliveries of one endpoint and account.
func orderKey(endpoint, accountID string) string {
	if accountID == "" {
		return endpoint + ":-"
	}
	return endpoint + ":" + accountID
}
