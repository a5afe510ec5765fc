package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mamoru-id/mamoru"
)

var _ mamoru.TokenStore = (*tx)(nil)

const tokenColumns = `id, account_id, purpose, email, code_hash, link_hash, attempts,
	created_at, expires_at, used_at, data`

func (t *tx) scanToken(row scanner) (*mamoru.Token, error) {
	var k mamoru.Token
	var purpose string
	err := row.Scan(&k.ID, &k.AccountID, &purpose, &k.Email, &k.CodeHash, &k.LinkHash,
		&k.Attempts, t.scanTime(&k.CreatedAt), t.scanTime(&k.ExpiresAt), t.scanTime(&k.UsedAt), &k.Data)
	if err != nil {
		return nil, err
	}
	k.Purpose = mamoru.TokenPurpose(purpose)
	return &k, nil
}

// CreateToken inserts k; a duplicate ID or link hash returns EConflict.
func (t *tx) CreateToken(ctx context.Context, k *mamoru.Token) error {
	n, err := t.exec(ctx, `INSERT INTO tokens (`+tokenColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		k.ID, k.AccountID, string(k.Purpose), k.Email, blob(k.CodeHash), nullBlob(k.LinkHash),
		k.Attempts, t.tm(k.CreatedAt), t.tm(k.ExpiresAt), t.tm(k.UsedAt), k.Data)
	if err != nil {
		return internal("create token", err)
	}
	if n == 0 {
		return mamoru.Errorf(mamoru.EConflict, "a token with this ID or link exists")
	}
	return nil
}

// ActiveToken returns the newest unused token of the account and purpose
// that expires after now, or ENotFound.
func (t *tx) ActiveToken(ctx context.Context, accountID string, purpose mamoru.TokenPurpose, now time.Time) (*mamoru.Token, error) {
	k, err := t.scanToken(t.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens
		WHERE account_id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC NULLS LAST, seq DESC LIMIT 1`, accountID, string(purpose), t.tm(now)))
	return one(k, err, "active token", "token")
}

// TokenByLinkHash returns the token whatever its state, or ENotFound.
func (t *tx) TokenByLinkHash(ctx context.Context, hash []byte) (*mamoru.Token, error) {
	if len(hash) == 0 {
		return nil, notFound("token")
	}
	k, err := t.scanToken(t.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE link_hash = ?`, hash))
	return one(k, err, "token by link", "token")
}

// UseToken marks the token used at `at` if it is unused: EConflict if it
// was used already (or by a concurrent transaction), ENotFound if it does
// not exist.
func (t *tx) UseToken(ctx context.Context, id string, at time.Time) error {
	if err := requireTime("use token", at); err != nil {
		return err
	}
	n, err := t.exec(ctx, `UPDATE tokens SET used_at = ? WHERE id = ? AND used_at IS NULL`, t.tm(at), id)
	if err != nil {
		return internal("use token", err)
	}
	if n == 0 {
		ok, err := t.exists(ctx, "tokens", id)
		if err != nil {
			return internal("use token", err)
		}
		if !ok {
			return notFound("token")
		}
		return mamoru.Errorf(mamoru.EConflict, "the token was used already")
	}
	return nil
}

// AddTokenAttempt increments Attempts and returns the new count; ENotFound
// if there is no such token.
func (t *tx) AddTokenAttempt(ctx context.Context, id string) (int, error) {
	var n int
	err := t.queryRow(ctx, `UPDATE tokens SET attempts = attempts + 1 WHERE id = ? RETURNING attempts`, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("token")
	}
	return n, internal("add token attempt", err)
}

// RevokeTokens marks every unused token of the account and purpose used at
// `at`.
func (t *tx) RevokeTokens(ctx context.Context, accountID string, purpose mamoru.TokenPurpose, at time.Time) error {
	if err := requireTime("revoke tokens", at); err != nil {
		return err
	}
	_, err := t.exec(ctx, `UPDATE tokens SET used_at = ? WHERE account_id = ? AND purpose = ? AND used_at IS NULL`,
		t.tm(at), accountID, string(purpose))
	return internal("revoke tokens", err)
}

// DeleteTokensBefore removes tokens that expired before t.
func (t *tx) DeleteTokensBefore(ctx context.Context, before time.Time) (int, error) {
	n, err := t.exec(ctx, `DELETE FROM tokens WHERE expires_at < ?`, t.tm(before))
	return int(n), internal("delete tokens", err)
}
