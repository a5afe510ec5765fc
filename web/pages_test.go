package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// missingText matches what catalog.T renders for an unknown ID.
var missingText = regexp.MustCompile(`\[[a-z_]+(\.[a-z_0-9]+)+\]`)

// pageCase is one page state to render.
type pageCase struct {
	name   string
	dev    bool
	setup  func(e *env)
	req    func(e *env, lang mamoru.Language) *httptest.ResponseRecorder
	status int
}

func langCookie(l mamoru.Language) *http.Cookie {
	return &http.Cookie{Name: LanguageCookie, Value: string(l)}
}

func getPage(path string, signedIn bool) func(e *env, l mamoru.Language) *httptest.ResponseRecorder {
	return func(e *env, l mamoru.Language) *httptest.ResponseRecorder {
		if signedIn {
			e.sessions.accounts["acct-1"].Language = l
			return e.get(path, sessionCookie())
		}
		return e.get(path, langCookie(l))
	}
}

func postPage(path string, vals url.Values, signedIn bool) func(e *env, l mamoru.Language) *httptest.ResponseRecorder {
	return func(e *env, l mamoru.Language) *httptest.ResponseRecorder {
		cookies := []*http.Cookie{langCookie(l), {Name: FlowCookie, Value: "flow-secret"}}
		if signedIn {
			e.sessions.accounts["acct-1"].Language = l
			cookies = append(cookies, sessionCookie())
		}
		v := url.Values{}
		for k, x := range vals {
			v[k] = x
		}
		return e.form(path, v, cookies...)
	}
}

func failWith(code string) func(e *env) {
	return func(e *env) { e.accounts.err = mamoru.Errorf(code, "test") }
}

func signInStatus(s mamoru.SignInStatus) func(e *env) {
	return func(e *env) { e.signIn.status = s }
}

func pageCases() []pageCase {
	wrongPW := url.Values{"flow_id": {"flow-1"}, "email": {goodEmail}, "password": {"nope"}}
	return append([]pageCase{
		{"signup", false, nil, getPage("/signup", false), 200},
		{"signup error", false, failWith(mamoru.EPasswordTooShort), postPage("/signup", url.Values{"email": {"a@example.com"}, "language": {"ja"}}, false), 400},
		{"signup bad language", false, nil, postPage("/signup", url.Values{"email": {"a@example.com"}, "language": {"xx"}}, false), 400},
		{"verify", false, nil, getPage("/verify?email=a%40example.com&notice=verification_sent", false), 200},
		{"verify error", false, failWith(mamoru.EInvalidCode), postPage("/verify", url.Values{"email": {"a@example.com"}, "code": {"1"}}, false), 400},
		{"verify resend error", false, failWith(mamoru.ERateLimited), postPage("/verify/resend", url.Values{"email": {"a@example.com"}}, false), 429},
		{"verify link", false, nil, getPage("/verify/link?token=abc", false), 200},
		{"verify link error", false, failWith(mamoru.EInvalidCode), postPage("/verify/link", url.Values{"token": {"abc"}}, false), 400},
		{"signin", false, nil, getPage("/signin?notice=signed_out", false), 200},
		{"signin verified", false, nil, getPage("/signin?notice=verified", false), 200},
		{"signin invalid", false, nil, postPage("/signin", wrongPW, false), 401},
		{"signin expired", false, nil, postPage("/signin", url.Values{"flow_id": {"expired"}, "email": {goodEmail}, "password": {"x"}}, false), 200},
		{"signin challenge", false, signInStatus(mamoru.ChallengeRequired), postPage("/signin", wrongPW, false), 200},
		{"signin approval", false, signInStatus(mamoru.ApprovalRequired), postPage("/signin", wrongPW, false), 200},
		{"signin reset required", false, signInStatus(mamoru.PasswordResetRequired), postPage("/signin", wrongPW, false), 200},
		{"signin locked", false, signInStatus(mamoru.Locked), postPage("/signin", wrongPW, false), 401},
		{"signin restricted", false, signInStatus(mamoru.Restricted), postPage("/signin", wrongPW, false), 401},
		{"forgot", false, nil, getPage("/password/forgot", false), 200},
		{"forgot error", false, failWith(mamoru.EInvalidEmail), postPage("/password/forgot", url.Values{"email": {"x"}}, false), 400},
		{"reset by code", false, nil, getPage("/password/reset?email=a%40example.com&notice=reset_sent", false), 200},
		{"reset by link", false, nil, getPage("/password/reset?token=abc", false), 200},
		{"reset bad link", false, failWith(mamoru.EInvalidCode), getPage("/password/reset?token=abc", false), 400},
		{"reset error", false, failWith(mamoru.EPasswordCommon), postPage("/password/reset", url.Values{"email": {"a@example.com"}, "code": {"1"}, "password": {"password"}}, false), 400},
		{"account", false, nil, getPage("/account?notice=verified", true), 200},
		{"account unverified", false, func(e *env) { e.sessions.accounts["acct-1"].EmailVerifiedAt = time.Time{} }, getPage("/account", true), 200},
		{"security", false, nil, getPage("/account/security?notice=password_changed", true), 200},
		{"security revoked", false, nil, getPage("/account/security?notice=session_revoked", true), 200},
		{"security password error", false, failWith(mamoru.EPasswordIncorrect), postPage("/account/password", url.Values{"current_password": {"x"}, "new_password": {"y"}}, true), 400},
		{"signed out everywhere", false, nil, getPage("/signin?notice=signed_out_everywhere", false), 200},
		{"password reset done", false, nil, getPage("/signin?notice=password_reset", false), 200},
		{"not found", false, nil, getPage("/no/such/page", false), 404},
		{"method not allowed", false, nil, getPage("/signout", false), 405},
		{"forbidden", false, nil, func(e *env, l mamoru.Language) *httptest.ResponseRecorder {
			return e.form("/signup", url.Values{csrfField: {"wrong"}}, langCookie(l))
		}, 403},
		{"internal", false, func(e *env) { e.accounts.panicWith = "boom" }, postPage("/signup", url.Values{"language": {"en"}}, false), 500},
		{"outbox", true, nil, getPage("/dev/outbox", false), 200},
		{"outbox empty", true, nil, getPage("/dev/outbox?to=nobody%40example.com", false), 200},
		{"outbox message", true, nil, getPage("/dev/outbox/msg-new", false), 200},
		{"outbox missing", true, nil, getPage("/dev/outbox/nope", false), 404},
	}, append(append(activityPageCases(), signInCodePageCases()...), twoStepPageCases()...)...)
}

