package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mamoru-id/mamoru"
)

var _ mamoru.Tx = (*tx)(nil)

// tx is one transaction; its methods, one file per store, implement
// mamoru.Tx.
type tx struct {
	db *DB
	tx *sql.Tx
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// exec runs a statement and returns the number of rows it affected.
func (t *tx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, t.db.rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.db.rebind(query), args...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.db.rebind(query), args...)
}

// exists reports whether table has a row with the given id.
func (t *tx) exists(ctx context.Context, table, id string) (bool, error) {
	var one int
	err := t.queryRow(ctx, "SELECT 1 FROM "+table+" WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// guarded runs fn inside a savepoint when the dialect aborts the whole
// transaction on a failed statement, so that an expected failure (a
// unique violation reported as EConflict) leaves the transaction usable.
func (t *tx) guarded(ctx context.Context, fn func() error) error {
	if !t.db.d.AbortsTxOnError {
		return fn()
	}
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT sqlstore_guard"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := t.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT sqlstore_guard"); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	_, err := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT sqlstore_guard")
	return err
}

// queryList runs a query and scans every row with scan.
func queryList[T any](ctx context.Context, t *tx, scan func(scanner) (*T, error), query string, args ...any) ([]*T, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return list, rows.Err()
}

// notFound is the ENotFound error for a missing row.
func notFound(what string) error {
	return mamoru.Errorf(mamoru.ENotFound, "%s not found", what)
}

// internal wraps a database error with the operation that failed. The
// cause stays in the chain so that Update can recognise retryable
// failures.
func internal(op string, err error) error {
	if err == nil {
		return nil
	}
	var me *mamoru.Error
	if errors.As(err, &me) {
		return err
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// one returns the row found by a single-row query, ENotFound when there is
// none, or the internal error.
func one[T any](v *T, err error, op, what string) (*T, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(what)
	}
	if err != nil {
		return nil, internal(op, err)
	}
	return v, nil
}
