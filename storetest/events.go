package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// newEvent returns an event with every field but the feedback set.
func newEvent(accountID string, typ mamoru.EventType, at time.Time) *mamoru.Event {
	return &mamoru.Event{
		ID: mamoru.NewID(), AccountID: accountID, Type: typ, Time: at,
		IP: "2001:db8::7", UserAgent: "Mozilla/5.0 テスト",
		Place: mamoru.Place{Country: "JP", Region: "Tokyo", RegionJA: "東京都", City: "Shinjuku", CityJA: "新宿区",
			Latitude: 35.6938, Longitude: 139.7034, HasCoords: true, RadiusKM: 20, ASN: 2516, Org: "KDDI"},
		Device:    mamoru.Device{Browser: "Chrome", BrowserVersion: "131", OS: "Windows", OSVersion: "10", Type: "desktop"},
		SessionID: "sess-1", Outcome: "success",
		Details: map[string]string{mamoru.DetailReason: "テスト \"quoted\" <b>"},
		Risk: &mamoru.RiskSummary{Score: 3.25, Decision: "challenge", Reasons: []mamoru.RiskReason{
			{Code: "new_country", Params: map[string]string{"country": "RU"}}, {Code: "new_device"}}},
	}
}

func appendEvents(t *testing.T, s mamoru.Store, list ...*mamoru.Event) {
	t.Helper()
	update(t, s, func(tx mamoru.Tx) error {
		for _, e := range list {
			if err := tx.AppendEvent(ctx(t), e); err != nil {
				return err
			}
		}
		return nil
	})
}

func listEvents(t *testing.T, s mamoru.Store, f mamoru.EventFilter) []*mamoru.Event {
	t.Helper()
	var out []*mamoru.Event
	view(t, s, func(tx mamoru.Tx) error {
		var err error
		out, err = tx.ListEvents(ctx(t), f)
		return err
	})
	return out
}

func eventIDs(list []*mamoru.Event) []string {
	var out []string
	for _, e := range list {
		out = append(out, e.ID)
	}
	return out
}

func wantEventIDs(t *testing.T, what string, got []*mamoru.Event, want ...*mamoru.Event) {
	t.Helper()
	g, w := fmt.Sprint(eventIDs(got)), fmt.Sprint(eventIDs(want))
	if g != w {
		t.Fatalf("%s: got %s, want %s", what, g, w)
	}
}

