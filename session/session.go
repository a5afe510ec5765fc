// Package session issues, authenticates and ends sessions. It implements
// mamoru.SessionService and gives the sign-in and account packages the means
// to issue a session, or rotate one to a fresh ID, inside their own
// transactions.
//
// A session token is 256 random bits handed to the client once; only its
// SHA-256 is stored. This package knows nothing of cookies or HTTP.
package session

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/mamoru-id/mamoru"
)

// Config holds the session timeouts.
type Config struct {
	// IdleTimeout ends a session not used for this long (0: never).
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after sign-in, used or not.
	AbsoluteTimeout time.Duration
	// TouchInterval is how stale LastSeenAt may get before a request
	// rewrites it; it bounds the writes an active session causes.
	TouchInterval time.Duration
}

// DefaultConfig returns the defaults: NIST SP 800-63B's AAL1 limit of 30
// days for re-authentication, a day of inactivity, and a minute of
// last-seen precision.
func DefaultConfig() Config {
	return Config{IdleTimeout: 24 * time.Hour, AbsoluteTimeout: 30 * 24 * time.Hour, TouchInterval: time.Minute}
}

// Manager implements mamoru.SessionService.
type Manager struct {
	store  mamoru.Store
	clock  mamoru.Clock
	cfg    Config
	events mamoru.EventRecorder
}

var _ mamoru.SessionService = (*Manager)(nil)

// NewManager returns a Manager.
func NewManager(store mamoru.Store, clock mamoru.Clock, cfg Config) *Manager {
	if cfg.TouchInterval <= 0 {
		cfg.TouchInterval = time.Minute
	}
	return &Manager{store: store, clock: clock, cfg: cfg}
}

// SetEvents makes the Manager record a session.ended event for every
// session it ends; call it before the Manager is used.
func (m *Manager) SetEvents(rec mamoru.EventRecorder) { m.events = rec }

