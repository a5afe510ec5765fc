package e2e

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestFullFlowSQLite(t *testing.T)   { t.Parallel(); fullFlow(t, start(t, sqliteDB(t))) }
func TestFullFlowPostgres(t *testing.T) { t.Parallel(); fullFlow(t, start(t, postgresDB(t))) }

// fullFlow is the owner's journey of the foundation: sign-up, verification
// with the emailed code, sign-in, sessions, sign out everywhere, forgotten
// password and reset.
func fullFlow(t *testing.T, s *server) {
	const email = "Hanako.Yamada@Example.COM"
	const addr = "hanako.yamada@example.com"
	const pw = "kyoto-autumn-leaves-2026"
	app := newClient(t, s)

	// Sign-up, in Japanese.
	r := app.do("POST", "/api/v1/signup", map[string]any{"email": email, "password": pw, "language": "ja"})
	if r.Status != http.StatusAccepted {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	verify := app.mail(addr, nil, "メールアドレスの確認")
	if verify["to"] != addr {
		t.Errorf("verification sent to %v", verify["to"])
	}
	if !strings.Contains(verify["text"].(string), s.URL+"/verify/link?token=") {
		t.Errorf("verification link not on the base URL: %s", verify["text"])
	}

	// A wrong code, then the right one; the right one a second time fails.
	c := code(t, verify)
	wrong := "000000"
	if c == wrong {
		wrong = "111111"
	}
	if r := app.do("POST", "/api/v1/verify", map[string]any{"email": addr, "code": wrong}); r.Status != 400 || !bytes.Contains(r.Body, []byte("invalid_code")) {
		t.Fatalf("wrong code: %d %s", r.Status, r.Body)
	}
	if r := app.do("POST", "/api/v1/verify", map[string]any{"email": email, "code": c}); r.Status != 200 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	if r := app.do("POST", "/api/v1/verify", map[string]any{"email": addr, "code": c}); r.Status != 400 {
		t.Fatalf("replayed code accepted: %d %s", r.Status, r.Body)
	}

	// Sign in twice: a browser (cookie) and a phone app (bearer token).
	browser := newClient(t, s)
	r = browser.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw}, "User-Agent",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	if r.Status != 200 || r.json(t)["status"] != "signed_in" {
		t.Fatalf("signin: %d %s", r.Status, r.Body)
	}
	sc := ""
	for _, c := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "__Host-mamoru_session=") {
			sc = c
		}
	}
	if !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "Secure") {
		t.Errorf("session cookie: %q in %q", sc, r.Header.Values("Set-Cookie"))
	}
	oldCookie := sessionCookie(t, browser)
	phone := newClient(t, s)
	r = phone.do("POST", "/api/v1/signin", map[string]any{"email": email, "password": pw})
	token, _ := r.json(t)["token"].(string)
	if token == "" {
		t.Fatalf("no bearer token: %s", r.Body)
	}
	bearer := []string{"Authorization", "Bearer " + token}

	// Both sessions are listed, with the device named.
	r = browser.do("GET", "/api/v1/sessions", nil)
	if r.Status != 200 {
		t.Fatalf("sessions: %d %s", r.Status, r.Body)
	}
	sessions := r.json(t)["sessions"].([]any)
	if len(sessions) != 2 {
		t.Fatalf("want 2 sessions, got %s", r.Body)
	}
	if !bytes.Contains(r.Body, []byte("Windows 10 の Chrome 131")) { // the account's language
		t.Errorf("device not named: %s", r.Body)
	}
	if r := phone.do("GET", "/api/v1/me", nil, bearer...); r.Status != 200 || !bytes.Contains(r.Body, []byte(addr)) {
		t.Fatalf("me with bearer: %d %s", r.Status, r.Body)
	}

	// Sign out everywhere from the browser: both sessions end.
	if r := browser.do("DELETE", "/api/v1/sessions", nil); r.Status != 204 {
		t.Fatalf("sign out everywhere: %d %s", r.Status, r.Body)
	}
	if r := phone.do("GET", "/api/v1/sessions", nil, bearer...); r.Status != 401 {
		t.Fatalf("old bearer token still works: %d %s", r.Status, r.Body)
	}
	// The browser's old cookie, sent by hand since the jar dropped it.
	if r := newClient(t, s).do("GET", "/api/v1/sessions", nil, "Cookie", "__Host-mamoru_session="+oldCookie); r.Status != 401 {
		t.Fatalf("old cookie still works: %d %s", r.Status, r.Body)
	}

	// Forgot password, reset with the emailed code; no automatic sign-in.
	r = phone.do("POST", "/api/v1/password/forgot", map[string]any{"email": addr})
	if r.Status != 202 {
		t.Fatalf("forgot: %d %s", r.Status, r.Body)
	}
	reset := app.mail(addr, nil, "パスワードの再設定")
	const newPW = "arashiyama-bamboo-grove-7"
	r = phone.do("POST", "/api/v1/password/reset", map[string]any{"email": addr, "code": code(t, reset), "password": newPW})
	if r.Status != 200 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	if strings.Contains(r.Header.Get("Set-Cookie"), "__Host-mamoru_session=") && !strings.Contains(r.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("reset signed the client in: %s", r.Header.Get("Set-Cookie"))
	}
	// The link of the same mail is dead now, the code too.
	if r := phone.do("POST", "/api/v1/password/reset", map[string]any{"token": linkToken(t, reset), "password": "another-long-password-9"}); r.Status != 400 {
		t.Fatalf("reset link reusable after the code was used: %d %s", r.Status, r.Body)
	}
	app.mail(addr, nil, "パスワードが再設定されました")

	// The old password fails, the new one works.
	if r := phone.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw}); r.Status != 401 {
		t.Fatalf("old password still works: %d %s", r.Status, r.Body)
	}
	if r := phone.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": newPW}); r.Status != 200 {
		t.Fatalf("new password: %d %s", r.Status, r.Body)
	}
}

// sessionCookie returns the value of the client's session cookie.
func sessionCookie(t *testing.T, c *client) string {
	t.Helper()
	u, _ := url.Parse(c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "__Host-mamoru_session" {
			return ck.Value
		}
	}
	t.Fatal("no session cookie in the jar")
	return ""
}
