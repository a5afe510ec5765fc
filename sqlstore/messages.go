package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
)

var _ mamoru.OutboxStore = (*tx)(nil)

const messageColumns = `id, account_id, channel, to_addr, template, language, subject, text_body,
	html_body, created_at, attempts, next_attempt_at, claimed_until, sent_at, parked_at, last_error,
	order_key`

func (t *tx) scanMessage(row scanner) (*mamoru.Message, error) {
	var m mamoru.Message
	var channel, lang string
	err := row.Scan(&m.ID, scanNullString(&m.AccountID), &channel, &m.To, &m.Template, &lang,
		&m.Subject, &m.Text, &m.HTML, t.scanTime(&m.CreatedAt), &m.Attempts,
		t.scanTime(&m.NextAttemptAt), t.scanTime(&m.ClaimedUntil), t.scanTime(&m.SentAt),
		t.scanTime(&m.ParkedAt), &m.LastError, &m.OrderKey)
	if err != nil {
		return nil, err
	}
	m.Channel = mamoru.Channel(channel)
	m.Language = mamoru.Language(lang)
	return &m, nil
}

// EnqueueMessage inserts m; a duplicate ID returns EConflict.
func (t *tx) EnqueueMessage(ctx context.Context, m *mamoru.Message) error {
	n, err := t.exec(ctx, `INSERT INTO messages (`+messageColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		m.ID, nullString(m.AccountID), string(m.Channel), m.To, m.Template, string(m.Language),
		m.Subject, m.Text, m.HTML, t.tm(m.CreatedAt), m.Attempts, t.tm(m.NextAttemptAt),
		t.tm(m.ClaimedUntil), t.tm(m.SentAt), t.tm(m.ParkedAt), m.LastError, m.OrderKey)
	if err != nil {
		return internal("enqueue message", err)
	}
	if n == 0 {
		return mamoru.Errorf(mamoru.EConflict, "a message with this ID exists")
	}
	return nil
}

// ClaimMessages returns up to limit due messages (neither sent nor parked,
// NextAttemptAt not after now, claim lapsed, no older pending message with
// the same order key), oldest first, and claims them until `until`. A limit of 0 or less claims nothing.
func (t *tx) ClaimMessages(ctx context.Context, now, until time.Time, limit int) ([]*mamoru.Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	if err := requireTime("claim messages", until); err != nil {
		return nil, err
	}
	n := t.tm(now)
	list, err := queryList(ctx, t, t.scanMessage, `SELECT `+messageColumns+` FROM messages
		WHERE sent_at IS NULL AND parked_at IS NULL
		AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
		AND (claimed_until IS NULL OR claimed_until <= ?)
		AND (order_key = '' OR NOT EXISTS (SELECT 1 FROM messages o
			WHERE o.order_key = messages.order_key AND o.order_key <> ''
			AND o.sent_at IS NULL AND o.parked_at IS NULL
			AND o.seq < messages.seq))
		ORDER BY created_at NULLS FIRST, seq LIMIT ?`+t.db.d.LockSkipLocked, n, n, limit)
	if err != nil || len(list) == 0 {
		return list, internal("claim messages", err)
	}
	args := []any{t.tm(until)}
	for _, m := range list {
		args = append(args, m.ID)
	}
	in := strings.Repeat("?, ", len(list)-1) + "?"
	if _, err := t.exec(ctx, `UPDATE messages SET claimed_until = ? WHERE id IN (`+in+`)`, args...); err != nil {
		return nil, internal("claim messages", err)
	}
	u := until.UTC().Truncate(time.Microsecond)
	for _, m := range list {
		m.ClaimedUntil = u
	}
	return list, nil
}

// MarkMessageSent records delivery at `at` and clears the claim; ENotFound
// if there is no such message.
func (t *tx) MarkMessageSent(ctx context.Context, id string, at time.Time) error {
	if err := requireTime("mark message sent", at); err != nil {
		return err
	}
	n, err := t.exec(ctx, `UPDATE messages SET sent_at = ?, claimed_until = NULL WHERE id = ?`, t.tm(at), id)
	if err != nil {
		return internal("mark message sent", err)
	}
	if n == 0 {
		return notFound("message")
	}
	return nil
}

// MarkMessageFailed records a failed attempt, schedules the next one at
// next and clears the claim; with park it gives up on the message, parked
// at `at`. ENotFound if there is no such message.
func (t *tx) MarkMessageFailed(ctx context.Context, id string, at, next time.Time, lastErr string, park bool) error {
	var parked any
	if park {
		if err := requireTime("park message", at); err != nil {
			return err
		}
		parked = t.tm(at)
	}
	n, err := t.exec(ctx, `UPDATE messages SET attempts = attempts + 1, last_error = ?,
		next_attempt_at = ?, claimed_until = NULL, parked_at = COALESCE(?, parked_at) WHERE id = ?`,
		lastErr, t.tm(next), parked, id)
	if err != nil {
		return internal("mark message failed", err)
	}
	if n == 0 {
		return notFound("message")
	}
	return nil
}

// ListMessages returns messages newest first, to one recipient if f.To is
// set.
func (t *tx) ListMessages(ctx context.Context, f mamoru.MessageFilter) ([]*mamoru.Message, error) {
	q := `SELECT ` + messageColumns + ` FROM messages WHERE 1 = 1`
	var args []any
	if f.To != "" {
		q += ` AND to_addr = ?`
		args = append(args, f.To)
	}
	if f.Channel != "" {
		q += ` AND channel = ?`
		args = append(args, string(f.Channel))
	}
	if f.Parked {
		q += ` AND parked_at IS NOT NULL`
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	q += ` ORDER BY created_at DESC NULLS LAST, seq DESC LIMIT ?`
	args = append(args, limit)
	list, err := queryList(ctx, t, t.scanMessage, q, args...)
	return list, internal("list messages", err)
}

// MessageByID returns the message or ENotFound.
func (t *tx) MessageByID(ctx context.Context, id string) (*mamoru.Message, error) {
	m, err := t.scanMessage(t.queryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ?`, id))
	return one(m, err, "message by id", "message")
}
