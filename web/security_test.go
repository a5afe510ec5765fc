package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestCookieAttributes(t *testing.T) {
	e := newEnv(t, false)
	// CSRF cookie and flow cookie, from GET /signin.
	rec := e.get("/signin")
	cs := setCookies(rec)
	csrf := regexp.MustCompile(`^__Host-mamoru_csrf=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; Secure; SameSite=Lax$`)
	if !csrf.MatchString(cs[CSRFCookie]) {
		t.Errorf("csrf cookie %q", cs[CSRFCookie])
	}
	if want := FlowCookie + "=flow-secret; Path=/; Expires=Sat, 01 Mar 2025 10:00:00 GMT; HttpOnly; Secure; SameSite=Lax"; cs[FlowCookie] != want {
		t.Errorf("flow cookie\n got %q\nwant %q", cs[FlowCookie], want)
	}
	// Language cookie.
	rec = e.get("/lang/ja?return_to=/signup")
	if want := LanguageCookie + "=ja; Path=/; Expires=Sun, 01 Mar 2026 09:30:00 GMT; HttpOnly; Secure; SameSite=Lax"; setCookies(rec)[LanguageCookie] != want {
		t.Errorf("lang cookie %q", setCookies(rec)[LanguageCookie])
	}
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/signup" {
		t.Errorf("lang switch: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	// Session cookie from the page sign-in.
	rec = e.form("/signin", url.Values{"flow_id": {"flow-1"}, "email": {goodEmail}, "password": {goodPassword}},
		&http.Cookie{Name: FlowCookie, Value: "flow-secret"})
	cs = setCookies(rec)
	if want := SessionCookie + "=" + goodToken + "; Path=/; Expires=Mon, 31 Mar 2025 09:30:00 GMT; HttpOnly; Secure; SameSite=Lax"; cs[SessionCookie] != want {
		t.Errorf("session cookie %q", cs[SessionCookie])
	}
	for name, c := range cs {
		if strings.Contains(strings.ToLower(c), "domain=") {
			t.Errorf("%s has a Domain: %q", name, c)
		}
	}
}

func TestCSRF(t *testing.T) {
	signup := url.Values{"email": {"a@example.com"}, "password": {"long enough pw"}, "language": {"en"}}
	send := func(e *env, mutate func(r *http.Request), vals url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "https://id.example.com/signup", strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: CSRFCookie, Value: testCSRF})
		mutate(req)
		return e.do(req)
	}
	withToken := func(tok string) url.Values {
		v := url.Values{}
		for k, x := range signup {
			v[k] = x
		}
		if tok != "" {
			v.Set(csrfField, tok)
		}
		return v
	}
	cases := []struct {
		name   string
		vals   url.Values
		mutate func(r *http.Request)
	}{
		{"no token", withToken(""), func(r *http.Request) {}},
		{"wrong token", withToken("x" + testCSRF[1:]), func(r *http.Request) {}},
		{"short token", withToken("abc"), func(r *http.Request) {}},
		{"no cookie", withToken(testCSRF), func(r *http.Request) { r.Header.Del("Cookie") }},
		{"cross-site fetch", withToken(testCSRF), func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }},
		{"cross-origin old browser", withToken(testCSRF), func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }},
	}
	for _, c := range cases {
		e := newEnv(t, false)
		rec := send(e, c.mutate, c.vals)
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s: status %d", c.name, rec.Code)
		}
		if !strings.Contains(rec.Body.String(), e.cat.T("en", "error.forbidden", nil)) {
			t.Errorf("%s: body lacks the forbidden text", c.name)
		}
		if e.accounts.has("SignUp") {
			t.Errorf("%s: service called", c.name)
		}
	}
	e := newEnv(t, false)
	if rec := send(e, func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "same-origin") }, withToken(testCSRF)); rec.Code != http.StatusSeeOther || !e.accounts.has("SignUp") {
		t.Errorf("valid form refused: %d", rec.Code)
	}

	// The API: cross-origin refused with the JSON envelope.
	for _, p := range []string{"/api/v1/signin", "/api/v1/signout", "/api/v1/sessions"} {
		e = newEnv(t, false)
		method := "POST"
		if p == "/api/v1/sessions" {
			method = "DELETE"
		}
		req := newJSONRequest(method, p, `{"email":"a@example.com","password":"x"}`, "application/json")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.AddCookie(sessionCookie())
		rec := e.do(req)
		if rec.Code != http.StatusForbidden || decodeError(t, rec.Body.Bytes()).Code != "forbidden" {
			t.Errorf("API %s cross-origin: %d %s", p, rec.Code, rec.Body)
		}
		if len(e.signIn.list())+len(e.sessions.list()) != 0 {
			t.Errorf("API %s: service called", p)
		}
	}
}

