package storetest

import (
	"database/sql"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/sqlstore"
)

// RunMigrations checks the migrations of a sqlstore.DB. open must return a
// new, empty database that has NOT been migrated, together with a raw
// handle on the same database (to inspect schema_migrations); want lists
// the names of every migration of the dialect, in order.
func RunMigrations(t *testing.T, open func(t *testing.T) (*sqlstore.DB, *sql.DB), want []string) {
	t.Run("ApplyOnceInOrder", func(t *testing.T) {
		t.Parallel()
		db, raw := open(t)
		pending, err := db.PendingMigrations(ctx(t))
		wantNoErr(t, "PendingMigrations", err)
		if !slices.Equal(pending, want) {
			t.Fatalf("PendingMigrations of an empty database: got %q, want %q", pending, want)
		}
		applied, err := db.Migrate(ctx(t))
		wantNoErr(t, "Migrate", err)
		if !slices.Equal(applied, want) {
			t.Fatalf("Migrate: applied %q, want %q", applied, want)
		}
		applied, err = db.Migrate(ctx(t))
		wantNoErr(t, "Migrate again", err)
		if len(applied) != 0 {
			t.Fatalf("Migrate again: applied %q, want nothing", applied)
		}
		pending, err = db.PendingMigrations(ctx(t))
		wantNoErr(t, "PendingMigrations", err)
		if len(pending) != 0 {
			t.Fatalf("PendingMigrations after Migrate: got %q", pending)
		}
		wantVersionTable(t, raw, want)
		createAccount(t, db, "alice@example.com") // the schema works
	},
	)
	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		db, raw := open(t)
		const n = 4
		var wg sync.WaitGroup
		applied := make([][]string, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { applied[i], errs[i] = db.Migrate(ctx(t)) })
		}
		wg.Wait()
		var all []string
		for i := range n {
			wantNoErr(t, "concurrent Migrate", errs[i])
			all = append(all, applied[i]...)
		}
		slices.Sort(all)
		if !slices.Equal(all, want) {
			t.Fatalf("concurrent Migrate calls applied %q together, want each of %q once", all, want)
		}
		wantVersionTable(t, raw, want)
	})
	t.Run("NewerDatabase", func(t *testing.T) {
		t.Parallel()
		db, raw := open(t)
		_, err := db.Migrate(ctx(t))
		wantNoErr(t, "Migrate", err)
		if _, err := raw.ExecContext(ctx(t), `INSERT INTO schema_migrations (version, name, applied_at)
			SELECT 999999, '999999_from_the_future.sql', applied_at FROM schema_migrations
			WHERE version = (SELECT min(version) FROM schema_migrations)`); err != nil {
			t.Fatalf("insert a future migration: %v", err)
		}
		if _, err := db.Migrate(ctx(t)); !errors.Is(err, sqlstore.ErrSchemaNewer) {
			t.Fatalf("Migrate of a newer database: got %v, want ErrSchemaNewer", err)
		}
		if _, err := db.PendingMigrations(ctx(t)); !errors.Is(err, sqlstore.ErrSchemaNewer) {
			t.Fatalf("PendingMigrations of a newer database: got %v, want ErrSchemaNewer", err)
		}
	})
	t.Run("ZeroTimeIsNull", func(t *testing.T) {
		t.Parallel()
		db, raw := open(t)
		_, err := db.Migrate(ctx(t))
		wantNoErr(t, "Migrate", err)
		a := &mamoru.Account{ID: mamoru.NewID(), Email: "zero@example.com", Status: mamoru.StatusActive, CreatedAt: t0}
		update(t, db, func(tx mamoru.Tx) error { return tx.CreateAccount(ctx(t), a) })
		var nulls, notNull int
		err = raw.QueryRowContext(ctx(t), `SELECT
			(SELECT count(*) FROM accounts WHERE email_verified_at IS NULL AND password_changed_at IS NULL
				AND updated_at IS NULL AND last_sign_in_at IS NULL),
			(SELECT count(*) FROM accounts WHERE created_at IS NOT NULL)`).Scan(&nulls, &notNull)
		wantNoErr(t, "count NULL times", err)
		if nulls != 1 || notNull != 1 {
			t.Fatalf("zero times are not stored as NULL (or non-zero ones are): %d, %d", nulls, notNull)
		}
	})
}

// wantVersionTable checks that schema_migrations records want, in order,
// each with an applied_at.
func wantVersionTable(t *testing.T, raw *sql.DB, want []string) {
	t.Helper()
	rows, err := raw.QueryContext(ctx(t), `SELECT version, name FROM schema_migrations
		WHERE applied_at IS NOT NULL ORDER BY version`)
	wantNoErr(t, "read schema_migrations", err)
	defer rows.Close()
	var names []string
	last := 0
	for rows.Next() {
		var v int
		var name string
		wantNoErr(t, "scan schema_migrations", rows.Scan(&v, &name))
		if v <= last {
			t.Fatalf("schema_migrations: version %d after %d", v, last)
		}
		last = v
		names = append(names, name)
	}
	wantNoErr(t, "read schema_migrations", rows.Err())
	if !slices.Equal(names, want) {
		t.Fatalf("schema_migrations holds %q, want %q", names, want)
	}
}
