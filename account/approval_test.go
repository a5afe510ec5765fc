package account_test

import (
	"context"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/internal/servicetest"
	"github.com/mamoru-id/mamoru/signin"
)

// approveAll stops every sign-in for the owner's approval, as the risk
// engine does when its decision is approval.
func approveAll(e *servicetest.Env) {
	e.SignIn.AddPostCheck(func(ctx context.Context, at *signin.Attempt) (signin.Verdict, error) {
		at.Risk = &mamoru.RiskSummary{Score: 9, Decision: "approval", Reasons: []mamoru.RiskReason{{Code: "new_device"}}}
		return signin.Verdict{Status: mamoru.ApprovalRequired, NextStep: signin.StepApproval, Prepare: e.Accounts.SendApproval(at)}, nil
	})
}

var approveRe = regexp.MustCompile(`approval-request\?answer=approve&token=([A-Za-z0-9_\-]+)`)

// approvalLink returns the token of the newest approval mail to addr.
func approvalLink(t *testing.T, e *servicetest.Env, addr string) (*mamoru.Message, string) {
	t.Helper()
	for _, m := range e.Mail(t, addr) {
		if m.Template == "signin_approval" {
			s := approveRe.FindStringSubmatch(m.Text)
			if s == nil {
				t.Fatalf("no approve link in\n%s", m.Text)
			}
			return m, s[1]
		}
	}
	t.Fatalf("no approval mail to %s", addr)
	return nil, ""
}

func TestApprovalApproveSignsTheWaiterIn(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "owner@example.com", pw, mamoru.Japanese)
	approveAll(e)
	res := e.SignInAs(t, a.Email, pw, servicetest.Stranger)
	if res.Status != mamoru.ApprovalRequired || res.Session != nil || res.FlowSecret == "" {
		t.Fatalf("waiting sign-in: %+v", res)
	}
	poll := mamoru.ApprovalPoll{FlowID: res.FlowID, FlowSecret: res.FlowSecret}
	m, link := approvalLink(t, e, a.Email)
	if m.Language != mamoru.Japanese || !regexp.MustCompile(`セキュリティ警告`).MatchString(m.Subject) ||
		!regexp.MustCompile(servicetest.Stranger.IP).MatchString(m.Text) {
		t.Errorf("approval mail: %s\n%s", m.Subject, m.Text)
	}
	if r, err := e.SignIn.Approval(ctx, poll, servicetest.Stranger); err != nil || r.Status != mamoru.ApprovalRequired {
		t.Fatalf("before the answer: %+v %v", r, err)
	}
	if done, err := e.SignIn.ApprovalDecided(ctx, poll); err != nil || done {
		t.Fatalf("decided before the answer: %v %v", done, err)
	}
	view, err := e.Accounts.ApprovalLink(ctx, link)
	if err != nil || view.AttemptIP != servicetest.Stranger.IP || view.Decision != nil || view.Expired {
		t.Fatalf("view: %+v %v", view, err)
	}
	// The owner approves from the phone; the clicker gets no session.
	phone := servicetest.Request
	phone.IP = "106.160.1.1"
	view, err = e.Accounts.Decide(ctx, link, true, phone)
	if err != nil || view.Decision == nil || !view.Decision.Approved || view.Decision.IP != phone.IP {
		t.Fatalf("decide: %+v %v", view, err)
	}
	if done, _ := e.SignIn.ApprovalDecided(ctx, poll); !done {
		t.Fatal("not decided after the answer")
	}
	r, err := e.SignIn.Approval(ctx, poll, servicetest.Stranger)
	if err != nil || r.Status != mamoru.SignedIn || r.Session == nil || r.SessionToken == "" {
		t.Fatalf("after approval: %+v %v", r, err)
	}
	_, err = e.SignIn.Approval(ctx, poll, servicetest.Stranger)
	wantCode(t, err, mamoru.EFlowExpired)
	// Reopening the link shows what happened, and the link is spent.
	view, err = e.Accounts.ApprovalLink(ctx, link)
	if err != nil || view.Decision == nil || !view.Decision.Approved || view.Decision.IP != phone.IP || view.DecisionPlace.Country == "" {
		t.Fatalf("reopened: %+v %v", view, err)
	}
	view, err = e.Accounts.Decide(ctx, link, false, phone)
	wantCode(t, err, mamoru.EInvalidCode)
	if view == nil || view.Decision == nil || !view.Decision.Approved {
		t.Fatalf("second answer's view: %+v", view)
	}
	if got := e.EventsOf(t, a.ID, mamoru.EventSignInApproved); len(got) != 1 || got[0].IP != phone.IP {
		t.Errorf("approved events: %+v", got)
	}
}

