package sqlstore

import (
	"context"
	"strings"

	"github.com/mamoru-id/mamoru"
)

var _ mamoru.AccountStore = (*tx)(nil)

// defaultLimit is the number of rows a list returns when the filter says 0.
const defaultLimit = 100

const accountColumns = `id, email, email_verified_at, password_hash, password_changed_at,
	language, status, created_at, updated_at, last_sign_in_at, time_zone, phone, reset_required_at`

func (t *tx) scanAccount(row scanner) (*mamoru.Account, error) {
	var a mamoru.Account
	var lang, status string
	err := row.Scan(&a.ID, &a.Email, t.scanTime(&a.EmailVerifiedAt), &a.PasswordHash,
		t.scanTime(&a.PasswordChangedAt), &lang, &status, t.scanTime(&a.CreatedAt),
		t.scanTime(&a.UpdatedAt), t.scanTime(&a.LastSignInAt), &a.TimeZone, &a.Phone,
		t.scanTime(&a.ResetRequiredAt))
	if err != nil {
		return nil, err
	}
	a.Language = mamoru.Language(lang)
	a.Status = mamoru.AccountStatus(status)
	return &a, nil
}

// CreateAccount inserts a; a duplicate ID or email returns EConflict.
func (t *tx) CreateAccount(ctx context.Context, a *mamoru.Account) error {
	n, err := t.exec(ctx, `INSERT INTO accounts (`+accountColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		a.ID, a.Email, t.tm(a.EmailVerifiedAt), a.PasswordHash, t.tm(a.PasswordChangedAt),
		string(a.Language), string(a.Status), t.tm(a.CreatedAt), t.tm(a.UpdatedAt), t.tm(a.LastSignInAt),
		a.TimeZone, a.Phone, t.tm(a.ResetRequiredAt))
	if err != nil {
		return internal("create account", err)
	}
	if n == 0 {
		return mamoru.Errorf(mamoru.EConflict, "an account with this email or ID exists")
	}
	return nil
}

// AccountByID returns the account or ENotFound.
func (t *tx) AccountByID(ctx context.Context, id string) (*mamoru.Account, error) {
	a, err := t.scanAccount(t.queryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
	return one(a, err, "account by id", "account")
}

// AccountByEmail returns the account with the normalized email or
// ENotFound.
func (t *tx) AccountByEmail(ctx context.Context, email string) (*mamoru.Account, error) {
	a, err := t.scanAccount(t.queryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE email = ?`, email))
	return one(a, err, "account by email", "account")
}

// UpdateAccount writes every field but ID and CreatedAt; ENotFound if the
// account does not exist, EConflict if the email belongs to another one.
func (t *tx) UpdateAccount(ctx context.Context, a *mamoru.Account) error {
	var n int64
	err := t.guarded(ctx, func() error {
		var err error
		n, err = t.exec(ctx, `UPDATE accounts SET email = ?, email_verified_at = ?, password_hash = ?,
			password_changed_at = ?, language = ?, status = ?, updated_at = ?, last_sign_in_at = ?,
			time_zone = ?, phone = ?, reset_required_at = ?
			WHERE id = ?`,
			a.Email, t.tm(a.EmailVerifiedAt), a.PasswordHash, t.tm(a.PasswordChangedAt),
			string(a.Language), string(a.Status), t.tm(a.UpdatedAt), t.tm(a.LastSignInAt),
			a.TimeZone, a.Phone, t.tm(a.ResetRequiredAt), a.ID)
		return err
	})
	if err != nil {
		if t.db.d.IsUniqueViolation(err) {
			return mamoru.WrapError(mamoru.EConflict, err, "the email belongs to another account")
		}
		return internal("update account", err)
	}
	if n == 0 {
		return notFound("account")
	}
	return nil
}

// ListAccounts returns accounts oldest first, filtered by a
// case-insensitive substring of the email.
func (t *tx) ListAccounts(ctx context.Context, f mamoru.AccountFilter) ([]*mamoru.Account, error) {
	q := `SELECT ` + accountColumns + ` FROM accounts`
	var args []any
	if f.EmailContains != "" {
		q += ` WHERE lower(email) LIKE ? ESCAPE '\'`
		args = append(args, "%"+escapeLike(strings.ToLower(f.EmailContains))+"%")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	q += ` ORDER BY created_at NULLS FIRST, seq LIMIT ? OFFSET ?`
	args = append(args, limit, max(f.Offset, 0))
	list, err := queryList(ctx, t, t.scanAccount, q, args...)
	return list, internal("list accounts", err)
}

// escapeLike escapes the LIKE wildcards of s with a backslash.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
