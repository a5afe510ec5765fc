package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/internal/servicetest"
)

var (
	ctx = context.Background()
	req = servicetest.Request
)

const pw = "miyajima-torii-gate"

func signIn(t *testing.T, e *servicetest.Env, email string) *mamoru.SignInResult {
	t.Helper()
	r, err := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: email, Password: pw}, req)
	if err != nil || r.Status != mamoru.SignedIn {
		t.Fatal(r, err)
	}
	return r
}

func TestTimeouts(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "ai@example.com", pw, mamoru.English)
	r := signIn(t, e, a.Email)
	// Used every 23 hours: the idle timeout (24h) never fires...
	for i := 0; i < 29; i++ {
		e.Clock.Advance(23 * time.Hour)
		if _, _, err := e.Sessions.Authenticate(ctx, r.SessionToken, req); err != nil {
			t.Fatalf("day %d: %v", i, err)
		}
	}
	// ...but the absolute timeout (30 days) does.
	e.Clock.Advance(24 * time.Hour)
	if _, _, err := e.Sessions.Authenticate(ctx, r.SessionToken, req); mamoru.ErrorCode(err) != mamoru.EUnauthorized {
		t.Fatalf("after 30 days: %v", err)
	}
	r = signIn(t, e, a.Email)
	e.Clock.Advance(24*time.Hour + time.Second)
	if _, _, err := e.Sessions.Authenticate(ctx, r.SessionToken, req); mamoru.ErrorCode(err) != mamoru.EUnauthorized {
		t.Fatalf("after a day idle: %v", err)
	}
}

func TestRevocation(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "ryo@example.com", pw, mamoru.English)
	b := e.SignUp(t, "other@example.com", pw, mamoru.English)
	r1, r2, r3 := signIn(t, e, a.Email), signIn(t, e, a.Email), signIn(t, e, a.Email)
	rb := signIn(t, e, b.Email)
	list, err := e.Sessions.ListSessions(ctx, a.ID)
	if err != nil || len(list) != 3 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	if list[0].TokenHash == nil || string(list[0].TokenHash) == r3.SessionToken {
		t.Fatal("token stored in clear")
	}
	// One cannot end another account's session.
	if err := e.Sessions.RevokeSession(ctx, a.ID, rb.Session.ID); mamoru.ErrorCode(err) != mamoru.ENotFound {
		t.Fatalf("revoke other's session: %v", err)
	}
	if err := e.Sessions.RevokeSession(ctx, a.ID, r1.Session.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Sessions.Authenticate(ctx, r1.SessionToken, req); mamoru.ErrorCode(err) != mamoru.EUnauthorized {
		t.Fatalf("revoked session: %v", err)
	}
	if err := e.Sessions.SignOut(ctx, r2.Session); err != nil {
		t.Fatal(err)
	}
	if err := e.Sessions.RevokeAll(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*mamoru.SignInResult{r2, r3} {
		if _, _, err := e.Sessions.Authenticate(ctx, r.SessionToken, req); mamoru.ErrorCode(err) != mamoru.EUnauthorized {
			t.Fatalf("session survived sign out everywhere: %v", err)
		}
	}
	if _, _, err := e.Sessions.Authenticate(ctx, rb.SessionToken, req); err != nil {
		t.Fatalf("another account's session ended: %v", err)
	}
}

func TestGarbageTokens(t *testing.T) {
	e := servicetest.New(t)
	for _, tok := range []string{"", "x", string(make([]byte, 4096)), "../../etc/passwd", "' OR 1=1 --"} {
		if _, _, err := e.Sessions.Authenticate(ctx, tok, req); mamoru.ErrorCode(err) != mamoru.EUnauthorized {
			t.Errorf("%q: %v", tok, err)
		}
	}
}

func TestLastSeenAndIP(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "mio@example.com", pw, mamoru.English)
	r := signIn(t, e, a.Email)
	e.Clock.Advance(2 * time.Minute)
	moved := req
	moved.IP = "198.51.100.9"
	s, _, err := e.Sessions.Authenticate(ctx, r.SessionToken, moved)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := e.Sessions.ListSessions(ctx, a.ID)
	if !list[0].LastSeenAt.Equal(e.Clock.Now()) || list[0].IP != moved.IP || s.IP != moved.IP {
		t.Fatalf("last seen %v ip %s", list[0].LastSeenAt, list[0].IP)
	}
}

