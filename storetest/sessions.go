package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// newSession returns a session of the account created at created and
// expiring a day later.
func newSession(accountID string, created time.Time) *mamoru.Session {
	id := mamoru.NewID()
	return &mamoru.Session{
		ID:         id,
		TokenHash:  hash("session " + id),
		AccountID:  accountID,
		CreatedAt:  created,
		LastSeenAt: created,
		ExpiresAt:  created.Add(24 * time.Hour),
		IP:         "192.0.2.1",
		UserAgent:  "Mozilla/5.0 (X11; Linux x86_64)",
		AAL:        1,
	}
}

func createSessions(t *testing.T, s mamoru.Store, list ...*mamoru.Session) {
	t.Helper()
	update(t, s, func(tx mamoru.Tx) error {
		for _, x := range list {
			if err := tx.CreateSession(ctx(t), x); err != nil {
				return err
			}
		}
		return nil
	})
}

func getSession(t *testing.T, s mamoru.Store, id string) *mamoru.Session {
	t.Helper()
	var got *mamoru.Session
	view(t, s, func(tx mamoru.Tx) error {
		var err error
		got, err = tx.SessionByID(ctx(t), id)
		return err
	})
	return got
}

var sessionTests = map[string]func(t *testing.T, s mamoru.Store){
	"CreateAndGet": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		x := newSession(a.ID, t0) // never verified: VerifiedAt is zero
		y := newSession(a.ID, t0)
		y.AAL, y.VerifiedAt = 2, at(30*time.Minute+7*time.Microsecond)
		y.RevokedAt, y.RevokeReason = at(time.Hour), mamoru.RevokeSignOut
		createSessions(t, s, x, y)
		view(t, s, func(tx mamoru.Tx) error {
			for _, want := range []*mamoru.Session{x, y} {
				got, err := tx.SessionByID(ctx(t), want.ID)
				wantNoErr(t, "SessionByID", err)
				equal(t, "SessionByID", got, want)
				wantTime(t, "VerifiedAt", got.VerifiedAt, want.VerifiedAt)
				got, err = tx.SessionByTokenHash(ctx(t), want.TokenHash)
				wantNoErr(t, "SessionByTokenHash", err)
				equal(t, "SessionByTokenHash", got, want)
			}
			return nil
		})
	},
	"NotFound": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		createSessions(t, s, newSession(a.ID, t0))
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.SessionByID(ctx(t), "nosuchid")
			wantCode(t, "SessionByID", err, mamoru.ENotFound)
			_, err = tx.SessionByTokenHash(ctx(t), hash("nosuchtoken"))
			wantCode(t, "SessionByTokenHash", err, mamoru.ENotFound)
			return nil
		})
	},
	"DuplicateTokenHash": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		x := newSession(a.ID, t0)
		createSessions(t, s, x)
		update(t, s, func(tx mamoru.Tx) error {
			y := newSession(a.ID, t0)
			y.TokenHash = x.TokenHash
			wantCode(t, "CreateSession with a taken token hash", tx.CreateSession(ctx(t), y), mamoru.EConflict)
			return nil
		})
	},
	"ListActive": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		b := createAccount(t, s, "bob@example.com")
		now := at(10 * time.Hour)
		old := newSession(a.ID, at(1*time.Hour))
		mid := newSession(a.ID, at(2*time.Hour))
		mid.LastSeenAt = at(3 * time.Hour) // idle timeouts are the caller's business
		mid.AAL, mid.VerifiedAt = 2, at(2*time.Hour+time.Microsecond)
		newest := newSession(a.ID, at(3*time.Hour))
		revoked := newSession(a.ID, at(4*time.Hour))
		revoked.RevokedAt, revoked.RevokeReason = at(5*time.Hour), mamoru.RevokeSignOut
		expired := newSession(a.ID, at(-24*time.Hour))
		expiresNow := newSession(a.ID, at(-14*time.Hour)) // expires exactly at now
		other := newSession(b.ID, at(5*time.Hour))
		createSessions(t, s, mid, expired, newest, revoked, old, other, expiresNow)
		view(t, s, func(tx mamoru.Tx) error {
			list, err := tx.ListActiveSessions(ctx(t), a.ID, now)
			wantNoErr(t, "ListActiveSessions", err)
			wantIDs(t, "ListActiveSessions", list, newest.ID, mid.ID, old.ID)
			equal(t, "ListActiveSessions[1]", list[1], mid)
			list, err = tx.ListActiveSessions(ctx(t), "nosuchid", now)
			wantNoErr(t, "ListActiveSessions", err)
			wantIDs(t, "ListActiveSessions of an unknown account", list)
			return nil
		})
	},
	"Touch": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		x := newSession(a.ID, t0)
		x.VerifiedAt = t0
		createSessions(t, s, x)
		update(t, s, func(tx mamoru.Tx) error {
			return tx.TouchSession(ctx(t), x.ID, at(time.Minute), "198.51.100.7")
		})
		got := getSession(t, s, x.ID)
		wantTime(t, "LastSeenAt", got.LastSeenAt, at(time.Minute))
		wantTime(t, "VerifiedAt after TouchSession", got.VerifiedAt, t0)
		if got.IP != "198.51.100.7" {
			t.Fatalf("IP: got %q, want the new address", got.IP)
		}
		update(t, s, func(tx mamoru.Tx) error {
			return tx.TouchSession(ctx(t), x.ID, at(2*time.Minute), "")
		})
		got = getSession(t, s, x.ID)
		wantTime(t, "LastSeenAt", got.LastSeenAt, at(2*time.Minute))
		if got.IP != "198.51.100.7" {
			t.Fatalf("IP: got %q, want it kept when touched with an empty IP", got.IP)
		}
	},
	"Revoke": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		x := newSession(a.ID, t0)
		y := newSession(a.ID, t0)
		createSessions(t, s, x, y)
		update(t, s, func(tx mamoru.Tx) error {
			return tx.RevokeSession(ctx(t), x.ID, at(time.Hour), mamoru.RevokeSignOut)
		})
		update(t, s, func(tx mamoru.Tx) error {
			// Revoking again is not an error and keeps the first time.
			return tx.RevokeSession(ctx(t), x.ID, at(2*time.Hour), mamoru.RevokeOperator)
		})
		got := getSession(t, s, x.ID)
		wantTime(t, "RevokedAt", got.RevokedAt, at(time.Hour))
		if got.RevokeReason != mamoru.RevokeSignOut {
			t.Errorf("RevokeReason: got %q, want the first reason %q", got.RevokeReason, mamoru.RevokeSignOut)
		}
		if got := getSession(t, s, y.ID); !got.RevokedAt.IsZero() {
			t.Fatalf("the other session was revoked: %+v", got)
		}
		update(t, s, func(tx mamoru.Tx) error {
			wantCode(t, "RevokeSession of an unknown session",
				tx.RevokeSession(ctx(t), "nosuchid", at(time.Hour), mamoru.RevokeSignOut), mamoru.ENotFound)
			return nil
		})
	},
	"RevokeAll": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		b := createAccount(t, s, "bob@example.com")
		keep := newSession(a.ID, t0)
		s1 := newSession(a.ID, t0)
		s2 := newSession(a.ID, at(time.Minute))
		gone := newSession(a.ID, t0)
		gone.RevokedAt, gone.RevokeReason = at(time.Minute), mamoru.RevokeSignOut
		other := newSession(b.ID, t0)
		createSessions(t, s, keep, s1, s2, gone, other)
		var ended []string
		update(t, s, func(tx mamoru.Tx) error {
			var err error
			ended, err = tx.RevokeSessions(ctx(t), a.ID, at(time.Hour), mamoru.RevokePasswordChange, keep.ID)
			return err
		})
		slices.Sort(ended)
		if want := slices.Sorted(slices.Values([]string{s1.ID, s2.ID})); !slices.Equal(ended, want) {
			t.Fatalf("RevokeSessions: got %v, want %v", ended, want)
		}
		for _, x := range []*mamoru.Session{s1, s2} {
			got := getSession(t, s, x.ID)
			wantTime(t, "RevokedAt", got.RevokedAt, at(time.Hour))
			if got.RevokeReason != mamoru.RevokePasswordChange {
				t.Fatalf("RevokeReason: got %q", got.RevokeReason)
			}
		}
		if got := getSession(t, s, gone.ID); !got.RevokedAt.Equal(gone.RevokedAt) || got.RevokeReason != gone.RevokeReason {
			t.Fatalf("an already revoked session changed: %+v", got)
		}
		if got := getSession(t, s, keep.ID); !got.RevokedAt.IsZero() {
			t.Fatalf("the excepted session was revoked: %+v", got)
		}
		if got := getSession(t, s, other.ID); !got.RevokedAt.IsZero() {
			t.Fatalf("another account's session was revoked: %+v", got)
		}
		update(t, s, func(tx mamoru.Tx) error {
			var err error
			ended, err = tx.RevokeSessions(ctx(t), a.ID, at(2*time.Hour), mamoru.RevokeSignOutAll, "")
			return err
		})
		if !slices.Equal(ended, []string{keep.ID}) {
			t.Fatalf("RevokeSessions with no exception: got %v, want [%s]", ended, keep.ID)
		}
		if got := getSession(t, s, keep.ID); !got.RevokedAt.Equal(at(2 * time.Hour)) {
			t.Fatalf("RevokeSessions with no exception left %+v", got)
		}
		view(t, s, func(tx mamoru.Tx) error {
			list, err := tx.ListActiveSessions(ctx(t), a.ID, t0)
			wantNoErr(t, "ListActiveSessions", err)
			wantIDs(t, "ListActiveSessions after RevokeSessions", list)
			return nil
		})
	},
	"DeleteBefore": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		cut := at(48 * time.Hour)
		expired := newSession(a.ID, at(-time.Hour)) // expires at(23h)
		revoked := newSession(a.ID, at(40*time.Hour))
		revoked.RevokedAt = at(47 * time.Hour)
		revokedLater := newSession(a.ID, at(40*time.Hour))
		revokedLater.RevokedAt = at(49 * time.Hour)
		expiresLater := newSession(a.ID, at(30*time.Hour)) // expires at(54h)
		expiresAtCut := newSession(a.ID, at(24*time.Hour)) // expires exactly at cut
		createSessions(t, s, expired, revoked, revokedLater, expiresLater, expiresAtCut)
		var n int
		update(t, s, func(tx mamoru.Tx) error {
			var err error
			n, err = tx.DeleteSessionsBefore(ctx(t), cut)
			return err
		})
		if n != 2 {
			t.Fatalf("DeleteSessionsBefore: got %d, want 2", n)
		}
		view(t, s, func(tx mamoru.Tx) error {
			for _, x := range []*mamoru.Session{expired, revoked} {
				_, err := tx.SessionByID(ctx(t), x.ID)
				wantCode(t, "SessionByID of a deleted session", err, mamoru.ENotFound)
			}
			for _, x := range []*mamoru.Session{revokedLater, expiresLater, expiresAtCut} {
				_, err := tx.SessionByID(ctx(t), x.ID)
				wantNoErr(t, "SessionByID of a kept session", err)
			}
			return nil
		})
	},
}