func TestEveryPageRendersInEveryLanguage(t *testing.T) {
	for _, c := range pageCases() {
		for _, lang := range mamoru.Languages {
			t.Run(c.name+"/"+string(lang), func(t *testing.T) {
				e := newEnv(t, c.dev)
				if c.setup != nil {
					c.setup(e)
				}
				rec := c.req(e, lang)
				body := rec.Body.String()
				if rec.Code != c.status {
					t.Errorf("status %d, want %d", rec.Code, c.status)
				}
				if !strings.Contains(body, `<html lang="`+string(lang)+`">`) {
					t.Errorf("not rendered in %s: %.300s", lang, body)
				}
				if m := missingText.FindString(body); m != "" {
					t.Errorf("missing catalog text %s", m)
				}
				if strings.Contains(body, "<no value>") {
					t.Errorf("template printed <no value>")
				}
				if lang == mamoru.Japanese && !regexp.MustCompile(`\p{Hiragana}|\p{Katakana}`).MatchString(body) {
					t.Errorf("no Japanese on the page")
				}
			})
		}
	}
}

// catalogIDRefs finds catalog IDs used in templates and Go code.
var catalogIDRefs = regexp.MustCompile(`"((?:web|error)\.[a-z_]+(?:\.[a-z_0-9]+)*)"`)

func TestCatalogHasEveryReferencedID(t *testing.T) {
	var sources []string
	fs.WalkDir(templateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(templateFiles, p)
			sources = append(sources, string(b))
		}
		return nil
	})
	goFiles, _ := filepath.Glob("*.go")
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(f)
		sources = append(sources, string(b))
	}
	n := 0
	for _, src := range sources {
		for _, m := range catalogIDRefs.FindAllStringSubmatch(src, -1) {
			n++
			for _, l := range mamoru.Languages {
				if !testCatalog.Has(l, m[1]) {
					t.Errorf("%s: no text %s", l, m[1])
				}
			}
		}
	}
	for _, l := range mamoru.Languages {
		for _, other := range mamoru.Languages {
			if !testCatalog.Has(l, "web.lang."+string(other)) {
				t.Errorf("%s: no name for language %s", l, other)
			}
		}
	}
	if n < 50 {
		t.Errorf("found only %d references; is the pattern right?", n)
	}
}

