package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/mamoru-id/mamoru/postgres"
	"github.com/mamoru-id/mamoru/sqlite"
	"github.com/mamoru-id/mamoru/sqlstore"
)

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// openStore opens the configured database. SQLite migrates at open;
// PostgreSQL migrates only when asked (migrate), and otherwise refuses to
// start on a schema that is not up to date.
func openStore(ctx context.Context, c DatabaseConfig, migrate bool, log *slog.Logger) (*sqlstore.DB, error) {
	switch c.Driver {
	case "postgres":
		db, err := postgres.Open(ctx, c.DSN, postgres.Options{})
		if err != nil {
			return nil, err
		}
		if migrate {
			applied, err := db.Migrate(ctx)
			if err != nil {
				db.Close()
				return nil, err
			}
			for _, name := range applied {
				log.Info("migration applied", "name", name)
			}
		} else {
			pending, err := db.PendingMigrations(ctx)
			if err != nil {
				db.Close()
				return nil, err
			}
			if len(pending) > 0 {
				db.Close()
				return nil, fmt.Errorf("the PostgreSQL schema is not up to date (%d pending migrations): run `mamoru migrate` or start with --migrate", len(pending))
			}
		}
		return db, nil
	default:
		return sqlite.Open(ctx, c.Path, sqlite.Options{})
	}
}

// migrateStore applies pending migrations and reports them.
func migrateStore(ctx context.Context, c DatabaseConfig) ([]string, error) {
	if c.Driver == "postgres" {
		db, err := postgres.Open(ctx, c.DSN, postgres.Options{})
		if err != nil {
			return nil, err
		}
		defer db.Close()
		return db.Migrate(ctx)
	}
	db, err := sqlite.Open(ctx, c.Path, sqlite.Options{NoMigrate: true})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.Migrate(ctx)
}
