package sqlite

import (
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mamoru-id/mamoru/sqlstore"
)

// Dialect returns the sqlstore dialect of SQLite: "?" placeholders, times
// as INTEGER microseconds since the Unix epoch (UTC, sortable, exact to the
// microsecond), and retries when the database is busy or locked by another
// process.
func Dialect() *sqlstore.Dialect {
	return &sqlstore.Dialect{
		Name:              "sqlite",
		EncodeTime:        func(t time.Time) any { return t.UnixMicro() },
		DecodeTime:        decodeTime,
		IsUniqueViolation: isUniqueViolation,
		IsRetryable:       isRetryable,
		MaxRetries:        5,
		MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at INTEGER NOT NULL
		) STRICT`,
		MigrationsTableExists: `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`,
	}
}

func decodeTime(src any) (time.Time, error) {
	switch v := src.(type) {
	case int64:
		return time.UnixMicro(v).UTC(), nil
	case time.Time:
		return v.UTC(), nil
	default:
		return time.Time{}, fmt.Errorf("sqlite: unexpected time value of type %T", src)
	}
}

func sqliteCode(err error) (int, bool) {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code(), true
	}
	return 0, false
}

func isUniqueViolation(err error) bool {
	code, ok := sqliteCode(err)
	return ok && (code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

func isRetryable(err error) bool {
	code, ok := sqliteCode(err)
	if !ok {
		return false
	}
	switch code & 0xff { // the primary code; extended codes add high bits
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}
