package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/mamoru-id/mamoru"
)

// decodeError returns the envelope of an error answer.
func decodeError(t *testing.T, body []byte) errorDetail {
	t.Helper()
	var b errorBody
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("not an error envelope: %s (%v)", body, err)
	}
	return b.Error
}

func TestErrorStatusTable(t *testing.T) {
	want := map[string]int{
		"invalid_request": 400, "invalid_json": 400, "invalid_email": 400, "invalid_language": 400,
		"invalid_time_zone": 400, "invalid_phone": 400,
		"password_too_short": 400, "password_too_long": 400, "password_common": 400, "password_incorrect": 400,
		"invalid_code": 400, "flow_expired": 400, "unauthorized": 401, "forbidden": 403, "not_found": 404,
		"method_not_allowed": 405, "conflict": 409, "payload_too_large": 413, "unsupported_media_type": 415,
		"rate_limited": 429, "captcha_required": 429, "locked": 401, "password_breached": 400, "step_up_required": 403,
		"unavailable": 503, "internal": 500,
	}
	for _, code := range domainErrorCodes(t) {
		if statusOf(code) != want[code] {
			t.Errorf("%s -> %d, want %d", code, statusOf(code), want[code])
		}
	}
}

func TestErrorEnvelope(t *testing.T) {
	for _, code := range domainErrorCodes(t) {
		e := newEnv(t, false)
		e.accounts.err = mamoru.Errorf(code, "developer text %s", "secret-detail")
		rec := e.api("POST", "/api/v1/signup", `{"email":"a@example.com","password":"x","language":"ja"}`)
		if rec.Code != statusOf(code) {
			t.Errorf("%s: status %d", code, rec.Code)
		}
		d := decodeError(t, rec.Body.Bytes())
		wantMsg := e.cat.T(mamoru.English, "error."+code, map[string]any{"Min": 8, "Max": 64})
		if d.Code != code || d.Message != wantMsg {
			t.Errorf("%s: got %+v, want message %q", code, d, wantMsg)
		}
		if strings.Contains(rec.Body.String(), "secret-detail") {
			t.Errorf("%s: developer message leaked: %s", code, rec.Body)
		}
		if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: API headers missing: %v", code, rec.Header())
		}
	}
}

func TestPasswordErrorTextHasLimits(t *testing.T) {
	e := newEnv(t, false)
	e.accounts.err = mamoru.Errorf(mamoru.EPasswordTooShort, "short")
	req := e.api("POST", "/api/v1/signup", `{"email":"a@example.com","password":"x","language":"ja"}`)
	if d := decodeError(t, req.Body.Bytes()); !strings.Contains(d.Message, "8") {
		t.Errorf("message %q lacks the minimum", d.Message)
	}
}

func TestUnknownErrorIsInternalAndLogged(t *testing.T) {
	e := newEnv(t, false)
	e.accounts.err = errors.New("database exploded: pq: connection reset")
	rec := e.api("POST", "/api/v1/signup", `{"email":"a@example.com","password":"x"}`)
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	d := decodeError(t, rec.Body.Bytes())
	if d.Code != "internal" || strings.Contains(rec.Body.String(), "exploded") {
		t.Errorf("body %s", rec.Body)
	}
	if !strings.Contains(e.logs.String(), "database exploded") {
		t.Errorf("internal error not logged: %s", e.logs)
	}
}

func TestPanicIsInternal(t *testing.T) {
	e := newEnv(t, false)
	e.accounts.panicWith = "boom"
	rec := e.api("POST", "/api/v1/signup", `{"email":"a@example.com","password":"x"}`)
	if rec.Code != 500 || decodeError(t, rec.Body.Bytes()).Code != "internal" {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(e.logs.String(), "boom") {
		t.Errorf("panic not logged")
	}
}

func TestStrictJSON(t *testing.T) {
	cases := []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"malformed", "application/json", `{"email":`, 400, "invalid_json"},
		{"unknown field", "application/json", `{"email":"a@example.com","password":"x","admin":true}`, 400, "invalid_json"},
		{"trailing object", "application/json", `{"email":"a@example.com","password":"x"}{}`, 400, "invalid_json"},
		{"trailing garbage", "application/json", `{"email":"a@example.com","password":"x"} x`, 400, "invalid_json"},
		{"wrong type", "application/json", `{"email":1,"password":"x"}`, 400, "invalid_json"},
		{"array", "application/json", `[]`, 400, "invalid_json"},
		{"null", "application/json", `null`, 400, "invalid_json"},
		{"empty body", "application/json", ``, 400, "invalid_json"},
		{"wrong content type", "text/plain", `{"email":"a@example.com","password":"x"}`, 415, "unsupported_media_type"},
		{"form content type", "application/x-www-form-urlencoded", `email=a`, 415, "unsupported_media_type"},
		{"no content type", "", `{"email":"a@example.com","password":"x"}`, 415, "unsupported_media_type"},
		{"oversized", "application/json", `{"email":"` + strings.Repeat("a", 2000) + `","password":"x"}`, 413, "payload_too_large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, false)
			r := newJSONRequest("POST", "/api/v1/signup", c.body, c.contentType)
			rec := e.do(r)
			if rec.Code != c.status {
				t.Errorf("status %d, want %d (%s)", rec.Code, c.status, rec.Body)
			}
			if d := decodeError(t, rec.Body.Bytes()); d.Code != c.code || d.Message == "" {
				t.Errorf("got %+v, want %s", d, c.code)
			}
			if e.accounts.has("SignUp") {
				t.Errorf("service called")
			}
		})
	}
}

