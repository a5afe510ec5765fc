package signin_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/internal/servicetest"
	"github.com/mamoru-id/mamoru/signin"
	"golang.org/x/crypto/bcrypt"
)

var (
	ctx = context.Background()
	req = servicetest.Request
)

const pw = "nikko-toshogu-shrine"

func TestPasswordStep(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "kaito@example.com", pw, mamoru.English)
	start, err := e.SignIn.Begin(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, email, pw string
	}{
		{"wrong password", a.Email, "wrong-password"},
		{"unknown email", "nobody@example.com", pw},
		{"not an address", "nobody", pw},
		{"empty", "", ""},
	} {
		r, err := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{FlowID: start.FlowID, FlowSecret: start.FlowSecret, Email: tc.email, Password: tc.pw}, req)
		if err != nil || r.Status != mamoru.InvalidCredentials || r.Session != nil || r.SessionToken != "" {
			t.Fatalf("%s: %+v %v", tc.name, r, err)
		}
	}
	// The same flow takes a retry with the right password.
	r, err := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{FlowID: start.FlowID, FlowSecret: start.FlowSecret, Email: "KAITO@example.com", Password: pw}, req)
	if err != nil || r.Status != mamoru.SignedIn || r.SessionToken == "" || r.Account.ID != a.ID {
		t.Fatalf("right password: %+v %v", r, err)
	}
	if r.Session.IP != req.IP || r.Session.UserAgent != req.UserAgent || r.Session.AAL != 1 {
		t.Errorf("session %+v", r.Session)
	}
	// A finished flow cannot be used again.
	_, err = e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{FlowID: start.FlowID, FlowSecret: start.FlowSecret, Email: a.Email, Password: pw}, req)
	if mamoru.ErrorCode(err) != mamoru.EFlowExpired {
		t.Fatalf("finished flow reused: %v", err)
	}
}

func TestFreshSessionEverySignIn(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "riku@example.com", pw, mamoru.English)
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		r, err := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: a.Email, Password: pw}, req)
		if err != nil || r.Status != mamoru.SignedIn {
			t.Fatal(r, err)
		}
		if seen[r.Session.ID] || seen[r.SessionToken] {
			t.Fatal("session ID or token reused")
		}
		seen[r.Session.ID], seen[r.SessionToken] = true, true
		if len(r.SessionToken) < 43 {
			t.Fatalf("token of %d characters is under 256 bits", len(r.SessionToken))
		}
	}
}

func TestFlowBinding(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "sara@example.com", pw, mamoru.English)
	start, _ := e.SignIn.Begin(ctx, req)
	other, _ := e.SignIn.Begin(ctx, req)
	for name, step := range map[string]mamoru.PasswordStep{
		"another client's secret": {FlowID: start.FlowID, FlowSecret: other.FlowSecret},
		"no secret":               {FlowID: start.FlowID},
		"unknown flow":            {FlowID: "nope", FlowSecret: start.FlowSecret},
	} {
		step.Email, step.Password = a.Email, pw
		if _, err := e.SignIn.SubmitPassword(ctx, step, req); mamoru.ErrorCode(err) != mamoru.EFlowExpired {
			t.Errorf("%s: %v", name, err)
		}
	}
	e.Clock.Advance(15*time.Minute + time.Second)
	_, err := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{FlowID: start.FlowID, FlowSecret: start.FlowSecret, Email: a.Email, Password: pw}, req)
	if mamoru.ErrorCode(err) != mamoru.EFlowExpired {
		t.Errorf("expired flow: %v", err)
	}
}

func TestConcurrentSubmitsOneWins(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "yuto@example.com", pw, mamoru.English)
	start, _ := e.SignIn.Begin(ctx, req)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			r, err := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{FlowID: start.FlowID, FlowSecret: start.FlowSecret, Email: a.Email, Password: pw}, req)
			mu.Lock()
			defer mu.Unlock()
			if err == nil && r.Status == mamoru.SignedIn {
				wins++
			} else if mamoru.ErrorCode(err) != mamoru.EFlowExpired {
				t.Errorf("unexpected %v %v", r, err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent submits of one flow signed in, want 1", wins)
	}
}

func TestUnusableAccountLooksLikeWrongPassword(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "locked@example.com", pw, mamoru.English)
	err := e.Store.Update(ctx, func(tx mamoru.Tx) error {
		a.Status = mamoru.StatusLocked
		return tx.UpdateAccount(ctx, a)
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: a.Email, Password: pw}, req)
	if err != nil || r.Status != mamoru.InvalidCredentials {
		t.Fatalf("locked account with the right password: %+v %v", r, err)
	}
}

// TestEveryFailureHashes checks that unknown addresses pay for a hash like
// known ones: with the hasher's only slot taken, both kinds of failure
// wait, and give up when the context ends.
func TestEveryFailureHashes(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "emi@example.com", pw, mamoru.English)
	for _, email := range []string{a.Email, "unknown@example.com"} {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := e.SignIn.SubmitPassword(cctx, mamoru.PasswordStep{Email: email, Password: "wrong-password"}, req)
		if err == nil {
			t.Errorf("%s: the password step did not wait for the hasher", email)
		}
	}
}

