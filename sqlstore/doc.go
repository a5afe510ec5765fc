// Package sqlstore implements mamoru.Store and mamoru.Tx once, over
// database/sql, for every SQL database mamoru supports. The differences
// between databases (placeholder style, how times are stored, how a unique
// violation or a retryable failure is recognised, row locking) are
// described by a small Dialect that the adapter packages (sqlite, postgres)
// provide together with their driver, their *sql.DB pools and their
// embedded migrations. It also runs those versioned migrations.
//
// It must not import a database driver or any adapter package, nor hold
// SQL that only one database understands: dialect-specific text belongs in
// a Dialect or in the adapter's migration files. It knows nothing of HTTP,
// sign-in rules or messages beyond storing them.
package sqlstore