func TestNoticeWhitelist(t *testing.T) {
	e := newEnv(t, false)
	body := e.get("/signin?notice=" + url.QueryEscape("<script>")).Body.String()
	if strings.Contains(body, `class="notice"`) {
		t.Errorf("unknown notice shown")
	}
	for key, id := range notices {
		body := e.get("/signin?notice=" + key).Body.String()
		if !strings.Contains(body, testCatalog.T("en", id, nil)) {
			t.Errorf("notice %s not shown", key)
		}
	}
}

func TestSignInPageFlow(t *testing.T) {
	e := newEnv(t, false)
	rec := e.get("/signin?return_to=%2Faccount%2Fsecurity")
	body := rec.Body.String()
	if !e.signIn.has("Begin") || !strings.Contains(body, `name="flow_id" value="flow-1"`) || !strings.Contains(body, `name="return_to" value="/account/security"`) {
		t.Fatalf("form: %s", body)
	}
	if setCookies(rec)[FlowCookie] == "" {
		t.Errorf("no flow cookie")
	}
	// Wrong password: one generic message, email kept, password not.
	rec = e.form("/signin", url.Values{"flow_id": {"flow-1"}, "email": {goodEmail}, "password": {"bad-password-x"}},
		&http.Cookie{Name: FlowCookie, Value: "flow-secret"})
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), testCatalog.T("en", "web.signin.invalid", nil)) ||
		!strings.Contains(rec.Body.String(), `value="`+goodEmail+`"`) || strings.Contains(rec.Body.String(), "bad-password-x") {
		t.Errorf("invalid: %d %s", rec.Code, rec.Body)
	}
	if e.signIn.last.FlowSecret != "flow-secret" || e.signIn.last.FlowID != "flow-1" {
		t.Errorf("step %+v", e.signIn.last)
	}
	// Expired flow: a new flow and a note.
	rec = e.form("/signin", url.Values{"flow_id": {"flow-1"}, "email": {goodEmail}, "password": {goodPassword}})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `name="flow_id" value="flow-2"`) ||
		!strings.Contains(rec.Body.String(), testCatalog.T("en", "error.flow_expired", nil)) || setCookies(rec)[FlowCookie] == "" {
		t.Errorf("expired: %d %s", rec.Code, rec.Body)
	}
	// Success.
	rec = e.form("/signin", url.Values{"flow_id": {"flow-2"}, "email": {goodEmail}, "password": {goodPassword}},
		&http.Cookie{Name: FlowCookie, Value: "flow-secret"})
	if rec.Code != 303 || rec.Header().Get("Location") != "/account" {
		t.Fatalf("success: %d %v", rec.Code, rec.Header())
	}
	cs := setCookies(rec)
	if !strings.HasPrefix(cs[SessionCookie], SessionCookie+"="+goodToken) || !strings.Contains(cs[FlowCookie], "Max-Age=0") {
		t.Errorf("cookies %v", cs)
	}
}