func TestCSRFTokenInEveryForm(t *testing.T) {
	e := newEnv(t, true)
	e.sessions.accounts["acct-1"].Phone = "+819012345678"
	for _, p := range []string{"/signup", "/verify", "/verify/link?token=t", "/signin", "/password/forgot", "/password/reset", "/account", "/account/security",
		"/account/activity", "/account/events", "/account/settings", "/account/email", "/account/email?step=code", "/account/phone",
		"/account/phone?step=code", "/secure-account", "/events/answer?token=" + goodAnswerToken, "/email/revert?token=t"} {
		cookies := []*http.Cookie{{Name: CSRFCookie, Value: testCSRF}, secureCookie()}
		if strings.HasPrefix(p, "/account") {
			cookies = append(cookies, sessionCookie())
		}
		rec := e.get(p, cookies...)
		body := rec.Body.String()
		posts := strings.Count(body, `method="post"`)
		tokens := strings.Count(body, `name="csrf_token" value="`+testCSRF+`"`)
		if posts == 0 || posts != tokens {
			t.Errorf("%s: %d POST forms, %d tokens", p, posts, tokens)
		}
	}
}

const wantCSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

func TestSecurityHeadersOnPages(t *testing.T) {
	e := newEnv(t, true)
	for _, p := range []string{"/signin", "/signup", "/verify", "/password/forgot", "/password/reset?token=abc", "/account", "/account/security", "/dev/outbox", "/nope",
		"/account/activity", "/account/events", "/account/settings", "/account/email", "/account/phone", "/secure-account", "/secure-account?expired",
		"/events/answer?token=" + goodAnswerToken, "/events/answer?token=bad", "/events/answer/done", "/email/revert?token=t"} {
		cookies := []*http.Cookie{sessionCookie()}
		if p != "/secure-account?expired" {
			cookies = append(cookies, secureCookie())
		}
		rec := e.get(p, cookies...)
		h := rec.Header()
		if h.Get("Content-Security-Policy") != wantCSP || h.Get("Referrer-Policy") != "no-referrer" ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" ||
			!strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Errorf("%s: headers %v", p, h)
		}
	}
	// The outbox message page alone allows inline styles for the mail.
	rec := e.get("/dev/outbox/msg-new")
	csp := rec.Header().Get("Content-Security-Policy")
	if csp == wantCSP || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script-src") && strings.Contains(csp, "unsafe") {
		t.Errorf("outbox CSP %q", csp)
	}
	// API: no-store and nosniff.
	rec = e.get("/api/v1/me")
	if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("API headers %v", rec.Header())
	}
}

func TestNoInlineScriptOrStyle(t *testing.T) {
	e := newEnv(t, true)
	for _, p := range []string{"/signin", "/signup", "/account/security", "/dev/outbox", "/account/activity", "/account/events",
		"/account/settings", "/account/email", "/account/phone", "/secure-account", "/events/answer?token=" + goodAnswerToken, "/email/revert?token=t"} {
		body := e.get(p, sessionCookie(), secureCookie()).Body.String()
		if strings.Contains(body, "<script") || strings.Contains(body, "<style") || strings.Contains(body, " style=") {
			t.Errorf("%s has inline script or style", p)
		}
	}
}

