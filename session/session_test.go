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
