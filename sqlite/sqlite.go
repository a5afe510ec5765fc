package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the embedded SQLite migrations, NNNN_name.sql.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded; cannot happen
	}
	return sub
}

// Memory is the path that opens a private, throw-away database for tests:
// it lives in a new temporary file (so that it behaves exactly like a file
// database, readers and writer apart), written without fsync, and removed
// by Close.
const Memory = ":memory:"

// Options configures Open. The zero value is a sensible default.
type Options struct {
	// NoMigrate skips the automatic migration at Open; call Migrate on the
	// returned DB instead.
	NoMigrate bool
	// BusyTimeout is how long a statement waits for a lock held by another
	// process before failing; 0 means 5s.
	BusyTimeout time.Duration
	// MaxReaders bounds the pool of read-only connections used by View; 0
	// means max(4, GOMAXPROCS).
	MaxReaders int
	// Clock stamps schema_migrations and secrets; nil means the system
	// clock.
	Clock mamoru.Clock
}

// Open opens (creating if needed) the SQLite database at path, or a
// private in-memory database for Memory, and applies pending migrations
// unless opts.NoMigrate.
//
// Concurrency design: SQLite allows one writer at a time. Update runs on a
// pool of exactly one connection whose transactions begin IMMEDIATE
// (_txlock=immediate), so writers inside this process queue in
// database/sql instead of failing, and a write transaction takes the write
// lock at BEGIN rather than upgrading a read lock later, which in WAL mode
// can fail at once with SQLITE_BUSY(_SNAPSHOT) that busy_timeout does not
// cure. Writers in other processes (the CLI next to a running server) wait
// up to BusyTimeout, and Update retries on SQLITE_BUSY. View runs on a
// separate pool of query_only connections: WAL lets them read a consistent
// snapshot concurrently with the writer. (A true SQLite in-memory database
// would give every connection its own database, hence Memory is a
// temporary file.)
func Open(ctx context.Context, path string, opts Options) (*sqlstore.DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite: database path %q contains '?'", path)
	}
	var cleanup func() error
	temporary := path == Memory
	if temporary {
		dir, err := os.MkdirTemp("", "mamoru-sqlite-")
		if err != nil {
			return nil, fmt.Errorf("sqlite: temporary database: %w", err)
		}
		path = filepath.Join(dir, "mamoru.db")
		cleanup = func() error { return os.RemoveAll(dir) }
	}
	db, err := open(ctx, path, temporary, opts, cleanup)
	if err != nil && cleanup != nil {
		_ = cleanup()
	}
	return db, err
}

func open(ctx context.Context, path string, temporary bool, opts Options, cleanup func() error) (*sqlstore.DB, error) {
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 5 * time.Second
	}
	readers := opts.MaxReaders
	if readers <= 0 {
		readers = max(4, runtime.GOMAXPROCS(0))
	}

	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	common.Add("_pragma", "foreign_keys(1)")

	wq := cloneValues(common)
	wq.Set("_txlock", "immediate")
	wq.Add("_pragma", "journal_mode(WAL)")
	if temporary {
		wq.Add("_pragma", "synchronous(OFF)")
	}
	write, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	rq := cloneValues(common)
	rq.Add("_pragma", "query_only(1)")
	read, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)

	db, err := sqlstore.New(sqlstore.Config{
		Dialect:    Dialect(),
		DB:         write,
		ReadDB:     read,
		Migrations: Migrations(),
		Clock:      opts.Clock,
		OnClose:    cleanup,
	})
	if err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	if !opts.NoMigrate {
		if _, err := db.Migrate(ctx); err != nil {
			db.Close() // also runs cleanup; running it twice is harmless
			return nil, fmt.Errorf("sqlite: %s: %w", path, err)
		}
	}
	return db, nil
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}