// Ended records a session.ended event for each of the sessions, with the
// session's own address and device, and the reason. Callers that end
// sessions in their own transactions (password change, secure account)
// call it with the IDs RevokeSessions returned.
func (m *Manager) Ended(ctx context.Context, tx mamoru.Tx, ids []string, reason string) error {
	if m.events == nil {
		return nil
	}
	for _, id := range ids {
		s, err := tx.SessionByID(ctx, id)
		if err != nil {
			return err
		}
		err = m.events.Record(ctx, tx, &mamoru.Event{
			Type: mamoru.EventSessionEnded, AccountID: s.AccountID, SessionID: s.ID,
			IP: s.IP, UserAgent: s.UserAgent, Details: map[string]string{mamoru.DetailReason: reason},
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// RevokeAllIn ends every session of the account but exceptID inside tx
// and records the events.
func (m *Manager) RevokeAllIn(ctx context.Context, tx mamoru.Tx, accountID, reason, exceptID string) error {
	ids, err := tx.RevokeSessions(ctx, accountID, m.clock.Now(), reason, exceptID)
	if err != nil {
		return err
	}
	return m.Ended(ctx, tx, ids, reason)
}

// Issue creates a new session for the account inside tx and returns it
// with its secret token. Every sign-in calls it, so every sign-in gets a
// fresh ID. A sign-in at aal 2 or more (2-step verification) counts as a
// verification: the session's VerifiedAt is now.
func (m *Manager) Issue(ctx context.Context, tx mamoru.Tx, accountID string, aal int, r mamoru.Request) (*mamoru.Session, string, error) {
	now := m.clock.Now()
	var verified time.Time
	if aal >= 2 {
		verified = now
	}
	return m.issue(ctx, tx, accountID, aal, verified, now, r)
}

// issue creates the session at now with the given assurance level and
// verification time.
func (m *Manager) issue(ctx context.Context, tx mamoru.Tx, accountID string, aal int, verified, now time.Time, r mamoru.Request) (*mamoru.Session, string, error) {
	token := mamoru.NewSecret()
	s := &mamoru.Session{
		ID:         mamoru.NewID(),
		TokenHash:  mamoru.HashSecret(token),
		AccountID:  accountID,
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(m.cfg.AbsoluteTimeout),
		IP:         r.IP,
		UserAgent:  r.UserAgent,
		AAL:        aal,
		VerifiedAt: verified,
	}
	if err := tx.CreateSession(ctx, s); err != nil {
		return nil, "", err
	}
	return s, token, nil
}

// Rotate replaces old with a fresh session (new ID and token, same account,
// assurance level and verification time) inside tx, for privilege changes.
func (m *Manager) Rotate(ctx context.Context, tx mamoru.Tx, old *mamoru.Session, r mamoru.Request) (*mamoru.Session, string, error) {
	now := m.clock.Now()
	if err := tx.RevokeSession(ctx, old.ID, now, mamoru.RevokeRotated); err != nil {
		return nil, "", err
	}
	return m.issue(ctx, tx, old.AccountID, old.AAL, old.VerifiedAt, now, r)
}

// StepUp replaces old, whose owner has just proved a second factor or
// re-entered their credentials, with a fresh session (new ID and token,
// same account) inside tx: old is revoked as rotated, and the new session
// has the higher of old's assurance level and aal, and VerifiedAt now. As
// with Rotate, old is the session the request authenticated with.
func (m *Manager) StepUp(ctx context.Context, tx mamoru.Tx, old *mamoru.Session, aal int, r mamoru.Request) (*mamoru.Session, string, error) {
	now := m.clock.Now()
	if err := tx.RevokeSession(ctx, old.ID, now, mamoru.RevokeRotated); err != nil {
		return nil, "", err
	}
	return m.issue(ctx, tx, old.AccountID, max(old.AAL, aal), now, now, r)
}

// Recent reports whether s's owner was verified (VerifiedAt) no longer
// than within ago by the Manager's clock; never if s was never verified.
func (m *Manager) Recent(s *mamoru.Session, within time.Duration) bool {
	if s == nil || s.VerifiedAt.IsZero() {
		return false
	}
	return !m.clock.Now().After(s.VerifiedAt.Add(within))
}

// Authenticate implements mamoru.SessionService.
func (m *Manager) Authenticate(ctx context.Context, token string, r mamoru.Request) (*mamoru.Session, *mamoru.Account, error) {
	if token == "" || len(token) > 128 {
		return nil, nil, unauthorized()
	}
	hash := mamoru.HashSecret(token)
	now := m.clock.Now()
	var s *mamoru.Session
	var a *mamoru.Account
	err := m.store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		if s, err = tx.SessionByTokenHash(ctx, hash); err != nil {
			return err
		}
		a, err = tx.AccountByID(ctx, s.AccountID)
		return err
	})
	if mamoru.ErrorCode(err) == mamoru.ENotFound {
		return nil, nil, unauthorized()
	}
	if err != nil {
		return nil, nil, err
	}
	// The lookup was by hash; compare again in constant time so that the
	// decision never rests on a database collation.
	if subtle.ConstantTimeCompare(s.TokenHash, hash) != 1 || !s.Active(now, m.cfg.IdleTimeout) || a.Status != mamoru.StatusActive {
		return nil, nil, unauthorized()
	}
	if now.Sub(s.LastSeenAt) >= m.cfg.TouchInterval || (r.IP != "" && r.IP != s.IP) {
		err := m.store.Update(ctx, func(tx mamoru.Tx) error { return tx.TouchSession(ctx, s.ID, now, r.IP) })
		if err != nil {
			return nil, nil, err
		}
		s.LastSeenAt = now
		if r.IP != "" {
			s.IP = r.IP
		}
	}
	return s, a, nil
}

// ListSessions implements mamoru.SessionService.
func (m *Manager) ListSessions(ctx context.Context, accountID string) ([]*mamoru.Session, error) {
	now := m.clock.Now()
	var out []*mamoru.Session
	err := m.store.View(ctx, func(tx mamoru.Tx) error {
		all, err := tx.ListActiveSessions(ctx, accountID, now)
		for _, s := range all {
			if s.Active(now, m.cfg.IdleTimeout) {
				out = append(out, s)
			}
		}
		return err
	})
	return out, err
}

// RevokeSession implements mamoru.SessionService.
func (m *Manager) RevokeSession(ctx context.Context, accountID, sessionID string) error {
	return m.store.Update(ctx, func(tx mamoru.Tx) error {
		s, err := tx.SessionByID(ctx, sessionID)
		if err != nil {
			return err
		}
		if s.AccountID != accountID || !s.RevokedAt.IsZero() {
			return mamoru.Errorf(mamoru.ENotFound, "no such session")
		}
		if err := tx.RevokeSession(ctx, sessionID, m.clock.Now(), mamoru.RevokeByOwner); err != nil {
			return err
		}
		return m.Ended(ctx, tx, []string{sessionID}, mamoru.RevokeByOwner)
	})
}

// RevokeAll implements mamoru.SessionService.
func (m *Manager) RevokeAll(ctx context.Context, accountID string) error {
	return m.store.Update(ctx, func(tx mamoru.Tx) error {
		return m.RevokeAllIn(ctx, tx, accountID, mamoru.RevokeSignOutAll, "")
	})
}

// SignOut implements mamoru.SessionService.
func (m *Manager) SignOut(ctx context.Context, s *mamoru.Session) error {
	return m.store.Update(ctx, func(tx mamoru.Tx) error {
		if err := tx.RevokeSession(ctx, s.ID, m.clock.Now(), mamoru.RevokeSignOut); err != nil {
			return err
		}
		return m.Ended(ctx, tx, []string{s.ID}, mamoru.RevokeSignOut)
	})
}

func unauthorized() error { return mamoru.Errorf(mamoru.EUnauthorized, "no valid session") }