func TestLanguageChoice(t *testing.T) {
	e := newEnv(t, false)
	title := func(rec *httptest.ResponseRecorder) string {
		m := regexp.MustCompile(`<html lang="(\w+)">`).FindStringSubmatch(rec.Body.String())
		if m == nil {
			t.Fatalf("no html lang in %s", rec.Body)
		}
		return m[1]
	}
	get := func(path, accept string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "https://id.example.com"+path, nil)
		if accept != "" {
			req.Header.Set("Accept-Language", accept)
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		return e.do(req)
	}
	if got := title(get("/signin", "")); got != "en" {
		t.Errorf("default %s", got)
	}
	if got := title(get("/signin", "fr-FR, ja;q=0.8, en;q=0.5")); got != "ja" {
		t.Errorf("Accept-Language %s", got)
	}
	if got := title(get("/signin", "ja;q=0, en")); got != "en" {
		t.Errorf("q=0 %s", got)
	}
	if got := title(get("/signin", "ja", &http.Cookie{Name: LanguageCookie, Value: "en"})); got != "en" {
		t.Errorf("cookie over Accept-Language: %s", got)
	}
	// The account's language wins over cookie and header.
	e.sessions.accounts["acct-1"].Language = "ja"
	if got := title(get("/account", "en", &http.Cookie{Name: LanguageCookie, Value: "en"}, sessionCookie())); got != "ja" {
		t.Errorf("account over cookie: %s", got)
	}
	// And in API error messages.
	req := newJSONRequest("DELETE", "/api/v1/sessions/sess-999", "", "")
	req.Header.Set("Accept-Language", "en")
	req.AddCookie(sessionCookie())
	rec := e.do(req)
	if d := decodeError(t, rec.Body.Bytes()); d.Message != "見つかりません。" {
		t.Errorf("API message %q", d.Message)
	}
	req = newJSONRequest("POST", "/api/v1/signup", "{", "application/json")
	req.Header.Set("Accept-Language", "ja-JP")
	if d := decodeError(t, e.do(req).Body.Bytes()); d.Message != e.cat.T("ja", "error.invalid_json", nil) {
		t.Errorf("API message %q", d.Message)
	}
}

func TestReturnTo(t *testing.T) {
	evil := []string{"//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "/\\/evil.com", "javascript:alert(1)", "evil.com", "/\t/evil.com", "http:/evil.com"}
	for _, p := range evil {
		if got := localReturnTo(p, "/account"); got != "/account" {
			t.Errorf("localReturnTo(%q) = %q", p, got)
		}
	}
	for _, p := range []string{"/account", "/account/security?x=1", "/"} {
		if got := localReturnTo(p, "/account"); got != p {
			t.Errorf("localReturnTo(%q) = %q", p, got)
		}
	}
	for _, p := range evil {
		e := newEnv(t, false)
		// Sign-in POST.
		rec := e.form("/signin", url.Values{"flow_id": {"flow-1"}, "email": {goodEmail}, "password": {goodPassword}, "return_to": {p}},
			&http.Cookie{Name: FlowCookie, Value: "flow-secret"})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/account" {
			t.Errorf("sign-in return_to %q: %d %q", p, rec.Code, rec.Header().Get("Location"))
		}
		// Sign-in GET does not carry it into the form.
		rec = e.get("/signin?return_to=" + url.QueryEscape(p))
		if strings.Contains(rec.Body.String(), `name="return_to"`) {
			t.Errorf("sign-in form kept return_to %q", p)
		}
		// Already signed in.
		rec = e.get("/signin?return_to="+url.QueryEscape(p), sessionCookie())
		if rec.Header().Get("Location") != "/account" {
			t.Errorf("signed-in return_to %q: %q", p, rec.Header().Get("Location"))
		}
		// Language switch.
		rec = e.get("/lang/en?return_to=" + url.QueryEscape(p))
		if rec.Header().Get("Location") != "/" {
			t.Errorf("lang return_to %q: %q", p, rec.Header().Get("Location"))
		}
	}
	// A good one is honoured.
	e := newEnv(t, false)
	rec := e.form("/signin", url.Values{"flow_id": {"flow-1"}, "email": {goodEmail}, "password": {goodPassword}, "return_to": {"/account/security"}},
		&http.Cookie{Name: FlowCookie, Value: "flow-secret"})
	if rec.Header().Get("Location") != "/account/security" {
		t.Errorf("good return_to: %q", rec.Header().Get("Location"))
	}
}

func TestAccessLogHasNoSecrets(t *testing.T) {
	e := newEnv(t, true)
	e.api("POST", "/api/v1/signin", `{"email":"user@example.com","password":"`+goodPassword+`"}`)
	e.get("/password/reset?token=SECRET-LINK-TOKEN", sessionCookie())
	e.get("/verify/link?token=SECRET-LINK-TOKEN")
	e.form("/verify", url.Values{"email": {goodEmail}, "code": {"987654"}})
	r := newJSONRequest("GET", "/api/v1/me", "", "")
	r.Header.Set("Authorization", "Bearer "+goodToken)
	e.do(r)
	logs := e.logs.String()
	for _, secret := range []string{goodPassword, goodToken, "SECRET-LINK-TOKEN", "987654", testCSRF, "flow-secret"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "path=/password/reset") || !strings.Contains(logs, "status=200") || !strings.Contains(logs, "method=GET") || !strings.Contains(logs, "duration=") {
		t.Errorf("access log lacks fields:\n%s", logs)
	}
}
