package sqlstore

import (
	"strconv"
	"strings"
	"time"
)

// Dialect describes what differs between the SQL databases that sqlstore
// runs on. The SQL text of the stores is written once, with "?"
// placeholders; everything a database does differently is decided here.
type Dialect struct {
	// Name identifies the database in errors, e.g. "sqlite" or "postgres".
	Name string

	// Rebind rewrites a query written with "?" placeholders into the
	// database's own style (see DollarPlaceholders); nil keeps "?".
	Rebind func(query string) string

	// EncodeTime turns a non-zero time into the value bound for a time
	// column. sqlstore calls it with UTC times truncated to the microsecond
	// and binds the zero time as NULL without calling it.
	EncodeTime func(t time.Time) any

	// DecodeTime turns a non-NULL value read from a time column back into
	// a time; sqlstore converts the result to UTC.
	DecodeTime func(src any) (time.Time, error)

	// IsUniqueViolation reports whether err is a violation of a unique or
	// primary key constraint.
	IsUniqueViolation func(err error) bool

	// IsRetryable reports whether a transaction that failed with err may
	// succeed if run again (a serialization failure, a deadlock, a busy
	// database). nil means never.
	IsRetryable func(err error) bool

	// MaxRetries is how many times Update runs a transaction again after a
	// retryable failure.
	MaxRetries int

	// AbortsTxOnError is true when a failed statement spoils the whole
	// transaction (PostgreSQL), so that statements which may fail with a
	// conflict the caller can recover from run inside a savepoint.
	AbortsTxOnError bool

	// LockSkipLocked is appended to the SELECT that picks messages to claim
	// so that concurrent claimers skip each other's rows, e.g.
	// " FOR UPDATE SKIP LOCKED". Databases that serialize writers leave it
	// empty.
	LockSkipLocked string

	// MigrationsTable is the statement that creates the schema_migrations
	// table (version, name, applied_at) if it does not exist; applied_at is
	// a time column in this dialect's encoding.
	MigrationsTable string

	// MigrationsTableExists is a query returning one row with the number
	// of schema_migrations tables visible (0 or 1), so that
	// PendingMigrations can answer without creating it.
	MigrationsTableExists string

	// MigrationLock, if not empty, runs first in every migration
	// transaction so that concurrent migrators take turns (for example a
	// transaction-scoped advisory lock).
	MigrationLock string
}

// DollarPlaceholders rewrites the "?" placeholders of query into $1, $2, ...
// (PostgreSQL style), leaving "?" inside quoted strings and identifiers
// alone.
func DollarPlaceholders(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