func TestApprovalDeny(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "owner@example.com", pw, mamoru.English)
	first := e.SignInAs(t, a.Email, pw, servicetest.Request)
	approveAll(e)
	res := e.SignInAs(t, a.Email, pw, servicetest.Stranger)
	_, link := approvalLink(t, e, a.Email)
	if _, err := e.Accounts.Decide(ctx, link, false, servicetest.Request); err != nil {
		t.Fatal(err)
	}
	r, err := e.SignIn.Approval(ctx, mamoru.ApprovalPoll{FlowID: res.FlowID, FlowSecret: res.FlowSecret}, servicetest.Stranger)
	if err != nil || r.Status != mamoru.ApprovalDenied || r.Session != nil {
		t.Fatalf("after denial: %+v %v", r, err)
	}
	// Whoever tried knows the password: a new one is required.
	if _, _, err := e.Sessions.Authenticate(ctx, first.SessionToken, servicetest.Request); err == nil {
		t.Error("the owner's sessions survived the denial")
	}
	if _, c := code(t, e, a.Email, "password_reset_required"); c == "" {
		t.Error("no reset code after the denial")
	}
	if got := e.EventsOf(t, a.ID, mamoru.EventSignInDenied); len(got) != 1 {
		t.Errorf("denied events: %d", len(got))
	}
}

func TestApprovalAbuse(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "owner@example.com", pw, mamoru.English)
	approveAll(e)
	first := e.SignInAs(t, a.Email, pw, servicetest.Stranger)
	_, firstLink := approvalLink(t, e, a.Email)
	e.Clock.Advance(time.Second)
	second := e.SignInAs(t, a.Email, pw, servicetest.Stranger)
	_, secondLink := approvalLink(t, e, a.Email)
	if firstLink == secondLink {
		t.Fatal("two attempts share a link")
	}
	// The newer request replaced the older link: it answers nothing.
	_, err := e.Accounts.Decide(ctx, firstLink, true, servicetest.Request)
	wantCode(t, err, mamoru.EInvalidCode)
	// Garbage, and another client's poll.
	_, err = e.Accounts.Decide(ctx, "not-a-link", true, servicetest.Request)
	wantCode(t, err, mamoru.EInvalidCode)
	_, err = e.SignIn.Approval(ctx, mamoru.ApprovalPoll{FlowID: second.FlowID, FlowSecret: "someone-else"}, servicetest.Stranger)
	wantCode(t, err, mamoru.EFlowExpired)

	// Concurrent answers: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.Accounts.Decide(ctx, secondLink, i%2 == 0, servicetest.Request); err == nil {
				wins.Add(1)
			} else if mamoru.ErrorCode(err) != mamoru.EInvalidCode {
				t.Errorf("answer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d answers won", wins.Load())
	}
	// The approval of the second attempt does not complete the first.
	_, err = e.SignIn.Approval(ctx, mamoru.ApprovalPoll{FlowID: first.FlowID, FlowSecret: first.FlowSecret}, servicetest.Stranger)
	if err == nil {
		if r, _ := e.SignIn.Approval(ctx, mamoru.ApprovalPoll{FlowID: first.FlowID, FlowSecret: first.FlowSecret}, servicetest.Stranger); r.Status == mamoru.SignedIn {
			t.Fatal("another attempt's approval signed the first in")
		}
	}

	// An expired request can't be answered, and says so. (Another
	// account: a denial above may have made a reset required.)
	b := e.SignUp(t, "other@example.com", pw, mamoru.English)
	third := e.SignInAs(t, b.Email, pw, servicetest.Stranger)
	if third.Status != mamoru.ApprovalRequired {
		t.Fatalf("third: %+v", third)
	}
	_, thirdLink := approvalLink(t, e, b.Email)
	e.Clock.Advance(10*time.Minute + time.Second)
	view, err := e.Accounts.Decide(ctx, thirdLink, true, servicetest.Request)
	wantCode(t, err, mamoru.EInvalidCode)
	if view == nil || !view.Expired || view.Decision != nil {
		t.Fatalf("expired view: %+v", view)
	}
	r, err := e.SignIn.Approval(ctx, mamoru.ApprovalPoll{FlowID: third.FlowID, FlowSecret: third.FlowSecret}, servicetest.Stranger)
	if err == nil && r.Status != mamoru.ApprovalRequired {
		t.Fatalf("expired request: %+v", r)
	}
}
