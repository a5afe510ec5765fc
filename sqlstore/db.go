package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/mamoru-id/mamoru"
)

var _ mamoru.Store = (*DB)(nil)

// Config is what New needs to build a DB.
type Config struct {
	// Dialect describes the database. Required.
	Dialect *Dialect
	// DB is the pool used for Update, migrations and Ping. Required.
	DB *sql.DB
	// ReadDB, if not nil, is a separate pool used by View (SQLite keeps its
	// readers apart from its single writer). nil means DB.
	ReadDB *sql.DB
	// Migrations holds the dialect's migration files, NNNN_name.sql, at its
	// root.
	Migrations fs.FS
	// Clock stamps applied migrations and stored secrets; nil means the
	// system clock.
	Clock mamoru.Clock
	// OnClose, if set, runs after Close has closed the pools (an adapter
	// removes a temporary database file with it).
	OnClose func() error
}

// DB is a mamoru.Store on a SQL database. It is safe for concurrent use.
type DB struct {
	d          *Dialect
	write      *sql.DB
	read       *sql.DB
	migrations fs.FS
	clock      mamoru.Clock
	onClose    func() error
	queries    sync.Map // query with "?" -> rebound query
}

// New returns a DB over the pools in cfg. The DB owns the pools: Close
// closes them.
func New(cfg Config) (*DB, error) {
	if cfg.Dialect == nil || cfg.DB == nil {
		return nil, errors.New("sqlstore: Config.Dialect and Config.DB are required")
	}
	d := cfg.Dialect
	if d.EncodeTime == nil || d.DecodeTime == nil || d.IsUniqueViolation == nil ||
		d.MigrationsTable == "" || d.MigrationsTableExists == "" {
		return nil, fmt.Errorf("sqlstore: dialect %q is incomplete", d.Name)
	}
	db := &DB{d: d, write: cfg.DB, read: cfg.ReadDB, migrations: cfg.Migrations, clock: cfg.Clock, onClose: cfg.OnClose}
	if db.read == nil {
		db.read = db.write
	}
	if db.clock == nil {
		db.clock = mamoru.SystemClock{}
	}
	return db, nil
}

// Dialect returns the dialect the DB was built with.
func (db *DB) Dialect() *Dialect { return db.d }

// Update runs fn in a read-write transaction, committed if fn returns nil
// and rolled back otherwise. When the transaction fails in a way the
// dialect calls retryable (serialization failure, deadlock, busy
// database), fn runs again in a new transaction, up to Dialect.MaxRetries
// times, after a short randomized pause.
func (db *DB) Update(ctx context.Context, fn func(tx mamoru.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := db.run(ctx, db.write, false, fn)
		if err == nil || attempt >= db.d.MaxRetries || !db.retryable(err) || ctx.Err() != nil {
			return err
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

// View runs fn in a read-only transaction.
func (db *DB) View(ctx context.Context, fn func(tx mamoru.Tx) error) error {
	return db.run(ctx, db.read, true, fn)
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping %s: %w", db.d.Name, err)
	}
	if db.read != db.write {
		if err := db.read.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlstore: ping %s readers: %w", db.d.Name, err)
		}
	}
	return nil
}

// Close closes the pools, then runs Config.OnClose.
func (db *DB) Close() error {
	var errs []error
	if db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	errs = append(errs, db.write.Close())
	if db.onClose != nil {
		errs = append(errs, db.onClose())
	}
	return errors.Join(errs...)
}

// run runs fn in one transaction on pool.
func (db *DB) run(ctx context.Context, pool *sql.DB, readOnly bool, fn func(tx mamoru.Tx) error) error {
	sqltx, err := pool.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = sqltx.Rollback() // also on panic; the error of fn matters more
		}
	}()
	if err := fn(&tx{db: db, tx: sqltx}); err != nil {
		return err
	}
	done = true
	if err := sqltx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

func (db *DB) retryable(err error) bool {
	return db.d.IsRetryable != nil && db.d.IsRetryable(err)
}

// rebind returns query in the dialect's placeholder style, cached.
func (db *DB) rebind(query string) string {
	if db.d.Rebind == nil {
		return query
	}
	if q, ok := db.queries.Load(query); ok {
		return q.(string)
	}
	q := db.d.Rebind(query)
	db.queries.Store(query, q)
	return q
}

// backoff returns the pause before retry number attempt+1: exponential
// from 2ms, capped at 200ms, with full jitter.
func backoff(attempt int) time.Duration {
	d := 2 * time.Millisecond << min(attempt, 7)
	d = min(d, 200*time.Millisecond)
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
