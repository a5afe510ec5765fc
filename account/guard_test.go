package account_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/guard"
	"github.com/mamoru-id/mamoru/internal/servicetest"
)

// lockCfg locks after 5 failures and asks for no CAPTCHA (these tests
// look at the lock alone).
func lockCfg() *guard.Config {
	c := guard.DefaultConfig()
	c.Lockout.Threshold = 5
	c.Captcha.AfterIPFailures, c.Captcha.AfterIdentifierFailures = 100000, 100000
	return &c
}

// from returns a client at a distinct documentation address.
func from(i int) mamoru.Request {
	r := servicetest.Request
	r.IP = fmt.Sprintf("203.0.113.%d", i%250+1)
	return r
}

func signInErr(e *servicetest.Env, email, pw string, r mamoru.Request) (*mamoru.SignInResult, error) {
	return e.SignIn.SubmitPassword(context.Background(), mamoru.PasswordStep{Email: email, Password: pw}, r)
}

// TestLockHonouredEverywhere: after 5 wrong passwords — typed in several
// forms of one address — the right password, the code step and every
// variant of the address are refused as locked; forgot-password keeps
// working; the owner is told once with a link that ends the lock; a reset
// ends it too.
func TestLockHonouredEverywhere(t *testing.T) {
	e := servicetest.NewWith(t, servicetest.Options{Guard: lockCfg()})
	a := e.SignUp(t, "lock@example.com", pw, mamoru.Japanese)
	challengeAll(e)
	// A flow waiting for its code, begun before the lock.
	pending := e.SignInAs(t, a.Email, pw, servicetest.Stranger)
	if pending.Status != mamoru.ChallengeRequired {
		t.Fatalf("pending flow: %+v", pending)
	}
	variants := []string{"lock@example.com", "LOCK@EXAMPLE.COM", "  Lock@Example.com ", "ｌｏｃｋ＠ｅｘａｍｐｌｅ．ｃｏｍ"}
	for i := range 5 {
		if res := e.SignInAs(t, variants[i%len(variants)], "wrong-"+fmt.Sprint(i), from(i)); res.Status != mamoru.InvalidCredentials {
			t.Fatalf("failure %d: %s", i, res.Status)
		}
	}
	for _, v := range variants {
		if res := e.SignInAs(t, v, pw, servicetest.Request); res.Status != mamoru.Locked || res.Session != nil {
			t.Fatalf("right password as %q during the lock: %+v", v, res)
		}
	}
	_, c := code(t, e, a.Email, "signin_code")
	_, err := e.SignIn.SubmitCode(ctx, mamoru.CodeStep{FlowID: pending.FlowID, FlowSecret: pending.FlowSecret, Code: c}, servicetest.Stranger)
	wantCode(t, err, mamoru.ELocked)

	// Told once, in the account's language, with a link that ends it.
	var locks []*mamoru.Message
	for _, m := range e.Mail(t, a.Email) {
		if m.Template == "signin_locked" {
			locks = append(locks, m)
		}
	}
	if len(locks) != 1 || locks[0].Language != mamoru.Japanese {
		t.Fatalf("lock mails: %d", len(locks))
	}
	if !strings.Contains(locks[0].Text, from(4).IP) {
		t.Errorf("the lock mail does not name the attempt that locked it (%s):\n%s", from(4).IP, locks[0].Text)
	}
	if !strings.Contains(locks[0].Text, "パスワード") || strings.Contains(locks[0].Text, pw) {
		t.Errorf("lock mail:\n%s", locks[0].Text)
	}
	if !strings.Contains(locks[0].Text, servicetest.BaseURL+"/account/unlock?token=") {
		t.Fatalf("no unlock link in\n%s", locks[0].Text)
	}
	if got := e.EventsOf(t, a.ID, mamoru.EventSignInLockedOut); len(got) != 1 {
		t.Errorf("%d lock events", len(got))
	}

	// Forgot-password keeps working during the lock.
	if err := e.Accounts.ForgotPassword(ctx, a.Email, servicetest.Request); err != nil {
		t.Fatal(err)
	}
	if _, c := code(t, e, a.Email, "password_reset"); c == "" {
		t.Fatal("no reset code during the lock")
	}

	// The unlock link works once and ends the lock.
	token := linkOf(t, locks[0])
	if err := e.Accounts.CheckUnlockLink(ctx, token); err != nil {
		t.Fatal(err)
	}
	if err := e.Accounts.Unlock(ctx, token, servicetest.Request); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.Accounts.Unlock(ctx, token, servicetest.Request), mamoru.EInvalidCode)
	e2 := e.SignInAs(t, a.Email, pw, servicetest.Request)
	if e2.Status == mamoru.Locked {
		t.Fatalf("still locked after the unlock link")
	}

	// Lock again; a password reset ends the lock.
	for i := range 5 {
		e.SignInAs(t, a.Email, "wrong-again", from(i))
	}
	if res := e.SignInAs(t, a.Email, pw, servicetest.Request); res.Status != mamoru.Locked {
		t.Fatalf("second lock: %s", res.Status)
	}
	if err := e.Accounts.ForgotPassword(ctx, a.Email, servicetest.Request); err != nil {
		t.Fatal(err)
	}
	_, rc := code(t, e, a.Email, "password_reset")
	const fresh = "tsurugaoka-hachimangu-1063"
	if err := e.Accounts.ResetPassword(ctx, mamoru.ResetInput{Email: a.Email, Code: rc, Password: fresh}, servicetest.Request); err != nil {
		t.Fatal(err)
	}
	if res := e.SignInAs(t, a.Email, fresh, servicetest.Request); res.Status == mamoru.Locked {
		t.Fatal("still locked after the reset")
	}
}

