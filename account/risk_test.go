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

// TestRiskBadInput: hostile or missing client data never breaks a sign-in
// assessment: garbage User-Agents, IPv6, private and unparseable
// addresses, addresses no GeoIP database knows.
func TestRiskBadInput(t *testing.T) {
	cfg := risk.DefaultConfig()
	e := servicetest.NewWith(t, servicetest.Options{Risk: &cfg})
	a := e.SignUp(t, "owner@example.com", pw, mamoru.English)
	for _, r := range []mamoru.Request{
		{IP: "not an ip", UserAgent: "\x00\xff\xfe garbage \u202e"},
		{IP: "", UserAgent: ""},
		{IP: "10.1.2.3", UserAgent: "Mozilla/5.0"},
		{IP: "::1", UserAgent: string(make([]byte, 5000))},
		{IP: "240b:10::1", UserAgent: "curl/8.5.0", DeviceID: "dev-1234567890abcdef"},
		{IP: "5.5.5.5", UserAgent: "python-requests/2.31"},
		{IP: "::ffff:106.128.1.1", UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"},
	} {
		e.Clock.Advance(time.Hour)
		res, err := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: a.Email, Password: pw}, r)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		switch res.Status {
		case mamoru.SignedIn, mamoru.ChallengeRequired, mamoru.InvalidCredentials:
		default:
			t.Fatalf("%+v: status %s", r, res.Status)
		}
	}
	for _, ev := range e.EventsOf(t, a.ID, mamoru.EventSignInSucceeded, mamoru.EventSignInFailed) {
		if ev.Risk == nil {
			t.Fatalf("an attempt without its assessment: %+v", ev)
		}
	}
}