func TestJSONContentTypeWithCharset(t *testing.T) {
	e := newEnv(t, false)
	rec := e.do(newJSONRequest("POST", "/api/v1/signup", `{"email":"a@example.com","password":"x","language":"ja-JP"}`, "application/json; charset=utf-8"))
	if rec.Code != http.StatusAccepted || rec.Body.String() != `{"status":"verification_sent"}` {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	if e.accounts.lastSignUp.Language != mamoru.Japanese {
		t.Errorf("language %q", e.accounts.lastSignUp.Language)
	}
}

func TestSignUpLanguage(t *testing.T) {
	e := newEnv(t, false)
	rec := e.api("POST", "/api/v1/signup", `{"email":"a@example.com","password":"x","language":"fr"}`)
	if rec.Code != 400 || decodeError(t, rec.Body.Bytes()).Code != "invalid_language" || e.accounts.has("SignUp") {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
	r := newJSONRequest("POST", "/api/v1/signup", `{"email":"a@example.com","password":"x"}`, "application/json")
	r.Header.Set("Accept-Language", "ja-JP,ja;q=0.9")
	if rec := e.do(r); rec.Code != 202 || e.accounts.lastSignUp.Language != mamoru.Japanese {
		t.Errorf("got %d, language %q", rec.Code, e.accounts.lastSignUp.Language)
	}
}

func TestSignInInvalidCredentialsIdentical(t *testing.T) {
	var bodies []string
	var headers []http.Header
	for _, in := range []string{
		`{"email":"nobody@example.com","password":"whatever"}`,     // unknown email
		`{"email":"user@example.com","password":"wrong password"}`, // wrong password
		`{"email":"user@example.com","password":"x"}`,              // another wrong one
	} {
		e := newEnv(t, false)
		rec := e.api("POST", "/api/v1/signin", in)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("status %d", rec.Code)
		}
		bodies = append(bodies, rec.Body.String())
		// A new browser gets its device cookie whatever the outcome (a
		// random value, the same shape every time); nothing else is set.
		h := rec.Header().Clone()
		if c := h.Values("Set-Cookie"); len(c) == 1 && strings.HasPrefix(c[0], DeviceCookie+"=") {
			h.Del("Set-Cookie")
		}
		headers = append(headers, h)
	}
	for i, b := range bodies {
		if b != `{"status":"invalid_credentials"}` {
			t.Errorf("body %d = %q", i, b)
		}
		if len(headers[i].Values("Set-Cookie")) != 0 {
			t.Errorf("cookies set on failure: %v", headers[i])
		}
		if !equalHeaders(headers[0], headers[i]) {
			t.Errorf("headers differ: %v vs %v", headers[0], headers[i])
		}
	}
	// An unusable account is the service's call; the web layer renders the
	// same status the same way.
	e := newEnv(t, false)
	e.signIn.status = mamoru.InvalidCredentials
	if rec := e.api("POST", "/api/v1/signin", `{"email":"user@example.com","password":"`+goodPassword+`"}`); rec.Body.String() != bodies[0] {
		t.Errorf("unusable account body %q", rec.Body)
	}
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if strings.Join(a.Values(k), ",") != strings.Join(b.Values(k), ",") {
			return false
		}
	}
	return true
}

