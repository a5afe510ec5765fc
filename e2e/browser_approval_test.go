package e2e

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru/internal/browsertest"
)

var browserApprovalLinkRe = regexp.MustCompile(`https?://\S+/signin/approval-request\?answer=(approve|deny)&token=[A-Za-z0-9_\-]+`)

// waitPath waits until the tab shows the page at path (the page moved by
// itself, e.g. after a server-sent event).
func waitPath(t *testing.T, tab *browsertest.Tab, path string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		u, err := url.Parse(tab.URL())
		if err == nil && u.Path == path && browsertest.Eval[string](tab, "document.readyState") == "complete" {
			return
		}
		if time.Now().After(deadline) {
			tab.Screenshot("waited-in-vain")
			t.Fatalf("the browser stayed at %s, want %s", tab.URL(), path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// approvalLinks returns the approve and deny links of the newest approval
// mail to addr.
func approvalLinks(t *testing.T, s *server, base, addr string) (approve, deny string) {
	t.Helper()
	m := newClient(t, s).mail(addr, nil, "sign-in attempt detected")
	text := m["text"].(string)
	if !strings.Contains(text, "Someone who knows your password") {
		t.Errorf("approval mail:\n%s", text)
	}
	for _, l := range browserApprovalLinkRe.FindAllStringSubmatch(text, -1) {
		if !strings.HasPrefix(l[0], base+"/") {
			t.Fatalf("a link not built from the base URL %s: %s", base, l[0])
		}
		if l[1] == "approve" {
			approve = l[0]
		} else {
			deny = l[0]
		}
	}
	if approve == "" || deny == "" {
		t.Fatalf("no approve and deny links in\n%s", text)
	}
	return approve, deny
}

// TestBrowserApproval is seed 004 in two browsers: the one signing in
// waits on its page, which says where the request went; the owner opens
// the mail's link in another browser (another context: no shared
// cookies), sees only Approve / Deny, approves; the waiting page goes on
// by itself to the account. The link opened again shows when and from
// where it was approved, with the mailbox advice; the clicker got no
// session. Then a second attempt is denied: the waiting page says so.
func TestBrowserApproval(t *testing.T) {
	t.Parallel()
	s, base := startForBrowser(t, "MAMORU_RISK_OVERRIDES=new_device=approval,no_history=approval")
	const email, pw = "approve@example.com", "kiyomizu-dera-778"
	signUpByAPI(t, s, email, pw)
	b := browsertest.New(t)
	waiting, owner := b.Context(t), b.Context(t)

	waiting.Go(base + "/signin")
	waiting.Fill("#email", email)
	waiting.Fill("#password", pw)
	waiting.Submit(`form[action="/signin"] button[type=submit]`)
	waiting.WaitVisible(`form[data-approval-wait]`)
	if text := waiting.Text("main"); !strings.Contains(text, "a***@example.com") {
		t.Errorf("the waiting page does not say where the request went:\n%s", text)
	}
	waiting.Screenshot("approval-waiting")

	approve, _ := approvalLinks(t, s, base, email)
	owner.Go(approve)
	owner.WaitVisible(`form[action="/signin/approval-request"] button[value=approve]`)
	if n := browsertest.Eval[int](owner, `document.querySelectorAll("input[type=password]").length`); n != 0 {
		t.Errorf("the approval page has %d password fields", n)
	}
	owner.Screenshot("approval-request")
	owner.Submit(`form[action="/signin/approval-request"] button[value=approve]`)
	owner.Screenshot("approval-approved")

	// The waiting browser continues by itself.
	waitPath(t, waiting, "/account", 20*time.Second)
	if text := waiting.Text("main"); !strings.Contains(text, email) {
		t.Errorf("account page after the approval:\n%s", text)
	}
	waiting.Screenshot("approval-signed-in")

	// The clicker is not signed in.
	owner.Go(base + "/account")
	expectPath(t, owner, "/signin")
	// The link again: what happened, and the mailbox advice.
	owner.Go(approve)
	if text := owner.Text("main"); !strings.Contains(text, "already approved") || strings.Contains(text, "Approve") && browsertest.Eval[int](owner, `document.querySelectorAll("button[value=approve]").length`) != 0 {
		t.Errorf("the link opened again:\n%s", text)
	}
	owner.Screenshot("approval-link-again")

	// A second attempt, from a third browser, denied.
	third := b.Context(t)
	third.Go(base + "/signin")
	third.Fill("#email", email)
	third.Fill("#password", pw)
	third.Submit(`form[action="/signin"] button[type=submit]`)
	third.WaitVisible(`form[data-approval-wait]`)
	_, deny := approvalLinks(t, s, base, email)
	owner.Go(deny)
	owner.Submit(`form[action="/signin/approval-request"] button[value=deny]`)
	if text := owner.Text("main"); !strings.Contains(strings.ToLower(text), "password") {
		t.Errorf("after the denial the owner is not told to change the password:\n%s", text)
	}
	owner.Screenshot("approval-denied")
	waitPath(t, third, "/signin/approval", 20*time.Second)
	third.WaitVisible(`.error`)
	third.Screenshot("approval-denied-waiting")
	third.Go(base + "/account")
	expectPath(t, third, "/signin")
}
