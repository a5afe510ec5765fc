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
	SecretStore
}

// Store is a database. Every read and write happens in a transaction, so a
// change and the message it causes are committed together or not at all.
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