func TestAccountPagesNeedSignIn(t *testing.T) {
	e := newEnv(t, false)
	for p, want := range map[string]string{
		"/account":              "/signin?return_to=%2Faccount",
		"/account/security?x=1": "/signin?return_to=%2Faccount%2Fsecurity%3Fx%3D1",
		"/account/security":     "/signin?return_to=%2Faccount%2Fsecurity",
	} {
		rec := e.get(p)
		if rec.Code != 303 || rec.Header().Get("Location") != want {
			t.Errorf("%s: %d %q", p, rec.Code, rec.Header().Get("Location"))
		}
	}
	rec := e.form("/account/sessions/revoke-all", nil)
	if rec.Code != 303 || !strings.HasPrefix(rec.Header().Get("Location"), "/signin?") || e.sessions.has("RevokeAll") {
		t.Errorf("POST: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	// A stale cookie is cleared.
	rec = e.get("/account", &http.Cookie{Name: SessionCookie, Value: "stale"})
	if rec.Code != 303 || !strings.Contains(setCookies(rec)[SessionCookie], "Max-Age=0") {
		t.Errorf("stale: %d %v", rec.Code, setCookies(rec))
	}
	// A session store outage is not "please sign in".
	e.sessions.err = mamoru.Errorf(mamoru.EUnavailable, "down")
	if rec := e.get("/account", sessionCookie()); rec.Code != 503 {
		t.Errorf("outage: %d", rec.Code)
	}
}

func TestAccountPages(t *testing.T) {
	e := newEnv(t, false)
	body := e.get("/account", sessionCookie()).Body.String()
	if !strings.Contains(body, goodEmail) || !strings.Contains(body, ">Verified<") {
		t.Errorf("account: %s", body)
	}
	e.sessions.accounts["acct-1"].EmailVerifiedAt = time.Time{}
	body = e.get("/account", sessionCookie()).Body.String()
	if !strings.Contains(body, `href="/verify"`) {
		t.Errorf("unverified account has no verify link")
	}
	if body := e.get("/verify", sessionCookie()).Body.String(); !strings.Contains(body, `value="`+goodEmail+`"`) {
		t.Errorf("verify page not prefilled")
	}
	body = e.get("/account/security", sessionCookie()).Body.String()
	for _, want := range []string{"192.0.2.1", "198.51.100.7", "Unknown device", "This device", "/account/sessions/sess-2/revoke", "/account/sessions/revoke-all", `name="sign_out_others" value="on" checked`} {
		if !strings.Contains(body, want) {
			t.Errorf("security page lacks %q", want)
		}
	}
}

func TestAccountActions(t *testing.T) {
	e := newEnv(t, false)
	// Change password, keeping others signed in.
	rec := e.form("/account/password", url.Values{"current_password": {"a"}, "new_password": {"b"}}, sessionCookie())
	if rec.Code != 303 || rec.Header().Get("Location") != "/account/security?notice=password_changed" {
		t.Fatalf("change: %d %v", rec.Code, rec.Header())
	}
	if e.accounts.lastChange.SignOutOthers || !strings.HasPrefix(setCookies(rec)[SessionCookie], SessionCookie+"=tok-new;") {
		t.Errorf("change: %+v %v", e.accounts.lastChange, setCookies(rec))
	}
	e.form("/account/password", url.Values{"current_password": {"a"}, "new_password": {"b"}, "sign_out_others": {"on"}}, sessionCookie())
	if !e.accounts.lastChange.SignOutOthers {
		t.Errorf("checkbox ignored")
	}
	// Error keeps the unchecked box unchecked.
	e.accounts.err = mamoru.Errorf(mamoru.EPasswordIncorrect, "x")
	rec = e.form("/account/password", url.Values{"current_password": {"a"}, "new_password": {"b"}}, sessionCookie())
	if rec.Code != 400 || strings.Contains(rec.Body.String(), `value="on" checked`) {
		t.Errorf("error re-render: %d", rec.Code)
	}
	e.accounts.err = nil
	// Revoke another session.
	rec = e.form("/account/sessions/sess-2/revoke", nil, sessionCookie())
	if rec.Header().Get("Location") != "/account/security?notice=session_revoked" || !e.sessions.has("RevokeSession:sess-2") {
		t.Errorf("revoke: %d %v", rec.Code, rec.Header())
	}
	// Revoke this one: signed out.
	rec = e.form("/account/sessions/sess-1/revoke", nil, sessionCookie())
	if rec.Header().Get("Location") != "/signin?notice=signed_out" || !strings.Contains(setCookies(rec)[SessionCookie], "Max-Age=0") {
		t.Errorf("revoke own: %v", rec.Header())
	}
	// Not ours: 404 page.
	if rec := e.form("/account/sessions/other/revoke", nil, sessionCookie()); rec.Code != 404 {
		t.Errorf("revoke foreign: %d", rec.Code)
	}
	// Everywhere.
	rec = e.form("/account/sessions/revoke-all", nil, sessionCookie())
	if rec.Header().Get("Location") != "/signin?notice=signed_out_everywhere" || !e.sessions.has("RevokeAll") || !strings.Contains(setCookies(rec)[SessionCookie], "Max-Age=0") {
		t.Errorf("revoke all: %v", rec.Header())
	}
	// Sign out.
	rec = e.form("/signout", nil, sessionCookie())
	if rec.Header().Get("Location") != "/signin?notice=signed_out" || !e.sessions.has("SignOut:sess-1") {
		t.Errorf("sign out: %v", rec.Header())
	}
}

func TestVerifyLinkNeverUsedOnGET(t *testing.T) {
	e := newEnv(t, false)
	rec := e.get("/verify/link?token=tok123")
	if rec.Code != 200 || e.accounts.has("VerifyEmailLink") || !strings.Contains(rec.Body.String(), `name="token" value="tok123"`) {
		t.Fatalf("GET: %d %v", rec.Code, e.accounts.list())
	}
	rec = e.form("/verify/link", url.Values{"token": {"tok123"}})
	if rec.Code != 303 || rec.Header().Get("Location") != "/signin?notice=verified" || !e.accounts.has("VerifyEmailLink") {
		t.Errorf("POST: %d %v", rec.Code, rec.Header())
	}
}

func TestPasswordResetPages(t *testing.T) {
	e := newEnv(t, false)
	rec := e.get("/password/reset?token=tok123")
	if !e.accounts.has("CheckResetLink") || e.accounts.has("ResetPassword") || !strings.Contains(rec.Body.String(), `name="token" value="tok123"`) {
		t.Fatalf("GET: %v", e.accounts.list())
	}
	rec = e.form("/password/reset", url.Values{"token": {"tok123"}, "password": {"new password"}})
	if rec.Code != 303 || rec.Header().Get("Location") != "/signin?notice=password_reset" || e.accounts.lastReset.Token != "tok123" {
		t.Errorf("POST: %d %v", rec.Code, rec.Header())
	}
	rec = e.form("/password/forgot", url.Values{"email": {"a@example.com"}})
	if rec.Code != 303 || rec.Header().Get("Location") != "/password/reset?email=a%40example.com&notice=reset_sent" {
		t.Errorf("forgot: %d %v", rec.Code, rec.Header())
	}
}

func TestSignUpPageFlow(t *testing.T) {
	e := newEnv(t, false)
	rec := e.form("/signup", url.Values{"email": {" a@example.com "}, "password": {"pw"}, "language": {"ja"}})
	if rec.Code != 303 || rec.Header().Get("Location") != "/verify?email=a%40example.com&notice=verification_sent" {
		t.Fatalf("signup: %d %v", rec.Code, rec.Header())
	}
	if e.accounts.lastSignUp != (mamoru.SignUpInput{Email: "a@example.com", Password: "pw", Language: mamoru.Japanese}) {
		t.Errorf("input %+v", e.accounts.lastSignUp)
	}
	rec = e.form("/verify", url.Values{"email": {"a@example.com"}, "code": {"123456"}})
	if rec.Header().Get("Location") != "/signin?notice=verified" {
		t.Errorf("verify: %v", rec.Header())
	}
	rec = e.form("/verify/resend", url.Values{"email": {"a@example.com"}})
	if rec.Header().Get("Location") != "/verify?email=a%40example.com&notice=verification_sent" {
		t.Errorf("resend: %v", rec.Header())
	}
}

func TestOutboxMessagePage(t *testing.T) {
	e := newEnv(t, true)
	body := e.get("/dev/outbox/msg-new").Body.String()
	if !strings.Contains(body, `sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="`) {
		t.Errorf("no sandboxed frame: %s", body)
	}
	if !strings.Contains(body, `&lt;a href=&#34;https://id.example.com/verify/link?token=abc&#34; target=&#34;_blank&#34; rel=&#34;noopener noreferrer&#34;&gt;`) {
		t.Errorf("frame link not opened outside: %s", body)
	}
	if !strings.Contains(body, `<a href="https://id.example.com/verify/link?token=abc" target="_blank" rel="noopener noreferrer">`) {
		t.Errorf("text link missing")
	}
	// Quotes in mail HTML cannot break out of the attribute.
	attr := string(srcdocAttr(`<p title='"><script>alert(1)</script>'>x</p>`))
	if strings.Count(attr, `"`) != 2 || strings.Contains(attr, "<script") {
		t.Errorf("srcdoc escaping: %s", attr)
	}
	if got := string(linkify(`<b> https://x.example/a?b=1&c=2 "q"`)); got != `&lt;b&gt; <a href="https://x.example/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">https://x.example/a?b=1&amp;c=2</a> &#34;q&#34;` {
		t.Errorf("linkify: %s", got)
	}
	list := e.get("/dev/outbox").Body.String()
	if strings.Index(list, "msg-new") > strings.Index(list, "msg-old") {
		t.Errorf("outbox not newest first")
	}
}

func TestStaticAndHome(t *testing.T) {
	e := newEnv(t, false)
	rec := e.get("/static/style.css")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") {
		t.Errorf("css: %d %v", rec.Code, rec.Header())
	}
	if rec := e.get("/static/nope.css"); rec.Code != 404 {
		t.Errorf("missing static: %d", rec.Code)
	}
	if rec := e.get("/"); rec.Header().Get("Location") != "/signin" {
		t.Errorf("home anonymous: %v", rec.Header())
	}
	if rec := e.get("/", sessionCookie()); rec.Header().Get("Location") != "/account" {
		t.Errorf("home signed in: %v", rec.Header())
	}
}

func TestFormTooLarge(t *testing.T) {
	e := newEnv(t, false)
	rec := e.form("/signup", url.Values{"email": {strings.Repeat("a", 5000)}})
	if rec.Code != 413 || e.accounts.has("SignUp") {
		t.Errorf("status %d", rec.Code)
	}
}
