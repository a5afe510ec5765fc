package sqlstore

import (
	"context"
	"time"

	"github.com/mamoru-id/mamoru"
)

var _ mamoru.FlowStore = (*tx)(nil)

const flowColumns = `id, kind, binding_hash, account_id, step, state, ip, user_agent,
	created_at, updated_at, expires_at, version`

func (t *tx) scanFlow(row scanner) (*mamoru.Flow, error) {
	var f mamoru.Flow
	var kind string
	err := row.Scan(&f.ID, &kind, &f.BindingHash, scanNullString(&f.AccountID), &f.Step, &f.State,
		&f.IP, &f.UserAgent, t.scanTime(&f.CreatedAt), t.scanTime(&f.UpdatedAt),
		t.scanTime(&f.ExpiresAt), &f.Version)
	if err != nil {
		return nil, err
	}
	f.Kind = mamoru.FlowKind(kind)
	return &f, nil
}

// CreateFlow inserts f with Version 1 (and sets f.Version); a duplicate ID
// returns EConflict.
func (t *tx) CreateFlow(ctx context.Context, f *mamoru.Flow) error {
	n, err := t.exec(ctx, `INSERT INTO flows (`+flowColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT DO NOTHING`,
		f.ID, string(f.Kind), blob(f.BindingHash), nullString(f.AccountID), f.Step, blob(f.State),
		f.IP, f.UserAgent, t.tm(f.CreatedAt), t.tm(f.UpdatedAt), t.tm(f.ExpiresAt))
	if err != nil {
		return internal("create flow", err)
	}
	if n == 0 {
		return mamoru.Errorf(mamoru.EConflict, "a flow with this ID exists")
	}
	f.Version = 1
	return nil
}

// FlowByID returns the flow or ENotFound.
func (t *tx) FlowByID(ctx context.Context, id string) (*mamoru.Flow, error) {
	f, err := t.scanFlow(t.queryRow(ctx, `SELECT `+flowColumns+` FROM flows WHERE id = ?`, id))
	return one(f, err, "flow by id", "flow")
}

// UpdateFlow writes the mutable fields if the stored version is f.Version,
// and increments f.Version; EConflict if another update won, ENotFound if
// the flow does not exist.
func (t *tx) UpdateFlow(ctx context.Context, f *mamoru.Flow) error {
	n, err := t.exec(ctx, `UPDATE flows SET account_id = ?, step = ?, state = ?, updated_at = ?,
		expires_at = ?, version = version + 1 WHERE id = ? AND version = ?`,
		nullString(f.AccountID), f.Step, blob(f.State), t.tm(f.UpdatedAt), t.tm(f.ExpiresAt),
		f.ID, f.Version)
	if err != nil {
		return internal("update flow", err)
	}
	if n == 0 {
		ok, err := t.exists(ctx, "flows", f.ID)
		if err != nil {
			return internal("update flow", err)
		}
		if !ok {
			return notFound("flow")
		}
		return mamoru.Errorf(mamoru.EConflict, "the flow was changed by another step")
	}
	f.Version++
	return nil
}

// DeleteFlowsBefore removes flows that expired before t.
func (t *tx) DeleteFlowsBefore(ctx context.Context, before time.Time) (int, error) {
	n, err := t.exec(ctx, `DELETE FROM flows WHERE expires_at < ?`, t.tm(before))
	return int(n), internal("delete flows", err)
}
