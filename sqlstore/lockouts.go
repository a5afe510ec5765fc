package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mamoru-id/mamoru"
)

var _ mamoru.LockoutStore = (*tx)(nil)

// Lockout returns the lockout of key or ENotFound.
func (t *tx) Lockout(ctx context.Context, key []byte) (*mamoru.Lockout, error) {
	l := &mamoru.Lockout{}
	err := t.queryRow(ctx, `SELECT key, failures, window_start, locked_at, locked_until, notified_at, updated_at, generation
		FROM lockouts WHERE key = ?`, blob(key)).Scan(&l.Key, &l.Failures, t.scanTime(&l.WindowStart),
		t.scanTime(&l.LockedAt), t.scanTime(&l.LockedUntil), t.scanTime(&l.NotifiedAt), t.scanTime(&l.UpdatedAt), &l.Generation)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("lockout")
	}
	if err != nil {
		return nil, internal("lockout", err)
	}
	return l, nil
}

// SaveLockout inserts or replaces l.
func (t *tx) SaveLockout(ctx context.Context, l *mamoru.Lockout) error {
	if len(l.Key) == 0 || l.UpdatedAt.IsZero() {
		return mamoru.Errorf(mamoru.EInvalidRequest, "lockout needs a key and an update time")
	}
	_, err := t.exec(ctx, `INSERT INTO lockouts (key, failures, window_start, locked_at, locked_until, notified_at, updated_at, generation)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
			locked_at = excluded.locked_at, locked_until = excluded.locked_until,
			notified_at = excluded.notified_at, updated_at = excluded.updated_at, generation = excluded.generation`,
		blob(l.Key), l.Failures, t.tm(l.WindowStart), t.tm(l.LockedAt), t.tm(l.LockedUntil), t.tm(l.NotifiedAt), t.tm(l.UpdatedAt), l.Generation)
	return internal("save lockout", err)
}

// DeleteLockout deletes the lockout of key.
func (t *tx) DeleteLockout(ctx context.Context, key []byte) error {
	_, err := t.exec(ctx, `DELETE FROM lockouts WHERE key = ?`, blob(key))
	return internal("delete lockout", err)
}

// DeleteLockoutsBefore deletes stale lockouts.
func (t *tx) DeleteLockoutsBefore(ctx context.Context, before time.Time) (int, error) {
	n, err := t.exec(ctx, `DELETE FROM lockouts WHERE updated_at < ?
		AND (locked_until IS NULL OR locked_until < ?)`, t.tm(before), t.tm(before))
	return int(n), internal("delete lockouts", err)
}
