package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mamoru-id/mamoru/internal/browsertest"
)

// The browser tests drive the real binary's pages in headless Chromium
// (internal/browsertest), with screenshots of each page in e2e/artifacts
// (docs/testing.md).

// startForBrowser starts the server for a browser: it listens on
// 127.0.0.1, but its base URL (mail links, and the origin a browser sees)
// is http://localhost:PORT. Chromium treats http://localhost as a secure
// context and keeps the __Host- (Secure) cookies that mamoru sets, and
// WebAuthn accepts localhost as a relying party ID (an IP address is no
// valid one). The port is chosen here, since the base URL must name it
// before the server starts.
func startForBrowser(t *testing.T, extraEnv ...string) (s *server, base string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	base = fmt.Sprintf("http://localhost:%d", port)
	db := sqliteDB(t)
	// start passes --listen 127.0.0.1:0 before these: a flag given twice
	// takes its last value.
	db.args = append(db.args, "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	s = start(t, db, append([]string{"MAMORU_BASE_URL=" + base}, extraEnv...)...)
	if want := fmt.Sprintf("http://127.0.0.1:%d", port); s.URL != want {
		t.Fatalf("the server listens on %s, want %s", s.URL, want)
	}
	return s, base
}

// signUpByAPI makes a verified account without the browser.
func signUpByAPI(t *testing.T, s *server, email, pw string) {
	t.Helper()
	c := newClient(t, s)
	if r := c.do("POST", "/api/v1/signup", map[string]any{"email": email, "password": pw, "language": "en"}); r.Status >= 300 {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	if r := c.do("POST", "/api/v1/verify", map[string]any{"email": email, "code": code(t, c.mail(email, nil, "Confirm"))}); r.Status >= 300 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
}

// signInPage signs in through the sign-in page and expects the account
// page.
func signInPage(t *testing.T, tab *browsertest.Tab, base, email, pw string) {
	t.Helper()
	tab.Go(base + "/signin")
	tab.Fill("#email", email)
	tab.Fill("#password", pw)
	tab.Submit(`form[action="/signin"] button[type=submit]`)
	expectPath(t, tab, "/account")
}

// expectPath fails unless the tab shows the page at path (any query).
func expectPath(t *testing.T, tab *browsertest.Tab, path string) {
	t.Helper()
	u, err := url.Parse(tab.URL())
	if err != nil || u.Path != path {
		tab.Screenshot("unexpected-page")
		t.Fatalf("the browser is at %s, want %s", tab.URL(), path)
	}
}

var browserVerifyLinkRe = regexp.MustCompile(`https?://\S+/verify/link\?token=[A-Za-z0-9_\-]+`)

// TestBrowserSignUpVerifySignIn: sign-up on its page, the link of the
// verification mail opened in the browser, sign-in on its page, the
// account page.
func TestBrowserSignUpVerifySignIn(t *testing.T) {
	t.Parallel()
	s, base := startForBrowser(t)
	tab := browsertest.New(t).Context(t)
	const email, pw = "browser@example.com", "hakone-ropeway-1.4km"

	tab.Go(base + "/signup")
	tab.Fill("#email", email)
	tab.Fill("#password", pw)
	tab.Screenshot("signup")
	tab.Submit(`form[action="/signup"] button[type=submit]`)
	expectPath(t, tab, "/verify")
	tab.Screenshot("verify")

	m := newClient(t, s).mail(email, nil, "Confirm your email address")
	link := browserVerifyLinkRe.FindString(m["text"].(string))
	if !strings.HasPrefix(link, base+"/verify/link?token=") {
		t.Fatalf("no link to %s/verify/link in the mail:\n%s", base, m["text"])
	}
	tab.Go(link)
	tab.Screenshot("verify-link")
	tab.Submit(`form[action="/verify/link"] button[type=submit]`)
	expectPath(t, tab, "/signin")
	tab.Screenshot("verified")

	tab.Fill("#email", email)
	tab.Fill("#password", pw)
	tab.Submit(`form[action="/signin"] button[type=submit]`)
	expectPath(t, tab, "/account")
	if text := tab.Text("main"); !strings.Contains(text, email) || !strings.Contains(text, "Verified") {
		t.Errorf("account page:\n%s", text)
	}
	tab.Screenshot("account")
}

// TestBrowserSolvesProofOfWork: after one failed sign-in from this IP the
// sign-in page carries the proof-of-work widget; the browser runs
// /static/altcha-solver.js, and the right password with its answer signs
// in.
func TestBrowserSolvesProofOfWork(t *testing.T) {
	t.Parallel()
	s, base := startForBrowser(t, "MAMORU_GUARD_CAPTCHA_AFTER_IP_FAILURES=1")
	const email, pw = "pow@example.com", "nikko-toshogu-1617"
	signUpByAPI(t, s, email, pw)
	tab := browsertest.New(t).Context(t)

	tab.Go(base + "/signin")
	tab.Fill("#email", email)
	tab.Fill("#password", "not-the-password")
	if status := tab.Submit(`form[action="/signin"] button[type=submit]`); status != http.StatusUnauthorized {
		t.Fatalf("wrong password: HTTP %d", status)
	}
	tab.Screenshot("wrong-password")

	tab.Go(base + "/signin")
	tab.WaitVisible(`form[action="/signin"] [data-mamoru-pow][data-state="done"]`)
	if got := tab.Text(`[data-mamoru-pow] [role="status"]`); got != "Check complete." {
		t.Errorf("the widget's status: %q", got)
	}
	tab.Screenshot("captcha-solved")
	tab.Fill("#email", email)
	tab.Fill("#password", pw)
	tab.Submit(`form[action="/signin"] button[type=submit]`)
	expectPath(t, tab, "/account")
	tab.Screenshot("account")
}

// TestBrowserTwoContextsSignOutEverywhere: one account signed in in two
// isolated browser contexts (two devices); "sign out everywhere" in one
// signs the other out too.
func TestBrowserTwoContextsSignOutEverywhere(t *testing.T) {
	t.Parallel()
	s, base := startForBrowser(t)
	const email, pw = "two@example.com", "miyajima-torii-16m"
	signUpByAPI(t, s, email, pw)
	b := browsertest.New(t)
	laptop, phone := b.Context(t), b.Context(t)

	signInPage(t, laptop, base, email, pw)
	// The phone has cookies of its own: it is not signed in yet.
	phone.Go(base + "/account")
	expectPath(t, phone, "/signin")
	signInPage(t, phone, base, email, pw)

	laptop.Go(base + "/account/security")
	if n := browsertest.Eval[int](laptop, `document.querySelectorAll("table.sessions tbody tr").length`); n != 2 {
		t.Errorf("%d sessions on the security page, want 2:\n%s", n, laptop.Text("table.sessions tbody"))
	}
	laptop.Screenshot("security-two-sessions")
	laptop.Submit(`form[action="/account/sessions/revoke-all"] button[type=submit]`)
	expectPath(t, laptop, "/signin")
	laptop.Screenshot("signed-out-everywhere")

	phone.Go(base + "/account")
	expectPath(t, phone, "/signin")
	phone.Screenshot("phone-signed-out")
}
