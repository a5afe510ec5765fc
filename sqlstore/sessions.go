package sqlstore

import (
	"context"
	"time"

	"github.com/mamoru-id/mamoru"
)

var _ mamoru.SessionStore = (*tx)(nil)

const sessionColumns = `id, token_hash, account_id, created_at, last_seen_at, expires_at,
	ip, user_agent, aal, verified_at, revoked_at, revoke_reason`

func (t *tx) scanSession(row scanner) (*mamoru.Session, error) {
	var s mamoru.Session
	err := row.Scan(&s.ID, &s.TokenHash, &s.AccountID, t.scanTime(&s.CreatedAt),
		t.scanTime(&s.LastSeenAt), t.scanTime(&s.ExpiresAt), &s.IP, &s.UserAgent, &s.AAL,
		t.scanTime(&s.VerifiedAt), t.scanTime(&s.RevokedAt), &s.RevokeReason)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// CreateSession inserts s; a duplicate ID or token hash returns EConflict.
func (t *tx) CreateSession(ctx context.Context, s *mamoru.Session) error {
	n, err := t.exec(ctx, `INSERT INTO sessions (`+sessionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		s.ID, blob(s.TokenHash), s.AccountID, t.tm(s.CreatedAt), t.tm(s.LastSeenAt),
		t.tm(s.ExpiresAt), s.IP, s.UserAgent, s.AAL, t.tm(s.VerifiedAt), t.tm(s.RevokedAt), s.RevokeReason)
	if err != nil {
		return internal("create session", err)
	}
	if n == 0 {
		return mamoru.Errorf(mamoru.EConflict, "a session with this ID or token exists")
	}
	return nil
}

// SessionByTokenHash returns the session whatever its state, or ENotFound.
func (t *tx) SessionByTokenHash(ctx context.Context, hash []byte) (*mamoru.Session, error) {
	s, err := t.scanSession(t.queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ?`, blob(hash)))
	return one(s, err, "session by token", "session")
}

// SessionByID returns the session whatever its state, or ENotFound.
func (t *tx) SessionByID(ctx context.Context, id string) (*mamoru.Session, error) {
	s, err := t.scanSession(t.queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id))
	return one(s, err, "session by id", "session")
}

// ListActiveSessions returns the account's unrevoked sessions that expire
// after now, newest first.
func (t *tx) ListActiveSessions(ctx context.Context, accountID string, now time.Time) ([]*mamoru.Session, error) {
	list, err := queryList(ctx, t, t.scanSession, `SELECT `+sessionColumns+` FROM sessions
		WHERE account_id = ? AND revoked_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC NULLS LAST, seq DESC`, accountID, t.tm(now))
	return list, internal("list active sessions", err)
}

// TouchSession sets LastSeenAt, and IP when ip is not empty; ENotFound if
// there is no such session.
func (t *tx) TouchSession(ctx context.Context, id string, seen time.Time, ip string) error {
	n, err := t.exec(ctx, `UPDATE sessions SET last_seen_at = ?,
		ip = CASE WHEN ? = '' THEN ip ELSE ? END WHERE id = ?`, t.tm(seen), ip, ip, id)
	if err != nil {
		return internal("touch session", err)
	}
	if n == 0 {
		return notFound("session")
	}
	return nil
}

// RevokeSession ends one session, keeping the first revocation time and
// reason; ENotFound if it does not exist.
func (t *tx) RevokeSession(ctx context.Context, id string, at time.Time, reason string) error {
	if err := requireTime("revoke session", at); err != nil {
		return err
	}
	n, err := t.exec(ctx, `UPDATE sessions SET revoked_at = ?, revoke_reason = ?
		WHERE id = ? AND revoked_at IS NULL`, t.tm(at), reason, id)
	if err != nil {
		return internal("revoke session", err)
	}
	if n == 0 {
		ok, err := t.exists(ctx, "sessions", id)
		if err != nil {
			return internal("revoke session", err)
		}
		if !ok {
			return notFound("session")
		}
	}
	return nil
}

// RevokeSessions ends every unrevoked session of the account except
// exceptID and returns the IDs of those it ended, in no particular order.
func (t *tx) RevokeSessions(ctx context.Context, accountID string, at time.Time, reason, exceptID string) ([]string, error) {
	if err := requireTime("revoke sessions", at); err != nil {
		return nil, err
	}
	rows, err := t.query(ctx, `UPDATE sessions SET revoked_at = ?, revoke_reason = ?
		WHERE account_id = ? AND revoked_at IS NULL AND id <> ? RETURNING id`, t.tm(at), reason, accountID, exceptID)
	if err != nil {
		return nil, internal("revoke sessions", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, internal("revoke sessions", err)
		}
		ids = append(ids, id)
	}
	return ids, internal("revoke sessions", rows.Err())
}

// DeleteSessionsBefore removes sessions that expired or were revoked
// before t.
func (t *tx) DeleteSessionsBefore(ctx context.Context, before time.Time) (int, error) {
	b := t.tm(before)
	n, err := t.exec(ctx, `DELETE FROM sessions WHERE expires_at < ? OR revoked_at < ?`, b, b)
	return int(n), internal("delete sessions", err)
}
