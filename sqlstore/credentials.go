package sqlstore

import (
	"context"

	"github.com/mamoru-id/mamoru"
)

var _ mamoru.CredentialStore = (*tx)(nil)

const credentialColumns = `id, account_id, kind, name, secret, data, webauthn_id, last_used_step,
	created_at, last_used_at, version`

func (t *tx) scanCredential(row scanner) (*mamoru.Credential, error) {
	var c mamoru.Credential
	var kind string
	err := row.Scan(&c.ID, &c.AccountID, &kind, &c.Name, &c.Secret, &c.Data, &c.WebAuthnID,
		&c.LastUsedStep, t.scanTime(&c.CreatedAt), t.scanTime(&c.LastUsedAt), &c.Version)
	if err != nil {
		return nil, err
	}
	c.Kind = mamoru.CredentialKind(kind)
	return &c, nil
}

// CreateCredential inserts c with Version 1 (and sets c.Version); a
// duplicate ID or WebAuthnID returns EConflict, an unknown account
// ENotFound.
func (t *tx) CreateCredential(ctx context.Context, c *mamoru.Credential) error {
	if c.ID == "" || c.AccountID == "" || c.Kind == "" {
		return mamoru.Errorf(mamoru.EInvalidRequest, "a credential needs an ID, an account and a kind")
	}
	ok, err := t.exists(ctx, "accounts", c.AccountID)
	if err != nil {
		return internal("create credential", err)
	}
	if !ok {
		return notFound("account")
	}
	n, err := t.exec(ctx, `INSERT INTO credentials (`+credentialColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT DO NOTHING`,
		c.ID, c.AccountID, string(c.Kind), c.Name, blob(c.Secret), blob(c.Data), nullBlob(c.WebAuthnID),
		c.LastUsedStep, t.tm(c.CreatedAt), t.tm(c.LastUsedAt))
	if err != nil {
		return internal("create credential", err)
	}
	if n == 0 {
		return mamoru.Errorf(mamoru.EConflict, "a credential with this ID or WebAuthn ID exists")
	}
	c.Version = 1
	return nil
}

// CredentialByID returns the credential or ENotFound.
func (t *tx) CredentialByID(ctx context.Context, id string) (*mamoru.Credential, error) {
	c, err := t.scanCredential(t.queryRow(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE id = ?`, id))
	return one(c, err, "credential by id", "credential")
}

// CredentialByWebAuthnID returns the credential with the WebAuthn
// credential ID or ENotFound.
func (t *tx) CredentialByWebAuthnID(ctx context.Context, id []byte) (*mamoru.Credential, error) {
	if len(id) == 0 {
		return nil, notFound("credential")
	}
	c, err := t.scanCredential(t.queryRow(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE webauthn_id = ?`, id))
	return one(c, err, "credential by webauthn id", "credential")
}

// ListCredentials returns the account's credentials, oldest first.
func (t *tx) ListCredentials(ctx context.Context, accountID string) ([]*mamoru.Credential, error) {
	list, err := queryList(ctx, t, t.scanCredential, `SELECT `+credentialColumns+` FROM credentials
		WHERE account_id = ? ORDER BY created_at NULLS FIRST, seq`, accountID)
	return list, internal("list credentials", err)
}

// UpdateCredential writes the mutable fields if the stored version is
// c.Version, and increments c.Version; EConflict if another update won,
// ENotFound if the credential does not exist.
func (t *tx) UpdateCredential(ctx context.Context, c *mamoru.Credential) error {
	n, err := t.exec(ctx, `UPDATE credentials SET name = ?, secret = ?, data = ?, last_used_step = ?,
		last_used_at = ?, version = version + 1 WHERE id = ? AND version = ?`,
		c.Name, blob(c.Secret), blob(c.Data), c.LastUsedStep, t.tm(c.LastUsedAt), c.ID, c.Version)
	if err != nil {
		return internal("update credential", err)
	}
	if n == 0 {
		ok, err := t.exists(ctx, "credentials", c.ID)
		if err != nil {
			return internal("update credential", err)
		}
		if !ok {
			return notFound("credential")
		}
		return mamoru.Errorf(mamoru.EConflict, "the credential was changed by another request")
	}
	c.Version++
	return nil
}

// DeleteCredential deletes the account's credential; ENotFound if the
// account has no credential with that ID.
func (t *tx) DeleteCredential(ctx context.Context, accountID, id string) error {
	n, err := t.exec(ctx, `DELETE FROM credentials WHERE id = ? AND account_id = ?`, id, accountID)
	if err != nil {
		return internal("delete credential", err)
	}
	if n == 0 {
		return notFound("credential")
	}
	return nil
}