// TestLockedUnknownAddressLooksTheSame: an address with no account locks
// after the same failures and answers the same; nobody is mailed.
func TestLockedUnknownAddressLooksTheSame(t *testing.T) {
	e := servicetest.NewWith(t, servicetest.Options{Guard: lockCfg()})
	e.SignUp(t, "known@example.com", pw, mamoru.English)
	for _, addr := range []string{"known@example.com", "nobody@example.com"} {
		for i := range 5 {
			if res := e.SignInAs(t, addr, "wrong", from(i)); res.Status != mamoru.InvalidCredentials {
				t.Fatalf("%s failure %d: %s", addr, i, res.Status)
			}
		}
		if res := e.SignInAs(t, addr, pw, servicetest.Request); res.Status != mamoru.Locked {
			t.Fatalf("%s: %s, want locked", addr, res.Status)
		}
	}
	if n := len(e.Mail(t, "nobody@example.com")); n != 0 {
		t.Errorf("%d mails to an address with no account", n)
	}
}

// TestNoEnumerationByTiming compares, over many interleaved samples, how
// long the sign-in takes for a wrong password on an account and on an
// unknown address, and for a locked account and a locked unknown address.
// The medians must agree within 25% (plus a small absolute slack); a
// real difference (a hash skipped, an extra query) is far larger. The
// comparison is repeated up to three times against machine noise.
func TestNoEnumerationByTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical timing test")
	}
	e := servicetest.NewWith(t, servicetest.Options{Guard: func() *guard.Config {
		c := lockCfg()
		c.Throttle.IPFailures, c.Throttle.PrefixFailures = 1<<30, 1<<30
		c.Attack.MinFailures, c.Attack.SprayAccounts, c.Attack.MinNetworkAttempts = 1<<30, 1<<30, 1<<30
		return c
	}()})
	e.SignUp(t, "known@example.com", pw, mamoru.English)
	e.SignUp(t, "locked@example.com", pw, mamoru.English)
	for i := range 5 {
		e.SignInAs(t, "locked@example.com", "wrong", from(i))
		e.SignInAs(t, "gone@example.com", "wrong", from(i))
	}
	measure := func(email, password string) time.Duration {
		start := time.Now()
		res, err := signInErr(e, email, password, from(7))
		d := time.Since(start)
		if err != nil || res.Status == mamoru.SignedIn {
			t.Fatalf("%s: %v %v", email, res, err)
		}
		return d
	}
	median := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)/2]
	}
	close := func(a, b time.Duration) bool {
		diff := a - b
		if diff < 0 {
			diff = -diff
		}
		return diff <= max(a, b)/4+200*time.Microsecond
	}
	const n = 150
	pairs := []struct{ name, a, b string }{
		{"wrong password vs unknown address", "known@example.com", "nobody@example.com"},
		{"locked account vs locked unknown address", "locked@example.com", "gone@example.com"},
	}
	for _, p := range pairs {
		ok := false
		var ma, mb time.Duration
		for try := 0; try < 3 && !ok; try++ {
			var da, db []time.Duration
			for i := range n {
				// Interleave, alternating which goes first.
				if i%2 == 0 {
					da = append(da, measure(p.a, "wrong-x"))
					db = append(db, measure(p.b, "wrong-x"))
				} else {
					db = append(db, measure(p.b, "wrong-x"))
					da = append(da, measure(p.a, "wrong-x"))
				}
			}
			ma, mb = median(da), median(db)
			ok = close(ma, mb)
		}
		t.Logf("%s: medians %v vs %v over %d samples each", p.name, ma, mb, n)
		if !ok {
			t.Errorf("%s: medians differ: %v vs %v", p.name, ma, mb)
		}
	}
}

