package postgres

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mamoru-id/mamoru/sqlstore"
)

// PostgreSQL error codes (SQLSTATE) that the dialect acts on.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// Dialect returns the sqlstore dialect of PostgreSQL: $N placeholders,
// timestamptz times, savepoints around statements whose conflict the
// caller may recover from (a failed statement aborts a PostgreSQL
// transaction), SKIP LOCKED for claiming messages, an advisory lock per
// schema for migrations, and retries on serialization failures and
// deadlocks. Transactions run at the server's default isolation (READ
// COMMITTED); the stores' single-row guards (UPDATE ... WHERE used_at IS
// NULL, WHERE version = ?) are atomic at that level.
func Dialect() *sqlstore.Dialect {
	return &sqlstore.Dialect{
		Name:              "postgres",
		Rebind:            sqlstore.DollarPlaceholders,
		EncodeTime:        func(t time.Time) any { return t },
		DecodeTime:        decodeTime,
		IsUniqueViolation: func(err error) bool { return pgCode(err) == codeUniqueViolation },
		IsRetryable:       isRetryable,
		MaxRetries:        10,
		AbortsTxOnError:   true,
		LockSkipLocked:    " FOR UPDATE SKIP LOCKED",
		MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer     PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL
		)`,
		MigrationsTableExists: `SELECT count(*) FROM pg_catalog.pg_tables
			WHERE schemaname = current_schema() AND tablename = 'schema_migrations'`,
		MigrationLock: `SELECT pg_advisory_xact_lock(hashtext('mamoru.migrate:' || coalesce(current_schema(), '')))`,
	}
}

func decodeTime(src any) (time.Time, error) {
	if t, ok := src.(time.Time); ok {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("postgres: unexpected time value of type %T", src)
}

func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func isRetryable(err error) bool {
	switch pgCode(err) {
	case codeSerializationFailure, codeDeadlockDetected:
		return true
	}
	return false
}
