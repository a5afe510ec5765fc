package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/sqlite"
	"github.com/mamoru-id/mamoru/sqlstore"
	"github.com/mamoru-id/mamoru/storetest"
)

// openFile opens a fresh database file in a temporary directory.
func openFile(t *testing.T, opts sqlite.Options) (*sqlstore.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mamoru.db")
	db, err := sqlite.Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db, path
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) mamoru.Store {
		db, _ := openFile(t, sqlite.Options{})
		return db
	})
}

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) mamoru.Store {
		db, err := sqlite.Open(t.Context(), sqlite.Memory, sqlite.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func TestMigrations(t *testing.T) {
	all, err := sqlstore.Migrations(sqlite.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range all {
		want = append(want, m.Name)
	}
	storetest.RunMigrations(t, func(t *testing.T) (*sqlstore.DB, *sql.DB) {
		db, path := openFile(t, sqlite.Options{NoMigrate: true})
		raw, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return db, raw
	}, want)
}

// TestReopen checks that Open migrates a new file, that reopening an
// up-to-date file applies nothing, and that data survives.
func TestReopen(t *testing.T) {
	db, path := openFile(t, sqlite.Options{})
	pending, err := db.PendingMigrations(t.Context())
	if err != nil || len(pending) != 0 {
		t.Fatalf("PendingMigrations after Open: %q, %v", pending, err)
	}
	a := &mamoru.Account{ID: mamoru.NewID(), Email: "alice@example.com", Status: mamoru.StatusActive}
	if err := db.Update(t.Context(), func(tx mamoru.Tx) error { return tx.CreateAccount(t.Context(), a) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db2.Close()
	if applied, err := db2.Migrate(t.Context()); err != nil || len(applied) != 0 {
		t.Fatalf("Migrate after reopen: %q, %v", applied, err)
	}
	if err := db2.View(t.Context(), func(tx mamoru.Tx) error {
		_, err := tx.AccountByID(t.Context(), a.ID)
		return err
	}); err != nil {
		t.Fatalf("the account did not survive: %v", err)
	}
	var mode string
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode: %q, %v; want wal", mode, err)
	}
}

// TestTwoProcesses opens the same file twice, as a CLI next to a server
// would, and writes from both at once: busy_timeout, immediate
// transactions and retries must keep every write.
func TestTwoProcesses(t *testing.T) {
	db1, path := openFile(t, sqlite.Options{})
	db2, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range 2 * n {
		db := db1
		if i%2 == 1 {
			db = db2
		}
		wg.Go(func() {
			errs <- db.Update(t.Context(), func(tx mamoru.Tx) error {
				a := &mamoru.Account{ID: mamoru.NewID(), Status: mamoru.StatusActive}
				a.Email = a.ID + "@example.com"
				if _, err := tx.ListAccounts(t.Context(), mamoru.AccountFilter{Limit: 1}); err != nil {
					return err // read first, then write: no lock upgrade trouble
				}
				return tx.CreateAccount(t.Context(), a)
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
	}
	var list []*mamoru.Account
	if err := db1.View(t.Context(), func(tx mamoru.Tx) error {
		list, err = tx.ListAccounts(t.Context(), mamoru.AccountFilter{Limit: 1000})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2*n {
		t.Fatalf("got %d accounts, want %d", len(list), 2*n)
	}
}
