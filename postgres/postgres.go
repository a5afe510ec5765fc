package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the embedded PostgreSQL migrations, NNNN_name.sql.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded; cannot happen
	}
	return sub
}

// Options configures Open. The zero value is a sensible default.
type Options struct {
	// Migrate applies pending migrations at Open. Off by default: the
	// schema of a shared database changes only when an operator runs
	// "mamoru migrate" (which calls DB.Migrate).
	Migrate bool
	// Schema, if set, becomes the search_path of every connection, so the
	// tables live in (and are looked up in) that schema.
	Schema string
	// MaxConns bounds the connection pool; 0 means 20.
	MaxConns int
	// Clock stamps schema_migrations and secrets; nil means the system
	// clock.
	Clock mamoru.Clock
}

// Open connects to the PostgreSQL database named by dsn, a pgx connection
// string (URL "postgres://user@host:5432/db?sslmode=disable" or keyword
// form "host=... dbname=..."), checks that it answers, and applies pending
// migrations if opts.Migrate.
func Open(ctx context.Context, dsn string, opts Options) (*sqlstore.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse DSN: %w", err)
	}
	if opts.Schema != "" {
		cfg.RuntimeParams["search_path"] = opts.Schema
	}
	conns := opts.MaxConns
	if conns <= 0 {
		conns = 20
	}
	pool := stdlib.OpenDB(*cfg)
	pool.SetMaxOpenConns(conns)
	pool.SetMaxIdleConns(conns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	db, err := sqlstore.New(sqlstore.Config{
		Dialect:    Dialect(),
		DB:         pool,
		Migrations: Migrations(),
		Clock:      opts.Clock,
	})
	if err != nil {
		pool.Close()
		return nil, err
	}
	if opts.Migrate {
		if _, err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("postgres: %w", err)
		}
	}
	return db, nil
}
