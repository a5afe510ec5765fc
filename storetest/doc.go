// Package storetest is the one conformance suite for mamoru.Store: every
// store implementation (sqlite, postgres, any future one) calls Run from its
// tests and must pass every subtest, so that the documented semantics of the
// store interfaces (error codes, ordering, atomicity, time and byte
// round-trips) hold whichever database is configured. RunMigrations checks
// the versioned migrations of a sqlstore.DB.
//
// It is test support: production code must not import it, and it must not
// depend on a particular database driver or reach past the interfaces,
// except RunMigrations, which takes a raw *sql.DB to inspect the schema
// table.
package storetest