var eventTests = map[string]func(t *testing.T, s mamoru.Store){
	"RoundTrip": func(t *testing.T, s mamoru.Store) {
		e := newEvent("acct-1", mamoru.EventSignInSucceeded, t0)
		bare := &mamoru.Event{ID: mamoru.NewID(), Type: mamoru.EventSignInFailed, Time: at(time.Second)}
		appendEvents(t, s, e, bare)
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.EventByID(ctx(t), e.ID)
			wantNoErr(t, "EventByID", err)
			equal(t, "event", got, e)
			got, err = tx.EventByID(ctx(t), bare.ID)
			wantNoErr(t, "EventByID", err)
			if got.AccountID != "" || got.Details != nil && len(got.Details) != 0 || got.Place.Known() {
				t.Fatalf("bare event: %+v", got)
			}
			_, err = tx.EventByID(ctx(t), "nope")
			wantCode(t, "EventByID unknown", err, mamoru.ENotFound)
			return nil
		})
		update(t, s, func(tx mamoru.Tx) error {
			wantCode(t, "duplicate", tx.AppendEvent(ctx(t), e), mamoru.EConflict)
			z := newEvent("acct-1", mamoru.EventSignInFailed, time.Time{})
			if err := tx.AppendEvent(ctx(t), z); err == nil {
				t.Fatal("an event with a zero time was stored")
			}
			return nil
		})
	},
	"ListFilterAndPage": func(t *testing.T, s mamoru.Store) {
		a1 := newEvent("a", mamoru.EventSignInSucceeded, t0)
		a2 := newEvent("a", mamoru.EventPasswordChanged, at(time.Minute))
		a3 := newEvent("a", mamoru.EventSignInFailed, at(time.Minute)) // same time: insertion order
		a4 := newEvent("a", mamoru.EventSignInFailed, at(time.Hour))
		b1 := newEvent("b", mamoru.EventSignInSucceeded, at(2*time.Minute))
		none := newEvent("", mamoru.EventSignInFailed, at(3*time.Minute))
		appendEvents(t, s, a1, a2, a3, a4, b1, none)
		wantEventIDs(t, "account a", listEvents(t, s, mamoru.EventFilter{AccountID: "a"}), a4, a3, a2, a1)
		wantEventIDs(t, "types", listEvents(t, s, mamoru.EventFilter{AccountID: "a",
			Types: []mamoru.EventType{mamoru.EventSignInSucceeded, mamoru.EventSignInFailed}}), a4, a3, a1)
		wantEventIDs(t, "since", listEvents(t, s, mamoru.EventFilter{AccountID: "a", Since: at(time.Minute)}), a4, a3, a2)
		wantEventIDs(t, "limit", listEvents(t, s, mamoru.EventFilter{AccountID: "a", Limit: 2}), a4, a3)
		wantEventIDs(t, "before a3", listEvents(t, s, mamoru.EventFilter{AccountID: "a", BeforeID: a3.ID}), a2, a1)
		wantEventIDs(t, "before a3, limit 1", listEvents(t, s, mamoru.EventFilter{AccountID: "a", BeforeID: a3.ID, Limit: 1}), a2)
		wantEventIDs(t, "all accounts", listEvents(t, s, mamoru.EventFilter{AllAccounts: true}), a4, none, b1, a3, a2, a1)
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.ListEvents(ctx(t), mamoru.EventFilter{})
			wantCode(t, "no account", err, mamoru.EInvalidRequest)
			_, err = tx.ListEvents(ctx(t), mamoru.EventFilter{AccountID: "a", BeforeID: "nope"})
			wantCode(t, "unknown BeforeID", err, mamoru.ENotFound)
			return nil
		})
	},
	"Feedback": func(t *testing.T, s mamoru.Store) {
		e := newEvent("a", mamoru.EventSignInSucceeded, t0)
		appendEvents(t, s, e)
		update(t, s, func(tx mamoru.Tx) error {
			wantCode(t, "unknown feedback", tx.SetEventFeedback(ctx(t), e.ID, "maybe", at(time.Minute)), mamoru.EInvalidRequest)
			wantCode(t, "unknown event", tx.SetEventFeedback(ctx(t), "nope", mamoru.FeedbackConfirmed, at(time.Minute)), mamoru.ENotFound)
			wantNoErr(t, "first answer", tx.SetEventFeedback(ctx(t), e.ID, mamoru.FeedbackDenied, at(time.Minute)))
			wantCode(t, "second answer", tx.SetEventFeedback(ctx(t), e.ID, mamoru.FeedbackConfirmed, at(2*time.Minute)), mamoru.EConflict)
			// The transaction is still usable after the conflict.
			got, err := tx.EventByID(ctx(t), e.ID)
			wantNoErr(t, "EventByID", err)
			if got.Feedback != mamoru.FeedbackDenied || !got.FeedbackAt.Equal(at(time.Minute)) {
				t.Fatalf("feedback: %+v", got)
			}
			return nil
		})
	},
	"Retention": func(t *testing.T, s mamoru.Store) {
		old := newEvent("a", mamoru.EventSignInSucceeded, t0)
		keep := newEvent("a", mamoru.EventSignInSucceeded, at(time.Hour))
		appendEvents(t, s, old, keep)
		update(t, s, func(tx mamoru.Tx) error {
			n, err := tx.DeleteEventsBefore(ctx(t), at(time.Minute))
			if err != nil || n != 1 {
				t.Fatalf("DeleteEventsBefore: %d %v", n, err)
			}
			return nil
		})
		wantEventIDs(t, "after retention", listEvents(t, s, mamoru.EventFilter{AccountID: "a"}), keep)
	},
}
