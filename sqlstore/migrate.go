package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
)

// ErrSchemaNewer is returned (wrapped) by Migrate and PendingMigrations when
// the database has migrations applied that this binary does not know: it
// was migrated by a newer version of mamoru, which must not be run against
// by an older one.
var ErrSchemaNewer = errors.New("sqlstore: the database schema is newer than this binary")

// Migration is one schema change: the file NNNN_name.sql.
type Migration struct {
	Version int    // NNNN
	Name    string // the file name, e.g. "0001_init.sql"
	SQL     string // the statements, run as one batch
}

var migrationFile = regexp.MustCompile(`^([0-9]{4,})_([a-z0-9_]+)\.sql$`)

// Migrations returns the migrations in fsys (files NNNN_name.sql at its
// root; other files are ignored) ordered by version. Two files with the
// same version, or a .sql file with another name, are an error.
func Migrations(fsys fs.FS) ([]Migration, error) {
	if fsys == nil {
		return nil, nil
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read migrations: %w", err)
	}
	var list []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		m := migrationFile.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("sqlstore: migration %q is not named NNNN_name.sql", e.Name())
		}
		v, err := strconv.Atoi(m[1])
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration %q has a bad version", e.Name())
		}
		if other, ok := seen[v]; ok {
			return nil, fmt.Errorf("sqlstore: migrations %q and %q have the same version", other, e.Name())
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("sqlstore: read migration: %w", err)
		}
		list = append(list, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(list, func(a, b Migration) int { return a.Version - b.Version })
	return list, nil
}

// PendingMigrations returns the names of the migrations not yet applied,
// in the order Migrate would apply them, without changing the database. It
// wraps ErrSchemaNewer if the database is newer than this binary.
func (db *DB) PendingMigrations(ctx context.Context) ([]string, error) {
	all, err := Migrations(db.migrations)
	if err != nil {
		return nil, err
	}
	applied, err := db.appliedVersions(ctx, false)
	if err != nil {
		return nil, err
	}
	if err := checkNotNewer(all, applied); err != nil {
		return nil, err
	}
	var names []string
	for _, m := range all {
		if _, ok := applied[m.Version]; !ok {
			names = append(names, m.Name)
		}
	}
	return names, nil
}

// Migrate applies the pending migrations in version order, each in its own
// transaction together with its row in schema_migrations (version, name,
// applied_at), and returns the names of those it applied. Running it again
// applies nothing. Concurrent migrators take turns (Dialect.MigrationLock)
// and never apply a migration twice. It wraps ErrSchemaNewer, and applies
// nothing, if the database is newer than this binary.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	all, err := Migrations(db.migrations)
	if err != nil {
		return nil, err
	}
	applied, err := db.appliedVersions(ctx, true)
	if err != nil {
		return nil, err
	}
	if err := checkNotNewer(all, applied); err != nil {
		return nil, err
	}
	var done []string
	for _, m := range all {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		ran, err := db.apply(ctx, m)
		if err != nil {
			return done, err
		}
		if ran {
			done = append(done, m.Name)
		}
	}
	return done, nil
}

// apply runs one migration unless a concurrent migrator did it first.
func (db *DB) apply(ctx context.Context, m Migration) (ran bool, err error) {
	sqltx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlstore: migrate %s: %w", m.Name, err)
	}
	defer func() {
		if !ran || err != nil {
			_ = sqltx.Rollback()
		}
	}()
	t := &tx{db: db, tx: sqltx}
	if db.d.MigrationLock != "" {
		if _, err := sqltx.ExecContext(ctx, db.d.MigrationLock); err != nil {
			return false, fmt.Errorf("sqlstore: migrate %s: lock: %w", m.Name, err)
		}
	}
	var one int
	err = t.queryRow(ctx, `SELECT 1 FROM schema_migrations WHERE version = ?`, m.Version).Scan(&one)
	if err == nil {
		return false, nil // a concurrent migrator applied it
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("sqlstore: migrate %s: %w", m.Name, err)
	}
	if _, err := sqltx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("sqlstore: migrate %s: %w", m.Name, err)
	}
	if _, err := t.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, t.tm(db.clock.Now())); err != nil {
		return false, fmt.Errorf("sqlstore: migrate %s: record: %w", m.Name, err)
	}
	if err := sqltx.Commit(); err != nil {
		return false, fmt.Errorf("sqlstore: migrate %s: commit: %w", m.Name, err)
	}
	return true, nil
}

// appliedVersions returns the versions recorded in schema_migrations.
// With create it creates the table if needed; without, a missing table
// means that nothing is applied, and the database is not changed.
func (db *DB) appliedVersions(ctx context.Context, create bool) (map[int]string, error) {
	applied := map[int]string{}
	pool := db.write
	if !create {
		pool = db.read
	}
	sqltx, err := pool.BeginTx(ctx, &sql.TxOptions{ReadOnly: !create})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations: %w", err)
	}
	defer sqltx.Rollback()
	if create {
		if db.d.MigrationLock != "" {
			if _, err := sqltx.ExecContext(ctx, db.d.MigrationLock); err != nil {
				return nil, fmt.Errorf("sqlstore: migrations: lock: %w", err)
			}
		}
		if _, err := sqltx.ExecContext(ctx, db.d.MigrationsTable); err != nil {
			return nil, fmt.Errorf("sqlstore: create schema_migrations: %w", err)
		}
	} else {
		var n int
		if err := sqltx.QueryRowContext(ctx, db.d.MigrationsTableExists).Scan(&n); err != nil {
			return nil, fmt.Errorf("sqlstore: look for schema_migrations: %w", err)
		}
		if n == 0 {
			return applied, nil
		}
	}
	rows, err := sqltx.QueryContext(ctx, `SELECT version, name FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read schema_migrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return nil, fmt.Errorf("sqlstore: read schema_migrations: %w", err)
		}
		applied[v] = name
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: read schema_migrations: %w", err)
	}
	rows.Close()
	if err := sqltx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlstore: create schema_migrations: %w", err)
	}
	return applied, nil
}

// checkNotNewer fails if the database records a migration that all does
// not have.
func checkNotNewer(all []Migration, applied map[int]string) error {
	known := map[int]bool{}
	for _, m := range all {
		known[m.Version] = true
	}
	for v, name := range applied {
		if !known[v] {
			return fmt.Errorf("%w: it has migration %s, unknown to this binary", ErrSchemaNewer, name)
		}
	}
	return nil
}