func TestSignInSuccess(t *testing.T) {
	e := newEnv(t, false)
	rec := e.api("POST", "/api/v1/signin", `{"email":"user@example.com","password":"`+goodPassword+`"}`)
	if rec.Code != 200 {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	var got map[string]any
	json.Unmarshal(rec.Body.Bytes(), &got)
	if got["status"] != "signed_in" || got["token"] != goodToken {
		t.Errorf("body %s", rec.Body)
	}
	sess := got["session"].(map[string]any)
	if sess["id"] != "sess-1" || sess["expires_at"] != "2025-03-31T09:30:00Z" {
		t.Errorf("session %v", sess)
	}
	acct := got["account"].(map[string]any)
	if acct["id"] != "acct-1" || acct["email"] != goodEmail || acct["email_verified"] != true || acct["language"] != "en" {
		t.Errorf("account %v", acct)
	}
	c := setCookies(rec)[SessionCookie]
	want := SessionCookie + "=" + goodToken + "; Path=/; Expires=Mon, 31 Mar 2025 09:30:00 GMT; HttpOnly; Secure; SameSite=Lax"
	if c != want {
		t.Errorf("cookie\n got %s\nwant %s", c, want)
	}
	if e.signIn.last.FlowID != "" {
		t.Errorf("API sign-in passed flow %q", e.signIn.last.FlowID)
	}
	if e.srv.request(httptestRequest()).IP != "192.0.2.1" {
		t.Errorf("IP from RemoteAddr")
	}
}

func TestSignInPendingStatuses(t *testing.T) {
	for status, code := range map[mamoru.SignInStatus]int{
		mamoru.ChallengeRequired: 200, mamoru.ApprovalRequired: 200, mamoru.PasswordResetRequired: 200,
		mamoru.Locked: 401, mamoru.Restricted: 401,
	} {
		e := newEnv(t, false)
		e.signIn.status = status
		rec := e.api("POST", "/api/v1/signin", `{"email":"user@example.com","password":"x"}`)
		final := status == mamoru.Locked || status == mamoru.Restricted
		want := `{"status":"` + string(status) + `","flow_id":"flow-api"}`
		if final {
			// One constant body: nothing follows, nothing tells addresses apart.
			want = `{"status":"` + string(status) + `"}`
		}
		if rec.Code != code || rec.Body.String() != want {
			t.Errorf("%s: %d %s", status, rec.Code, rec.Body)
		}
		c := setCookies(rec)[FlowCookie]
		if final {
			if c != "" {
				t.Errorf("%s: flow cookie %q", status, c)
			}
			continue
		}
		if !strings.HasPrefix(c, FlowCookie+"=flow-secret-api; Path=/; Expires=") || !strings.HasSuffix(c, "; HttpOnly; Secure; SameSite=Lax") {
			t.Errorf("%s: flow cookie %q", status, c)
		}
	}
}

func TestSignInServiceError(t *testing.T) {
	e := newEnv(t, false)
	e.signIn.err = mamoru.Errorf(mamoru.ERateLimited, "slow down")
	rec := e.api("POST", "/api/v1/signin", `{"email":"user@example.com","password":"x"}`)
	if rec.Code != 429 || decodeError(t, rec.Body.Bytes()).Code != "rate_limited" {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t, false)
	// No credentials.
	if rec := e.api("GET", "/api/v1/me", ""); rec.Code != 401 || decodeError(t, rec.Body.Bytes()).Code != "unauthorized" {
		t.Errorf("anonymous: %d %s", rec.Code, rec.Body)
	}
	// Cookie.
	rec := e.api("GET", "/api/v1/me", "", sessionCookie())
	if rec.Code != 200 || rec.Body.String() != `{"id":"acct-1","email":"user@example.com","email_verified":true,"language":"en","time_zone":"UTC","phone":null}` {
		t.Errorf("cookie: %d %s", rec.Code, rec.Body)
	}
	// Bearer.
	r := newJSONRequest("GET", "/api/v1/me", "", "")
	r.Header.Set("Authorization", "Bearer "+goodToken)
	if rec := e.do(r); rec.Code != 200 {
		t.Errorf("bearer: %d %s", rec.Code, rec.Body)
	}
	// A bad bearer is not rescued by a good cookie.
	r = newJSONRequest("GET", "/api/v1/me", "", "")
	r.Header.Set("Authorization", "Bearer nope")
	r.AddCookie(sessionCookie())
	if rec := e.do(r); rec.Code != 401 {
		t.Errorf("bad bearer: %d", rec.Code)
	}
	// A stale cookie is expired.
	rec = e.api("GET", "/api/v1/me", "", &http.Cookie{Name: SessionCookie, Value: "stale"})
	if rec.Code != 401 || !strings.Contains(setCookies(rec)[SessionCookie], "Max-Age=0") {
		t.Errorf("stale cookie: %d %v", rec.Code, setCookies(rec))
	}
}

func TestSignOutAPI(t *testing.T) {
	e := newEnv(t, false)
	rec := e.api("POST", "/api/v1/signout", "", sessionCookie())
	if rec.Code != 204 || !e.sessions.has("SignOut:sess-1") {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	c := setCookies(rec)[SessionCookie]
	if c != SessionCookie+"=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax" {
		t.Errorf("cookie %q", c)
	}
	// With a body other than {} it is refused.
	e = newEnv(t, false)
	if rec := e.api("POST", "/api/v1/signout", `{"x":1}`, sessionCookie()); rec.Code != 400 || e.sessions.has("SignOut:sess-1") {
		t.Errorf("body accepted: %d", rec.Code)
	}
	if rec := e.api("POST", "/api/v1/signout", `{}`, sessionCookie()); rec.Code != 204 {
		t.Errorf("{} refused: %d", rec.Code)
	}
}

func TestSessionsAPI(t *testing.T) {
	e := newEnv(t, false)
	rec := e.api("GET", "/api/v1/sessions", "", sessionCookie())
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	var got struct {
		Sessions []map[string]any `json:"sessions"`
	}
	json.Unmarshal(rec.Body.Bytes(), &got)
	if len(got.Sessions) != 2 {
		t.Fatalf("sessions %s", rec.Body)
	}
	s0 := got.Sessions[0]
	if s0["id"] != "sess-1" || s0["current"] != true || s0["device"] != "Unknown device" || s0["ip"] != "192.0.2.1" ||
		s0["created_at"] != "2025-03-01T08:30:00Z" || s0["last_seen_at"] != "2025-03-01T09:30:00Z" || s0["expires_at"] != "2025-03-31T09:30:00Z" {
		t.Errorf("session 0 = %v", s0)
	}
	if got.Sessions[1]["current"] != false || got.Sessions[1]["device"] != "Chrome 131 on Windows 10" {
		t.Errorf("session 1 = %v", got.Sessions[1])
	}

	// Revoke another session: 204, cookie kept.
	rec = e.api("DELETE", "/api/v1/sessions/sess-2", "", sessionCookie())
	if rec.Code != 204 || setCookies(rec)[SessionCookie] != "" {
		t.Errorf("revoke other: %d %v", rec.Code, setCookies(rec))
	}
	// Someone else's: 404.
	rec = e.api("DELETE", "/api/v1/sessions/sess-999", "", sessionCookie())
	if rec.Code != 404 || decodeError(t, rec.Body.Bytes()).Code != "not_found" {
		t.Errorf("revoke foreign: %d %s", rec.Code, rec.Body)
	}
	// Own: cookie expired.
	rec = e.api("DELETE", "/api/v1/sessions/sess-1", "", sessionCookie())
	if rec.Code != 204 || !strings.Contains(setCookies(rec)[SessionCookie], "Max-Age=0") {
		t.Errorf("revoke own: %d %v", rec.Code, setCookies(rec))
	}
	// All.
	rec = e.api("DELETE", "/api/v1/sessions", "", sessionCookie())
	if rec.Code != 204 || !e.sessions.has("RevokeAll") || !strings.Contains(setCookies(rec)[SessionCookie], "Max-Age=0") {
		t.Errorf("revoke all: %d %v", rec.Code, setCookies(rec))
	}
}

func TestPasswordChangeAPI(t *testing.T) {
	e := newEnv(t, false)
	rec := e.api("POST", "/api/v1/password/change", `{"current_password":"a","new_password":"b"}`, sessionCookie())
	if rec.Code != 200 || rec.Body.String() != `{"status":"password_changed","token":"tok-new"}` {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	if !e.accounts.lastChange.SignOutOthers || e.accounts.lastChange.Current != "a" || e.accounts.lastChange.New != "b" {
		t.Errorf("input %+v", e.accounts.lastChange)
	}
	if !strings.HasPrefix(setCookies(rec)[SessionCookie], SessionCookie+"=tok-new;") {
		t.Errorf("cookie %v", setCookies(rec))
	}
	e.api("POST", "/api/v1/password/change", `{"current_password":"a","new_password":"b","sign_out_others":false}`, sessionCookie())
	if e.accounts.lastChange.SignOutOthers {
		t.Errorf("sign_out_others false ignored")
	}
	e.accounts.err = mamoru.Errorf(mamoru.EPasswordIncorrect, "wrong")
	rec = e.api("POST", "/api/v1/password/change", `{"current_password":"a","new_password":"b"}`, sessionCookie())
	if rec.Code != 400 || decodeError(t, rec.Body.Bytes()).Code != "password_incorrect" {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
}

func TestAccountAPIs(t *testing.T) {
	cases := []struct {
		path, body, want string
		status           int
	}{
		{"/api/v1/verify", `{"email":"a@example.com","code":"123456"}`, `{"status":"verified"}`, 200},
		{"/api/v1/verify/resend", `{"email":"a@example.com"}`, `{"status":"verification_sent"}`, 202},
		{"/api/v1/password/forgot", `{"email":"a@example.com"}`, `{"status":"reset_sent"}`, 202},
		{"/api/v1/password/reset", `{"email":"a@example.com","code":"123456","password":"new one"}`, `{"status":"password_reset"}`, 200},
		{"/api/v1/password/reset", `{"token":"tok","password":"new one"}`, `{"status":"password_reset"}`, 200},
	}
	for _, c := range cases {
		e := newEnv(t, false)
		rec := e.api("POST", c.path, c.body)
		if rec.Code != c.status || rec.Body.String() != c.want {
			t.Errorf("%s: %d %s", c.path, rec.Code, rec.Body)
		}
	}
	e := newEnv(t, false)
	e.api("POST", "/api/v1/password/reset", `{"token":"tok","password":"pw"}`)
	if e.accounts.lastReset != (mamoru.ResetInput{Token: "tok", Password: "pw"}) {
		t.Errorf("reset input %+v", e.accounts.lastReset)
	}
	e.accounts.err = mamoru.Errorf(mamoru.EInvalidEmail, "bad")
	if rec := e.api("POST", "/api/v1/password/forgot", `{"email":"nope"}`); rec.Code != 400 {
		t.Errorf("forgot invalid email: %d", rec.Code)
	}
}

func TestNotFoundAndMethodNotAllowedJSON(t *testing.T) {
	e := newEnv(t, false)
	rec := e.api("GET", "/api/v1/nope", "")
	if rec.Code != 404 || decodeError(t, rec.Body.Bytes()).Code != "not_found" {
		t.Errorf("404: %d %s", rec.Code, rec.Body)
	}
	rec = e.api("GET", "/api/v1/signin", "")
	if rec.Code != 405 || decodeError(t, rec.Body.Bytes()).Code != "method_not_allowed" || rec.Header().Get("Allow") != "POST" {
		t.Errorf("405: %d %s %v", rec.Code, rec.Body, rec.Header())
	}
	rec = e.api("PUT", "/api/v1/sessions", "")
	if rec.Code != 405 || !strings.Contains(rec.Header().Get("Allow"), "DELETE") {
		t.Errorf("405: %d %v", rec.Code, rec.Header())
	}
}

func TestDevRoutes(t *testing.T) {
	e := newEnv(t, false)
	for _, p := range []string{"/api/v1/dev/outbox", "/dev/outbox", "/dev/outbox/msg-new"} {
		if rec := e.get(p); rec.Code != 404 {
			t.Errorf("%s without dev: %d", p, rec.Code)
		}
	}
	e = newEnv(t, true)
	rec := e.get("/api/v1/dev/outbox")
	var got struct {
		Messages []messageJSON `json:"messages"`
	}
	json.Unmarshal(rec.Body.Bytes(), &got)
	if rec.Code != 200 || len(got.Messages) != 2 || got.Messages[0].ID != "msg-new" || got.Messages[0].CreatedAt != "2025-03-01T09:30:00Z" {
		t.Errorf("outbox: %d %s", rec.Code, rec.Body)
	}
	rec = e.get("/api/v1/dev/outbox?to=a@example.com")
	json.Unmarshal(rec.Body.Bytes(), &got)
	if len(got.Messages) != 1 || got.Messages[0].ID != "msg-old" {
		t.Errorf("filter: %s", rec.Body)
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t, false)
	if rec := e.get("/healthz"); rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "ok" {
		t.Errorf("healthz %d %q", rec.Code, rec.Body)
	}
	if rec := e.get("/readyz"); rec.Code != 200 {
		t.Errorf("readyz %d", rec.Code)
	}
	e.ready = errors.New("db down")
	if rec := e.get("/readyz"); rec.Code != 503 {
		t.Errorf("readyz not ready %d", rec.Code)
	}
	if rec := e.get("/healthz"); rec.Code != 200 {
		t.Errorf("healthz while not ready %d", rec.Code)
	}
}
