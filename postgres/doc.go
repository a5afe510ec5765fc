// Package postgres is mamoru's store on PostgreSQL, for deployments with
// several instances: it opens a pool through pgx (github.com/jackc/pgx/v5,
// via its database/sql adapter), carries the PostgreSQL migrations, and
// hands back the shared SQL implementation of package sqlstore with a
// dialect that retries serialization failures and deadlocks.
//
// It must not hold store logic (queries belong in sqlstore, once for every
// database), nor import another adapter; only cmd/mamoru wires it in.
// Opening never changes the schema unless asked (Options.Migrate).
package postgres
