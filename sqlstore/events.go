package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
)

var _ mamoru.EventStore = (*tx)(nil)

const eventColumns = `id, account_id, type, at, ip, user_agent, place, device, session_id,
	outcome, details, feedback, feedback_at, risk`

func (t *tx) scanEvent(row scanner) (*mamoru.Event, error) {
	var e mamoru.Event
	var typ, place, device, details, feedback, risk string
	err := row.Scan(&e.ID, scanNullString(&e.AccountID), &typ, t.scanTime(&e.Time), &e.IP, &e.UserAgent,
		&place, &device, &e.SessionID, &e.Outcome, &details, &feedback, t.scanTime(&e.FeedbackAt), &risk)
	if err != nil {
		return nil, err
	}
	e.Type = mamoru.EventType(typ)
	e.Feedback = mamoru.Feedback(feedback)
	if err := json.Unmarshal([]byte(place), &e.Place); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(device), &e.Device); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
		return nil, err
	}
	if risk != "" {
		if err := json.Unmarshal([]byte(risk), &e.Risk); err != nil {
			return nil, err
		}
	}
	return &e, nil
}

// AppendEvent inserts e; a duplicate ID returns EConflict.
func (t *tx) AppendEvent(ctx context.Context, e *mamoru.Event) error {
	if err := requireTime("append event", e.Time); err != nil {
		return err
	}
	place, err := json.Marshal(e.Place)
	if err != nil {
		return internal("append event", err)
	}
	device, err := json.Marshal(e.Device)
	if err != nil {
		return internal("append event", err)
	}
	details := []byte("{}")
	if len(e.Details) > 0 {
		if details, err = json.Marshal(e.Details); err != nil {
			return internal("append event", err)
		}
	}
	risk := ""
	if e.Risk != nil {
		b, err := json.Marshal(e.Risk)
		if err != nil {
			return internal("append event", err)
		}
		risk = string(b)
	}
	n, err := t.exec(ctx, `INSERT INTO events (`+eventColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		e.ID, nullString(e.AccountID), string(e.Type), t.tm(e.Time), e.IP, e.UserAgent, string(place),
		string(device), e.SessionID, e.Outcome, string(details), string(e.Feedback), t.tm(e.FeedbackAt), risk)
	if err != nil {
		return internal("append event", err)
	}
	if n == 0 {
		return mamoru.Errorf(mamoru.EConflict, "an event with this ID exists")
	}
	return nil
}

// ListEvents returns the events that f selects, newest first.
func (t *tx) ListEvents(ctx context.Context, f mamoru.EventFilter) ([]*mamoru.Event, error) {
	var where []string
	var args []any
	if !f.AllAccounts {
		if f.AccountID == "" {
			return nil, mamoru.Errorf(mamoru.EInvalidRequest, "list events: no account")
		}
		where = append(where, "account_id = ?")
		args = append(args, f.AccountID)
	}
	if len(f.Types) > 0 {
		where = append(where, "type IN ("+strings.Repeat("?, ", len(f.Types)-1)+"?)")
		for _, ty := range f.Types {
			args = append(args, string(ty))
		}
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, t.tm(f.Since))
	}
	if f.BeforeID != "" {
		var at any
		var seq int64
		err := t.queryRow(ctx, `SELECT at, seq FROM events WHERE id = ?`, f.BeforeID).Scan(&at, &seq)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("event")
		}
		if err != nil {
			return nil, internal("list events", err)
		}
		where = append(where, "(at < ? OR (at = ? AND seq < ?))")
		args = append(args, at, at, seq)
	}
	q := `SELECT ` + eventColumns + ` FROM events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	q += ` ORDER BY at DESC, seq DESC LIMIT ?`
	args = append(args, limit)
	list, err := queryList(ctx, t, t.scanEvent, q, args...)
	return list, internal("list events", err)
}

// EventByID returns the event or ENotFound.
func (t *tx) EventByID(ctx context.Context, id string) (*mamoru.Event, error) {
	e, err := t.scanEvent(t.queryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id))
	return one(e, err, "event by id", "event")
}

// SetEventFeedback records the owner's answer if the event has none.
func (t *tx) SetEventFeedback(ctx context.Context, id string, fb mamoru.Feedback, at time.Time) error {
	if err := requireTime("set event feedback", at); err != nil {
		return err
	}
	if fb != mamoru.FeedbackConfirmed && fb != mamoru.FeedbackDenied {
		return mamoru.Errorf(mamoru.EInvalidRequest, "unknown feedback %q", fb)
	}
	n, err := t.exec(ctx, `UPDATE events SET feedback = ?, feedback_at = ? WHERE id = ? AND feedback = ''`,
		string(fb), t.tm(at), id)
	if err != nil {
		return internal("set event feedback", err)
	}
	if n == 0 {
		ok, err := t.exists(ctx, "events", id)
		if err != nil {
			return internal("set event feedback", err)
		}
		if !ok {
			return notFound("event")
		}
		return mamoru.Errorf(mamoru.EConflict, "the event has an answer already")
	}
	return nil
}

// DeleteEventsBefore removes events older than before.
func (t *tx) DeleteEventsBefore(ctx context.Context, before time.Time) (int, error) {
	n, err := t.exec(ctx, `DELETE FROM events WHERE at < ?`, t.tm(before))
	return int(n), internal("delete events", err)
}
