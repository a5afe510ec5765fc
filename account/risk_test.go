package account_test

import (
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/internal/servicetest"
	"github.com/mamoru-id/mamoru/risk"
)

// TestRiskFeedback: a stranger's device and place are challenged; once
// the owner says "this was me" they are learned and pass; after "this
// wasn't me" about them they are not trusted again.
func TestRiskFeedback(t *testing.T) {
	cfg := risk.DefaultConfig()
	e := servicetest.NewWith(t, servicetest.Options{Risk: &cfg})
	a := e.SignUp(t, "owner@example.com", pw, mamoru.English)
	home := req
	home.DeviceID = "owner-laptop-0000000000"
	for range 5 {
		e.Clock.Advance(24 * time.Hour)
		if res := e.SignInAs(t, a.Email, pw, home); res.Status != mamoru.SignedIn {
			t.Fatalf("home: %s", res.Status)
		}
	}
	away := servicetest.Stranger
	away.DeviceID = "travel-phone-000000000000"
	e.Clock.Advance(24 * time.Hour)
	res := e.SignInAs(t, a.Email, pw, away)
	if res.Status != mamoru.ChallengeRequired {
		t.Fatalf("new device abroad: %s", res.Status)
	}
	_, c := code(t, e, a.Email, "signin_code")
	in, err := e.SignIn.SubmitCode(ctx, mamoru.CodeStep{FlowID: res.FlowID, FlowSecret: res.FlowSecret, Code: c}, away)
	if err != nil || in.Status != mamoru.SignedIn {
		t.Fatalf("code: %v", err)
	}
	ev := e.EventsOf(t, a.ID, mamoru.EventSignInSucceeded)[0]
	if ev.Risk == nil || ev.Risk.Decision != "challenge" {
		t.Fatalf("the event lacks its assessment: %+v", ev.Risk)
	}
	if err := e.Accounts.ConfirmEvent(ctx, in.Session, ev.ID, home); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(24 * time.Hour)
	if res := e.SignInAs(t, a.Email, pw, away); res.Status != mamoru.SignedIn {
		t.Fatalf("after 'this was me' the phone abroad is known: %s", res.Status)
	}
	// "This wasn't me" about the phone: it is hostile from now on.
	latest := e.EventsOf(t, a.ID, mamoru.EventSignInSucceeded)[0]
	if _, err := e.Accounts.DenyEvent(ctx, in.Session, latest.ID, home); err != nil && mamoru.ErrorCode(err) != mamoru.EUnauthorized {
		t.Fatal(err)
	}
	// A new password (the secure-account flow requires one), then the
	// phone abroad is refused with it: its device is hostile.
	if err := e.Accounts.ForgotPassword(ctx, a.Email, home); err != nil {
		t.Fatal(err)
	}
	_, rc := code(t, e, a.Email, "password_reset")
	const newPW = "a-brand-new-passphrase"
	if err := e.Accounts.ResetPassword(ctx, mamoru.ResetInput{Email: a.Email, Code: rc, Password: newPW}, home); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Hour)
	if res := e.SignInAs(t, a.Email, newPW, away); res.Status == mamoru.SignedIn {
		t.Fatal("the device reported as not the owner's signed in")
	}
	hostile := e.EventsOf(t, a.ID, mamoru.EventSignInFailed)[0]
	if hostile.Risk == nil || !hasReason(hostile.Risk, "hostile_value") {
		t.Fatalf("no hostile_value reason: %+v", hostile.Risk)
	}
	if res := e.SignInAs(t, a.Email, newPW, home); res.Status != mamoru.SignedIn {
		t.Fatalf("home after all that: %s", res.Status)
	}
	// The global counts gathered in memory reach the store on a flush.
	if err := e.Accounts.FlushRisk(ctx); err != nil {
		t.Fatal(err)
	}
	var total map[string]uint64
	e.Store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		total, err = tx.RiskCounts(ctx, []string{"total"})
		return err
	})
	if total["total"] < 7 {
		t.Fatalf("global total after a flush: %v", total)
	}
}

func hasReason(r *mamoru.RiskSummary, code string) bool {
	for _, x := range r.Reasons {
		if x.Code == code {
			return true
		}
	}
	return false
}
