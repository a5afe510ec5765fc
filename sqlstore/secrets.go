package sqlstore

import (
	"context"

	"github.com/mamoru-id/mamoru"
)

var _ mamoru.SecretStore = (*tx)(nil)

// EnsureSecret stores candidate under name unless a secret with that name
// exists, and returns the stored secret (the first one stored wins, also
// between concurrent transactions).
func (t *tx) EnsureSecret(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	_, err := t.exec(ctx, `INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, name, blob(candidate), t.tm(t.db.clock.Now()))
	if err != nil {
		return nil, internal("ensure secret", err)
	}
	var v []byte
	if err := t.queryRow(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&v); err != nil {
		return nil, internal("ensure secret", err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}