// TestBreachedPasswords: refused at sign-up, change and reset; at sign-in
// the account is forced to a reset (seed 001): sessions end, a code goes
// to the registered address, and the password signs nobody in.
func TestBreachedPasswords(t *testing.T) {
	const leaked = "leaked-in-2024-breach"
	breached := func(_ context.Context, p string) (bool, error) { return p == leaked, nil }
	e := servicetest.NewWith(t, servicetest.Options{Breached: breached})
	err := e.Accounts.SignUp(ctx, mamoru.SignUpInput{Email: "new@example.com", Password: leaked, Language: mamoru.English}, servicetest.Request)
	wantCode(t, err, mamoru.EPasswordBreached)

	a := e.SignUp(t, "old@example.com", pw, mamoru.Japanese)
	first := e.SignInAs(t, a.Email, pw, servicetest.Request)
	_, _, err = e.Accounts.ChangePassword(ctx, first.Session, mamoru.ChangePasswordInput{Current: pw, New: leaked}, servicetest.Request)
	wantCode(t, err, mamoru.EPasswordBreached)

	// An old account whose password is in a later breach.
	hash, err := e.Hasher.Hash(ctx, leaked)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Store.Update(ctx, func(tx mamoru.Tx) error {
		acct, err := tx.AccountByID(ctx, a.ID)
		if err != nil {
			return err
		}
		acct.PasswordHash = hash
		return tx.UpdateAccount(ctx, acct)
	}); err != nil {
		t.Fatal(err)
	}
	if res := e.SignInAs(t, a.Email, leaked, servicetest.Request); res.Status != mamoru.PasswordResetRequired || res.Session != nil {
		t.Fatalf("breached password at sign-in: %+v", res)
	}
	if _, _, err := e.Sessions.Authenticate(ctx, first.SessionToken, servicetest.Request); err == nil {
		t.Error("the session before the forced reset survived")
	}
	m, c := code(t, e, a.Email, "password_reset_required")
	if !strings.Contains(m.Subject, "パスワードの再設定が必要です") || c == "" {
		t.Errorf("reset-required mail: %s", m.Subject)
	}
	if got := e.EventsOf(t, a.ID, mamoru.EventPasswordResetRequired); len(got) != 1 || got[0].Details[mamoru.DetailReason] != "breached_password" {
		t.Errorf("events: %+v", got)
	}
	err = e.Accounts.ResetPassword(ctx, mamoru.ResetInput{Email: a.Email, Code: c, Password: leaked}, servicetest.Request)
	wantCode(t, err, mamoru.EPasswordBreached)
	if err := e.Accounts.ResetPassword(ctx, mamoru.ResetInput{Email: a.Email, Code: c, Password: pw}, servicetest.Request); err != nil {
		t.Fatal(err)
	}
	if res := e.SignInAs(t, a.Email, pw, servicetest.Request); res.Status != mamoru.SignedIn {
		t.Fatalf("after the reset: %s", res.Status)
	}
}
