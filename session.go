package mamoru

import (
	"context"
	"time"
)

// Session is a signed-in browser, phone or app. The secret token given to
// the client is never stored: only its SHA-256 (TokenHash). ID is a separate
// public identifier used in session lists and in DELETE /api/v1/sessions/{id}.
type Session struct {
	ID         string
	TokenHash  []byte
	AccountID  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute timeout
	IP         string
	UserAgent  string
	AAL        int // authentication assurance level reached (1: password)
	// VerifiedAt is when the session's owner last proved a second factor or
	// re-entered their credentials in this session (sign-in with 2-step
	// verification, or step-up); zero: never. Sensitive changes need it
	// recent.
	VerifiedAt   time.Time
	RevokedAt    time.Time
	RevokeReason string
}

// Active reports whether the session is usable at now with the given idle
// timeout: not revoked, before its absolute expiry, and seen recently enough.
func (s *Session) Active(now time.Time, idle time.Duration) bool {
	if !s.RevokedAt.IsZero() || !now.Before(s.ExpiresAt) {
		return false
	}
	return idle <= 0 || now.Before(s.LastSeenAt.Add(idle))
}

// Reasons recorded when sessions end.
const (
	RevokeSignOut        = "signout"
	RevokeSignOutAll     = "signout_everywhere"
	RevokeByOwner        = "revoked_by_owner"
	RevokePasswordChange = "password_changed"
	RevokePasswordReset  = "password_reset"
	RevokeOperator       = "operator"
	RevokeRotated        = "rotated"        // replaced by a fresh id on a privilege change
	RevokeSecureAccount  = "secure_account" // the owner said "this wasn't me"
	RevokeResetRequired  = "reset_required" // a new password became required
)

// SessionStore persists sessions.
type SessionStore interface {
	// CreateSession inserts s; s.ID and s.TokenHash must be set.
	CreateSession(ctx context.Context, s *Session) error
	// SessionByTokenHash returns the session whatever its state (callers
	// check Active); ENotFound if none.
	SessionByTokenHash(ctx context.Context, hash []byte) (*Session, error)
	// SessionByID returns ENotFound if none.
	SessionByID(ctx context.Context, id string) (*Session, error)
	// ListActiveSessions returns the account's sessions that are not revoked
	// and whose absolute expiry is after now, newest first. Idle timeouts are
	// applied by the caller.
	ListActiveSessions(ctx context.Context, accountID string, now time.Time) ([]*Session, error)
	// TouchSession sets LastSeenAt (and IP when not empty).
	TouchSession(ctx context.Context, id string, seen time.Time, ip string) error
	// RevokeSession ends one session; ENotFound if it does not exist.
	// Revoking a revoked session is not an error and keeps the first time.
	RevokeSession(ctx context.Context, id string, at time.Time, reason string) error
	// RevokeSessions ends every unrevoked session of the account except the
	// one with ID exceptID ("" for none) and returns the IDs of those it
	// ended.
	RevokeSessions(ctx context.Context, accountID string, at time.Time, reason, exceptID string) ([]string, error)
	// DeleteSessionsBefore removes sessions that expired or were revoked
	// before t, and returns how many.
	DeleteSessionsBefore(ctx context.Context, t time.Time) (int, error)
}
