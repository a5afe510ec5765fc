package mamoru

import (
	"context"
)

// Tx is one database transaction with access to every store.
type Tx interface {
	AccountStore
	SessionStore
	FlowStore
	TokenStore
	OutboxStore
	EventStore
	RiskStore
	SecretStore
	LockoutStore
	CredentialStore
}

// Store is a database. Every read and write happens in a transaction, so a
// change and the message it causes are committed together or not at all.
//
// Rules every implementation follows (storetest enforces them):
//   - fn must not call the Store again (on SQLite, with one writer
//     connection, Update inside Update deadlocks) and, since it may be
//     retried, must change nothing outside tx;
//   - write methods called inside View fail;
//   - "newest/oldest first" breaks ties of equal times by insertion order;
//   - methods that name a row by ID return ENotFound for an unknown one, and
//     Create/Enqueue methods return EConflict for a duplicate ID, leaving the
//     transaction usable;
//   - a zero time.Time is stored as NULL ("never"), so methods that record
//     when something happened refuse a zero time;
//   - sessions, flows and tokens must belong to an existing account.
type Store interface {
	// Update runs fn in a read-write transaction, committed if fn returns
	// nil and rolled back otherwise. fn may be retried on serialization
	// failures, so it must not have effects outside tx.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(tx Tx) error) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// SecretStore keeps server-wide secrets (the key for hashing codes, the
// key for signing cookies), so that every instance of a cluster uses the
// same ones without configuration.
type SecretStore interface {
	// EnsureSecret stores candidate under name unless a secret with that
	// name exists, and returns the stored secret.
	EnsureSecret(ctx context.Context, name string, candidate []byte) ([]byte, error)
}
