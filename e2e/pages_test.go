package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var hiddenRe = regexp.MustCompile(`name="(csrf_token|flow_id)" value="([^"]*)"`)

// page GETs path and returns its body and hidden form fields.
func (c *client) page(path string) (string, url.Values) {
	c.t.Helper()
	r := c.do("GET", path, nil, "Accept-Language", "ja,en;q=0.5")
	if r.Status != 200 {
		c.t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	v := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(string(r.Body), -1) {
		v.Set(m[1], m[2])
	}
	return string(r.Body), v
}

// submit POSTs a form the way a browser without JavaScript does.
func (c *client) submit(path string, form url.Values) response {
	c.t.Helper()
	return c.do("POST", path, form.Encode(), "Content-Type", "application/x-www-form-urlencoded",
		"Origin", c.base, "Sec-Fetch-Site", "same-origin", "Accept-Language", "ja,en;q=0.5")
}

// TestPagesWithoutJavaScript walks the web pages: sign-up, verification,
// sign-in, the security page, sign out everywhere.
func TestPagesWithoutJavaScript(t *testing.T) {
	t.Parallel()
	s := start(t, sqliteDB(t))
	b := newClient(t, s)
	const email, pw = "page@example.com", "fushimi-inari-senbon"

	body, f := b.page("/signup")
	if !strings.Contains(body, `lang="ja"`) || f.Get("csrf_token") == "" {
		t.Fatalf("signup page: %s", body)
	}
	f.Set("email", email)
	f.Set("password", pw)
	f.Set("language", "ja")
	if r := b.submit("/signup", f); r.Status != http.StatusSeeOther {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	// Without the CSRF token the same form is refused and changes nothing.
	f.Del("csrf_token")
	f.Set("email", "csrf@example.com")
	if r := b.submit("/signup", f); r.Status != http.StatusForbidden {
		t.Fatalf("signup without CSRF token: %d", r.Status)
	}

	m := b.mail(email, nil, "メールアドレスの確認")
	_, f = b.page("/verify?email=" + url.QueryEscape(email))
	f.Set("email", email)
	f.Set("code", code(t, m))
	if r := b.submit("/verify", f); r.Status != http.StatusSeeOther {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}

	_, f = b.page("/signin")
	if f.Get("flow_id") == "" {
		t.Fatal("no flow on the sign-in page")
	}
	f.Set("email", email)
	f.Set("password", "wrong-password-1")
	if r := b.submit("/signin", f); r.Status == http.StatusSeeOther {
		t.Fatal("wrong password signed in")
	}
	f.Set("password", pw)
	r := b.submit("/signin", f)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account" {
		t.Fatalf("signin: %d %s %s", r.Status, r.Header.Get("Location"), r.Body)
	}

	body, f = b.page("/account/security")
	if !strings.Contains(body, "127.0.0.1") || !strings.Contains(body, "/account/sessions/revoke-all") {
		t.Fatalf("security page: %s", body)
	}
	if r := b.submit("/account/sessions/revoke-all", f); r.Status != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d %s", r.Status, r.Body)
	}
	r = b.do("GET", "/account", nil)
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/signin") {
		t.Fatalf("account page after sign out everywhere: %d %s", r.Status, r.Header.Get("Location"))
	}
}

var denyRe = regexp.MustCompile(`action="(/account/events/[^/"]+/deny)"`)

// TestActivityPagesAndSecureAccountWithoutJavaScript: the owner's activity
// and events pages on the real services; "No" on a sign-in from another
// device secures the account, and the secure-account pages finish it.
func TestActivityPagesAndSecureAccountWithoutJavaScript(t *testing.T) {
	t.Parallel()
	s := start(t, sqliteDB(t))
	b := newClient(t, s)
	const email, pw = "activity@example.com", "arashiyama-bamboo-grove"
	b.do("POST", "/api/v1/signup", map[string]any{"email": email, "password": pw, "language": "ja"})
	b.do("POST", "/api/v1/verify", map[string]any{"email": email, "code": code(t, b.mail(email, nil, "確認"))})
	// Someone else, with curl's User-Agent, then the owner in a browser.
	other := newClient(t, s)
	other.do("POST", "/api/v1/signin", map[string]any{"email": email, "password": pw}, "User-Agent", "curl/8.5.0")
	_, f := b.page("/signin")
	f.Set("email", email)
	f.Set("password", pw)
	if r := b.submit("/signin", f); r.Status != http.StatusSeeOther {
		t.Fatalf("signin: %d %s", r.Status, r.Body)
	}

	body, _ := b.page("/account/activity")
	for _, want := range []string{"curl 8", "127.0.0.1", "ログイン"} {
		if !strings.Contains(body, want) {
			t.Errorf("activity page lacks %q", want)
		}
	}
	if strings.Contains(body, "[web.") || strings.Contains(body, "[display.") {
		t.Errorf("activity page has missing texts:\n%s", body)
	}
	body, _ = b.page("/account/events")
	if strings.Contains(body, "[web.") {
		t.Errorf("events page has missing texts:\n%s", body)
	}

	// "No" to the curl sign-in, from the activity page.
	body, f = b.page("/account/activity")
	deny := denyRe.FindAllStringSubmatch(body, -1)
	if len(deny) < 2 {
		t.Fatalf("no 'this wasn't me' buttons on the activity page:\n%s", body)
	}
	r := b.submit(deny[1][1], f) // newest first: [0] is the owner's sign-in, [1] curl's
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/secure-account" {
		t.Fatalf("deny: %d %s", r.Status, r.Header.Get("Location"))
	}
	if r := other.do("GET", "/api/v1/me", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("the other session survived: %d", r.Status)
	}
	body, f = b.page("/secure-account")
	if !strings.Contains(body, `action="/secure-account/reset"`) {
		t.Fatalf("secure-account page:\n%s", body)
	}
	f.Set("code", code(t, b.mail(email, nil, "アカウントの保護")))
	f.Set("password", "a-new-passphrase-for-kyoto")
	if r := b.submit("/secure-account/reset", f); r.Status >= 400 {
		t.Fatalf("secure-account reset: %d %s", r.Status, r.Body)
	}
	body, _ = b.page("/secure-account")
	if !strings.Contains(body, `href="/signin"`) || strings.Contains(body, "[web.") {
		t.Fatalf("review step:\n%s", body)
	}
	if r := b.do("POST", "/api/v1/signin", map[string]any{"email": email, "password": "a-new-passphrase-for-kyoto"}); r.Status != 200 {
		t.Fatalf("new password: %d %s", r.Status, r.Body)
	}
}