// stored returns the session as the store has it.
func stored(t *testing.T, e *servicetest.Env, id string) *mamoru.Session {
	t.Helper()
	var s *mamoru.Session
	err := e.Store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		s, err = tx.SessionByID(ctx, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// issue issues a session at aal in its own transaction.
func issue(t *testing.T, e *servicetest.Env, accountID string, aal int) (*mamoru.Session, string) {
	t.Helper()
	var s *mamoru.Session
	var token string
	err := e.Store.Update(ctx, func(tx mamoru.Tx) error {
		var err error
		s, token, err = e.Sessions.Issue(ctx, tx, accountID, aal, req)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, token
}

func TestIssueVerifiedAt(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "kei@example.com", pw, mamoru.English)
	s1, _ := issue(t, e, a.ID, 1)
	if !s1.VerifiedAt.IsZero() || !stored(t, e, s1.ID).VerifiedAt.IsZero() {
		t.Fatalf("a password-only session is verified: %v", s1.VerifiedAt)
	}
	e.Clock.Advance(time.Minute)
	s2, token := issue(t, e, a.ID, 2)
	now := e.Clock.Now()
	if !s2.VerifiedAt.Equal(now) || s2.AAL != 2 {
		t.Fatalf("a 2-step sign-in: AAL %d VerifiedAt %v, want 2 and %v", s2.AAL, s2.VerifiedAt, now)
	}
	if got := stored(t, e, s2.ID); !got.VerifiedAt.Equal(now) || got.AAL != 2 {
		t.Fatalf("stored: AAL %d VerifiedAt %v, want 2 and %v", got.AAL, got.VerifiedAt, now)
	}
	got, _, err := e.Sessions.Authenticate(ctx, token, req)
	if err != nil || !got.VerifiedAt.Equal(now) {
		t.Fatalf("Authenticate: %v %v", got, err)
	}
}

func TestRotateKeepsVerification(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "nao@example.com", pw, mamoru.English)
	old, oldToken := issue(t, e, a.ID, 2)
	verified := old.VerifiedAt
	e.Clock.Advance(10 * time.Minute)
	var s *mamoru.Session
	var token string
	err := e.Store.Update(ctx, func(tx mamoru.Tx) error {
		var err error
		s, token, err = e.Sessions.Rotate(ctx, tx, old, req)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.ID == old.ID || token == oldToken {
		t.Fatal("Rotate kept the ID or token")
	}
	got := stored(t, e, s.ID)
	if got.AAL != 2 || !got.VerifiedAt.Equal(verified) {
		t.Fatalf("rotated: AAL %d VerifiedAt %v, want 2 and %v", got.AAL, got.VerifiedAt, verified)
	}
	if o := stored(t, e, old.ID); o.RevokedAt.IsZero() || o.RevokeReason != mamoru.RevokeRotated {
		t.Fatalf("old session: revoked %v reason %q", o.RevokedAt, o.RevokeReason)
	}
}

func TestStepUp(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "sora@example.com", pw, mamoru.English)
	r := signIn(t, e, a.Email)
	old := r.Session
	if old.AAL != 1 || !old.VerifiedAt.IsZero() {
		t.Fatalf("password sign-in: AAL %d VerifiedAt %v", old.AAL, old.VerifiedAt)
	}
	e.Clock.Advance(time.Hour)
	stepUp := func(old *mamoru.Session, aal int) (*mamoru.Session, string) {
		t.Helper()
		var s *mamoru.Session
		var token string
		err := e.Store.Update(ctx, func(tx mamoru.Tx) error {
			var err error
			s, token, err = e.Sessions.StepUp(ctx, tx, old, aal, req)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return s, token
	}
	s, token := stepUp(old, 2)
	now := e.Clock.Now()
	if s.ID == old.ID || token == r.SessionToken || s.AccountID != a.ID {
		t.Fatalf("StepUp: ID %s (old %s), account %s", s.ID, old.ID, s.AccountID)
	}
	got := stored(t, e, s.ID)
	if got.AAL != 2 || !got.VerifiedAt.Equal(now) || !got.CreatedAt.Equal(now) {
		t.Fatalf("stepped up: AAL %d VerifiedAt %v CreatedAt %v, want 2 and %v", got.AAL, got.VerifiedAt, got.CreatedAt, now)
	}
	if o := stored(t, e, old.ID); !o.RevokedAt.Equal(now) || o.RevokeReason != mamoru.RevokeRotated {
		t.Fatalf("old session: revoked %v reason %q", o.RevokedAt, o.RevokeReason)
	}
	if _, _, err := e.Sessions.Authenticate(ctx, r.SessionToken, req); mamoru.ErrorCode(err) != mamoru.EUnauthorized {
		t.Fatalf("old token after StepUp: %v", err)
	}
	if _, _, err := e.Sessions.Authenticate(ctx, token, req); err != nil {
		t.Fatalf("new token: %v", err)
	}
	// Re-entering a password (aal 1) in a 2-step session keeps AAL 2 and
	// renews VerifiedAt.
	e.Clock.Advance(time.Minute)
	s2, _ := stepUp(got, 1)
	if got := stored(t, e, s2.ID); got.AAL != 2 || !got.VerifiedAt.Equal(e.Clock.Now()) {
		t.Fatalf("step-up at aal 1: AAL %d VerifiedAt %v", got.AAL, got.VerifiedAt)
	}
	// An unknown session cannot be stepped up.
	err := e.Store.Update(ctx, func(tx mamoru.Tx) error {
		_, _, err := e.Sessions.StepUp(ctx, tx, &mamoru.Session{ID: "nosuchid", AccountID: a.ID}, 2, req)
		return err
	})
	if mamoru.ErrorCode(err) != mamoru.ENotFound {
		t.Fatalf("StepUp of an unknown session: %v", err)
	}
}

func TestRecent(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "yui@example.com", pw, mamoru.English)
	never, _ := issue(t, e, a.ID, 1)
	if e.Sessions.Recent(never, 24*time.Hour) {
		t.Fatal("a session never verified is recent")
	}
	if e.Sessions.Recent(nil, time.Hour) {
		t.Fatal("no session is recent")
	}
	s, _ := issue(t, e, a.ID, 2)
	const within = 5 * time.Minute
	if !e.Sessions.Recent(s, within) {
		t.Fatal("just verified: not recent")
	}
	if !e.Sessions.Recent(s, 0) {
		t.Fatal("verified this instant: not recent within 0")
	}
	e.Clock.Advance(within - time.Nanosecond)
	if !e.Sessions.Recent(s, within) {
		t.Fatal("just inside the window: not recent")
	}
	e.Clock.Advance(time.Nanosecond)
	if !e.Sessions.Recent(s, within) {
		t.Fatal("exactly at the window's end: not recent")
	}
	e.Clock.Advance(time.Nanosecond)
	if e.Sessions.Recent(s, within) {
		t.Fatal("past the window: still recent")
	}
	if !e.Sessions.Recent(s, time.Hour) {
		t.Fatal("within a longer window: not recent")
	}
}
