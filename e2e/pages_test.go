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
