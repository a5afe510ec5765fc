// Package sqlite is mamoru's store on SQLite, the embedded default: it opens
// a database file with the pure-Go driver modernc.org/sqlite (no cgo),
// configures it for a server (WAL, foreign keys, busy timeout, one writer),
// applies its embedded migrations, and hands back the shared SQL
// implementation of package sqlstore.
//
// It must not hold store logic (queries belong in sqlstore, once for every
// database), nor import another adapter; only cmd/mamoru wires it in.
package sqlite
