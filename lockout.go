package mamoru

import (
	"context"
	"time"
)

// Lockout is the failure count and the lock of one sign-in identifier.
// Key is a keyed hash of the canonical identifier (never the address
// itself), so an address with no account counts and locks exactly like one
// with an account, and the table names nobody.
type Lockout struct {
	Key         []byte
	Failures    int       // failures counted since WindowStart
	WindowStart time.Time // the first failure counted
	LockedAt    time.Time // when the current lock began; zero if none
	LockedUntil time.Time // the end of the lock; zero if none
	NotifiedAt  time.Time // when the owner was told of the current lock; zero if not
	UpdatedAt   time.Time
	// Generation counts the locks and unlocks of the identifier: attempts
	// count in a fresh counter after each.
	Generation int64
}

// Locked reports whether the lock holds at now.
func (l *Lockout) Locked(now time.Time) bool {
	return l != nil && now.Before(l.LockedUntil)
}

// LockoutStore keeps the lockouts. The database is their authority: a
// lock holds for every instance of the server, also when the shared
// counters (Redis) are down.
type LockoutStore interface {
	// Lockout returns the lockout of key; ENotFound if none.
	Lockout(ctx context.Context, key []byte) (*Lockout, error)
	// SaveLockout inserts or replaces l.
	SaveLockout(ctx context.Context, l *Lockout) error
	// DeleteLockout deletes the lockout of key, if any.
	DeleteLockout(ctx context.Context, key []byte) error
	// DeleteLockoutsBefore deletes the lockouts last updated before t
	// whose lock (if any) ended before t, and returns how many.
	DeleteLockoutsBefore(ctx context.Context, t time.Time) (int, error)
}
