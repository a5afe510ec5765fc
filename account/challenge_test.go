package account_test

import (
	"context"
	"sync"
	"testing"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/internal/servicetest"
	"github.com/mamoru-id/mamoru/signin"
)

// challengeAll stops every sign-in for an emailed code, as the risk engine
// does for a stranger.
func challengeAll(e *servicetest.Env) {
	e.SignIn.AddPostCheck(func(ctx context.Context, at *signin.Attempt) (signin.Verdict, error) {
		at.Risk = &mamoru.RiskSummary{Score: 9, Decision: "challenge", Reasons: []mamoru.RiskReason{{Code: "new_device"}}}
		return e.Accounts.Challenge(ctx, at)
	})
}

func TestSignInCodeStep(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "owner@example.com", pw, mamoru.Japanese)
	challengeAll(e)
	res := e.SignInAs(t, a.Email, pw, servicetest.Stranger)
	if res.Status != mamoru.ChallengeRequired || res.Session != nil || res.FlowSecret == "" {
		t.Fatalf("stopped sign-in: %+v", res)
	}
	m, c := code(t, e, a.Email, "signin_code")
	if m.Language != mamoru.Japanese {
		t.Errorf("code mail in %s", m.Language)
	}
	step := mamoru.CodeStep{FlowID: res.FlowID, FlowSecret: res.FlowSecret}

	step.Code = wrongCode(c)
	_, err := e.SignIn.SubmitCode(ctx, step, servicetest.Stranger)
	wantCode(t, err, mamoru.EInvalidCode)
	bad := step
	bad.FlowSecret = "someone-else"
	bad.Code = c
	_, err = e.SignIn.SubmitCode(ctx, bad, servicetest.Stranger)
	wantCode(t, err, mamoru.EFlowExpired)

	// Two concurrent submissions of the right code: exactly one signs in.
	step.Code = c
	var wg sync.WaitGroup
	results := make([]*mamoru.SignInResult, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = e.SignIn.SubmitCode(ctx, step, servicetest.Stranger) })
	}
	wg.Wait()
	won := 0
	for i := range results {
		if errs[i] == nil && results[i].Status == mamoru.SignedIn {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent code submissions signed in, want 1 (%v)", won, errs)
	}
	if _, err := e.SignIn.SubmitCode(ctx, step, servicetest.Stranger); err == nil {
		t.Fatal("the code signed in twice")
	}
	// The sign-in event carries the assessment.
	evs := e.EventsOf(t, a.ID, mamoru.EventSignInSucceeded)
	if len(evs) != 1 || evs[0].Risk == nil || evs[0].Risk.Decision != "challenge" || evs[0].Risk.Reasons[0].Code != "new_device" {
		t.Fatalf("sign-in event: %+v", evs)
	}
}

func TestSignInCodeIsBoundToItsFlowAndDiesAfterTries(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "owner@example.com", pw, mamoru.English)
	challengeAll(e)
	first := e.SignInAs(t, a.Email, pw, servicetest.Stranger)
	_, c1 := code(t, e, a.Email, "signin_code")
	second := e.SignInAs(t, a.Email, pw, servicetest.Stranger)
	// The first flow's code was replaced by the second's.
	_, err := e.SignIn.SubmitCode(ctx, mamoru.CodeStep{FlowID: first.FlowID, FlowSecret: first.FlowSecret, Code: c1}, servicetest.Stranger)
	wantCode(t, err, mamoru.EInvalidCode)
	_, c2 := code(t, e, a.Email, "signin_code")
	if c2 != c1 {
		// The second flow's code does not work on the first flow.
		_, err = e.SignIn.SubmitCode(ctx, mamoru.CodeStep{FlowID: first.FlowID, FlowSecret: first.FlowSecret, Code: c2}, servicetest.Stranger)
		wantCode(t, err, mamoru.EInvalidCode)
	}
	step := mamoru.CodeStep{FlowID: second.FlowID, FlowSecret: second.FlowSecret, Code: wrongCode(c2)}
	for range 4 {
		_, err = e.SignIn.SubmitCode(ctx, step, servicetest.Stranger)
		wantCode(t, err, mamoru.EInvalidCode)
	}
	// The fifth wrong code ends the flow; the right one comes too late.
	_, err = e.SignIn.SubmitCode(ctx, step, servicetest.Stranger)
	wantCode(t, err, mamoru.EFlowExpired)
	step.Code = c2
	_, err = e.SignIn.SubmitCode(ctx, step, servicetest.Stranger)
	wantCode(t, err, mamoru.EFlowExpired)
}
