package e2e

import (
	"bytes"
	"strings"
	"testing"
)

// TestNoEnumeration checks that sign-in, sign-up and forgot-password
// answer byte for byte the same whether or not the address has an account.
// (Timing is tested statistically at the service level, where the clock of
// the machine is not shared with a whole server.)
func TestNoEnumeration(t *testing.T) {
	t.Parallel()
	s := start(t, sqliteDB(t))
	c := newClient(t, s)
	const pw = "sapporo-snow-festival-9"
	if r := c.do("POST", "/api/v1/signup", map[string]any{"email": "taken@example.com", "password": pw, "language": "en"}); r.Status != 202 {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	same := func(what string, a, b response) {
		t.Helper()
		if a.Status != b.Status || !bytes.Equal(a.Body, b.Body) {
			t.Errorf("%s differs:\n  %d %s\n  %d %s", what, a.Status, a.Body, b.Status, b.Body)
		}
		for _, h := range []string{"Content-Type", "Content-Length"} {
			if a.Header.Get(h) != b.Header.Get(h) {
				t.Errorf("%s: header %s differs: %q vs %q", what, h, a.Header.Get(h), b.Header.Get(h))
			}
		}
		if strings.Contains(a.Header.Get("Set-Cookie"), "session") || strings.Contains(b.Header.Get("Set-Cookie"), "session") {
			t.Errorf("%s: a session cookie was set", what)
		}
	}
	same("sign-in (wrong password vs unknown email)",
		c.do("POST", "/api/v1/signin", map[string]any{"email": "taken@example.com", "password": "wrong-password-123"}),
		c.do("POST", "/api/v1/signin", map[string]any{"email": "nobody@example.com", "password": "wrong-password-123"}))
	same("sign-up (existing vs new address)",
		c.do("POST", "/api/v1/signup", map[string]any{"email": "TAKEN@example.com", "password": pw, "language": "en"}),
		c.do("POST", "/api/v1/signup", map[string]any{"email": "fresh@example.com", "password": pw, "language": "en"}))
	same("forgot password (existing vs unknown address)",
		c.do("POST", "/api/v1/password/forgot", map[string]any{"email": "taken@example.com"}),
		c.do("POST", "/api/v1/password/forgot", map[string]any{"email": "nobody@example.com"}))
	same("resend verification (existing vs unknown address)",
		c.do("POST", "/api/v1/verify/resend", map[string]any{"email": "fresh@example.com"}),
		c.do("POST", "/api/v1/verify/resend", map[string]any{"email": "nobody@example.com"}))

	// The owner of the taken address is told someone tried to sign up.
	c.mail("taken@example.com", nil, "You already have an account")
}

// TestBadInput sends what a careless or hostile client sends: each gets a
// clear error and changes nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := start(t, sqliteDB(t))
	c := newClient(t, s)
	long := strings.Repeat("a", 1000)
	cases := []struct {
		name, path string
		body       any
		header     []string
		status     int
		code       string
	}{
		{"malformed JSON", "/api/v1/signup", `{"email": "a@example.com",`, nil, 400, "invalid_json"},
		{"unknown field", "/api/v1/signup", `{"email":"a@example.com","password":"long-enough-pw","language":"en","admin":true}`, nil, 400, "invalid_json"},
		{"trailing data", "/api/v1/signin", `{"email":"a@example.com","password":"x"} {}`, nil, 400, "invalid_json"},
		{"wrong content type", "/api/v1/signup", `email=a@example.com`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"oversized body", "/api/v1/signup", `{"email":"a@example.com","password":"` + strings.Repeat("x", 200<<10) + `"}`, nil, 413, "payload_too_large"},
		{"invalid email", "/api/v1/signup", map[string]any{"email": "not-an-address", "password": "long-enough-pw-1", "language": "en"}, nil, 400, "invalid_email"},
		{"empty password", "/api/v1/signup", map[string]any{"email": "b@example.com", "password": "", "language": "en"}, nil, 400, "password_too_short"},
		{"1000-character password", "/api/v1/signup", map[string]any{"email": "b@example.com", "password": long, "language": "en"}, nil, 400, "password_too_long"},
		{"common password", "/api/v1/signup", map[string]any{"email": "b@example.com", "password": "password123", "language": "en"}, nil, 400, "password_common"},
		{"bad language", "/api/v1/signup", map[string]any{"email": "b@example.com", "password": "long-enough-pw-1", "language": "fr"}, nil, 400, "invalid_language"},
		{"unknown code", "/api/v1/verify", map[string]any{"email": "b@example.com", "code": "123456"}, nil, 400, "invalid_code"},
		{"garbage reset token", "/api/v1/password/reset", map[string]any{"token": "nope", "password": "long-enough-pw-1"}, nil, 400, "invalid_code"},
		{"sessions without a session", "/api/v1/sessions", nil, nil, 401, "unauthorized"},
	}
	for _, tc := range cases {
		method := "POST"
		if tc.body == nil {
			method = "GET"
		}
		r := c.do(method, tc.path, tc.body, tc.header...)
		if r.Status != tc.status || !bytes.Contains(r.Body, []byte(`"code":"`+tc.code+`"`)) || !bytes.Contains(r.Body, []byte(`"message":"`)) {
			t.Errorf("%s: got %d %s; want %d with code %s", tc.name, r.Status, r.Body, tc.status, tc.code)
		}
	}
	// Nothing was created: b@example.com has no account, so no mail went to it.
	r := c.do("GET", "/api/v1/dev/outbox?to=b@example.com", nil)
	if bytes.Contains(r.Body, []byte(`"to"`)) {
		t.Errorf("a refused sign-up sent mail: %s", r.Body)
	}
}