func TestImportedHashIsRehashed(t *testing.T) {
	e := servicetest.New(t)
	const imported = "imported-password-1"
	h, err := bcrypt.GenerateFromPassword([]byte(imported), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	now := e.Clock.Now()
	a := &mamoru.Account{ID: mamoru.NewID(), Email: "old@example.com", PasswordHash: string(h),
		Language: mamoru.English, Status: mamoru.StatusActive, CreatedAt: now, UpdatedAt: now}
	if err := e.Store.Update(ctx, func(tx mamoru.Tx) error { return tx.CreateAccount(ctx, a) }); err != nil {
		t.Fatal(err)
	}
	if r, err := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: a.Email, Password: "wrong-password"}, req); err != nil || r.Status != mamoru.InvalidCredentials {
		t.Fatalf("wrong password on a bcrypt hash: %+v %v", r, err)
	}
	if got, _ := e.Accounts.Account(ctx, a.ID); got.PasswordHash != string(h) {
		t.Fatal("a failed sign-in rehashed")
	}
	if r, err := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: a.Email, Password: imported}, req); err != nil || r.Status != mamoru.SignedIn {
		t.Fatalf("bcrypt sign-in: %+v %v", r, err)
	}
	got, _ := e.Accounts.Account(ctx, a.ID)
	if !strings.HasPrefix(got.PasswordHash, "$argon2id$") {
		t.Fatalf("not rehashed: %s", got.PasswordHash)
	}
	if r, _ := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: a.Email, Password: imported}, req); r.Status != mamoru.SignedIn {
		t.Fatal("sign-in after the rehash failed")
	}
}

func TestChecks(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "guarded@example.com", pw, mamoru.English)
	var order []string
	e.SignIn.AddPreCheck(func(ctx context.Context, at *signin.Attempt) (signin.Verdict, error) {
		order = append(order, "pre")
		if at.Account == nil || at.Account.ID != a.ID || at.Password != "" {
			t.Errorf("pre-check sees %+v", at)
		}
		if at.Request.IP == "198.51.100.1" {
			return signin.Verdict{Status: mamoru.Locked}, nil
		}
		return signin.Verdict{}, nil
	})
	e.SignIn.AddPostCheck(func(ctx context.Context, at *signin.Attempt) (signin.Verdict, error) {
		order = append(order, "post")
		if at.Password != pw {
			t.Errorf("post-check sees password %q", at.Password)
		}
		return signin.Verdict{Status: mamoru.ChallengeRequired, NextStep: "challenge"}, nil
	})
	blocked := req
	blocked.IP = "198.51.100.1"
	r, err := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: a.Email, Password: pw}, blocked)
	if err != nil || r.Status != mamoru.Locked || r.Session != nil {
		t.Fatalf("pre-check verdict: %+v %v", r, err)
	}
	if strings.Join(order, ",") != "pre" {
		t.Fatalf("order %v: the password must not be checked after a pre-check verdict", order)
	}
	order = nil
	r, err = e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: a.Email, Password: pw}, req)
	if err != nil || r.Status != mamoru.ChallengeRequired || r.Session != nil {
		t.Fatalf("post-check verdict: %+v %v", r, err)
	}
	if strings.Join(order, ",") != "pre,post" {
		t.Fatalf("order %v", order)
	}
	var f *mamoru.Flow
	e.Store.View(ctx, func(tx mamoru.Tx) error { f, err = tx.FlowByID(ctx, r.FlowID); return err })
	if f.Step != "challenge" || f.AccountID != a.ID {
		t.Fatalf("flow %+v", f)
	}
}

// TestFailedOneShotWritesNothing: a failed JSON sign-in stores no flow, so
// an attack cannot grow the database; a successful one stores its flow.
func TestFailedOneShotWritesNothing(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "quiet@example.com", pw, mamoru.English)
	r, err := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: a.Email, Password: "wrong-password"}, req)
	if err != nil || r.Status != mamoru.InvalidCredentials {
		t.Fatal(r, err)
	}
	err = e.Store.View(ctx, func(tx mamoru.Tx) error { _, err := tx.FlowByID(ctx, r.FlowID); return err })
	if mamoru.ErrorCode(err) != mamoru.ENotFound {
		t.Fatalf("a failed one-shot sign-in stored its flow: %v", err)
	}
	r, err = e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: a.Email, Password: pw}, req)
	if err != nil || r.Status != mamoru.SignedIn {
		t.Fatal(r, err)
	}
	var f *mamoru.Flow
	err = e.Store.View(ctx, func(tx mamoru.Tx) error { f, err = tx.FlowByID(ctx, r.FlowID); return err })
	if err != nil || f.Step != signin.StepDone || f.AccountID != a.ID {
		t.Fatalf("flow of a successful sign-in: %+v %v", f, err)
	}
}
