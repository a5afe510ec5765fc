package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/postgres"
	"github.com/mamoru-id/mamoru/sqlstore"
	"github.com/mamoru-id/mamoru/storetest"
)

// dsn returns the DSN of the test server from MAMORU_TEST_POSTGRES. Without
// it the test is skipped, except under CI, which must never skip silently.
func dsn(t *testing.T) string {
	t.Helper()
	v := os.Getenv("MAMORU_TEST_POSTGRES")
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("MAMORU_TEST_POSTGRES is not set, and CI=true: the PostgreSQL store must be tested in CI")
		}
		t.Skip("MAMORU_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable): skipping the PostgreSQL store tests")
	}
	return v
}

// freshSchema creates an empty schema with a random name, dropped when the
// test ends, and returns its name and a raw connection pool whose
// search_path is that schema.
func freshSchema(t *testing.T, dsn string) (string, *sql.DB) {
	t.Helper()
	schema := "t_" + mamoru.NewID()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("parse MAMORU_TEST_POSTGRES: %v", err)
	}
	admin := stdlib.OpenDB(*cfg)
	if _, err := admin.ExecContext(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	cfg.RuntimeParams["search_path"] = schema
	raw := stdlib.OpenDB(*cfg)
	t.Cleanup(func() {
		raw.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	return schema, raw
}

// open opens the store on a fresh schema.
func open(t *testing.T, migrate bool) (*sqlstore.DB, *sql.DB) {
	t.Helper()
	dsn := dsn(t)
	schema, raw := freshSchema(t, dsn)
	db, err := postgres.Open(t.Context(), dsn, postgres.Options{Schema: schema, Migrate: migrate, MaxConns: 8})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db, raw
}

func TestStore(t *testing.T) {
	dsn(t)
	storetest.Run(t, func(t *testing.T) mamoru.Store {
		db, _ := open(t, true)
		return db
	})
}

func TestMigrations(t *testing.T) {
	dsn(t)
	all, err := sqlstore.Migrations(postgres.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range all {
		want = append(want, m.Name)
	}
	storetest.RunMigrations(t, func(t *testing.T) (*sqlstore.DB, *sql.DB) {
		return open(t, false)
	}, want)
}

// TestOpenDoesNotMigrate checks that Open (and PendingMigrations) leave the
// schema alone unless asked.
func TestOpenDoesNotMigrate(t *testing.T) {
	db, raw := open(t, false)
	pending, err := db.PendingMigrations(t.Context())
	if err != nil || len(pending) == 0 {
		t.Fatalf("PendingMigrations: %q, %v; want every migration", pending, err)
	}
	var n int
	if err := raw.QueryRowContext(t.Context(),
		`SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("Open and PendingMigrations created %d tables without Options.Migrate", n)
	}
}

// TestDeadlockRetried makes two transactions lock two accounts in opposite
// orders: PostgreSQL aborts one with a deadlock, and Update must run it
// again so that both succeed.
func TestDeadlockRetried(t *testing.T) {
	db, _ := open(t, true)
	ctx := t.Context()
	a := &mamoru.Account{ID: mamoru.NewID(), Email: "a@example.com", Status: mamoru.StatusActive}
	b := &mamoru.Account{ID: mamoru.NewID(), Email: "b@example.com", Status: mamoru.StatusActive}
	if err := db.Update(ctx, func(tx mamoru.Tx) error {
		if err := tx.CreateAccount(ctx, a); err != nil {
			return err
		}
		return tx.CreateAccount(ctx, b)
	}); err != nil {
		t.Fatal(err)
	}
	var barrier sync.WaitGroup
	barrier.Add(2)
	var attempts [2]atomic.Int32
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, order := range [][]*mamoru.Account{{a, b}, {b, a}} {
		wg.Go(func() {
			errs[i] = db.Update(ctx, func(tx mamoru.Tx) error {
				first := attempts[i].Add(1) == 1
				for j, acc := range order {
					c := *acc
					c.PasswordHash = fmt.Sprintf("writer %d", i)
					if err := tx.UpdateAccount(ctx, &c); err != nil {
						return err
					}
					if j == 0 && first {
						barrier.Done()
						barrier.Wait() // both hold their first lock
					}
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	if attempts[0].Load()+attempts[1].Load() < 3 {
		t.Fatalf("no transaction was retried (attempts %d and %d): was there no deadlock?",
			attempts[0].Load(), attempts[1].Load())
	}
}
