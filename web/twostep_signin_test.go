package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// The second step of a sign-in and the passkey-first sign-in, on the
// pages and in the API, on the fake sign-in service.

// signInTestMethods are the allowed methods of the tests' second step.
var signInTestMethods = []mamoru.Method{mamoru.MethodTOTP, mamoru.MethodWebAuthn, mamoru.MethodBackupCode, mamoru.MethodSMS}

const signInTestMethodList = "totp,webauthn,backup_code,sms"

// signInTestOptions are the WebAuthn options the fake gives.
const signInTestOptions = `{"publicKey":{"challenge":"Y2hhbGxlbmdl","rpId":"id.example.com","userVerification":"preferred"},"mediation":""}`

func signInFlowCookie() *http.Cookie { return &http.Cookie{Name: FlowCookie, Value: "flow-secret"} }

func signInPasskeyCookie() *http.Cookie {
	return &http.Cookie{Name: PasskeyCookie, Value: "flow-pk.pk-secret"}
}

// signInCodeForm is the hidden state of the second step's forms, with
// more fields as name, value pairs.
func signInCodeForm(pairs ...string) url.Values {
	v := url.Values{"flow_id": {"flow-1"}, "methods": {signInTestMethodList}}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	return v
}

// withMethods makes the password step answer challenge_required with the
// tests' methods.
func withMethods(e *env) {
	e.signIn.status = mamoru.ChallengeRequired
	e.signIn.methods = signInTestMethods
}

// signInCodePageCases are the second step's and passkey sign-in's pages
// for TestEveryPageRendersInEveryLanguage.
func signInCodePageCases() []pageCase {
	wrongPW := url.Values{"flow_id": {"flow-1"}, "email": {goodEmail}, "password": {"nope"}}
	method := func(m string) func(e *env, l mamoru.Language) *httptest.ResponseRecorder {
		return postPage("/signin/code/method", signInCodeForm("method", m), false)
	}
	rateLimited := func(d time.Duration) func(e *env) {
		return func(e *env) {
			e.signIn.resendErr = &mamoru.Error{Code: mamoru.ERateLimited, Message: "fake", RetryAfter: d}
		}
	}
	passkey := func(cred string) func(e *env, l mamoru.Language) *httptest.ResponseRecorder {
		return func(e *env, l mamoru.Language) *httptest.ResponseRecorder {
			return e.form("/signin/passkey", url.Values{"credential": {cred}}, langCookie(l), signInPasskeyCookie())
		}
	}
	return []pageCase{
		{"signin code totp", false, withMethods, postPage("/signin", wrongPW, false), 200},
		{"signin code webauthn", false, nil, method("webauthn"), 200},
		{"signin code backup", false, nil, method("backup_code"), 200},
		{"signin code sms to send", false, nil, method("sms"), 200},
		{"signin code sms sent", false, nil, postPage("/signin/code/resend", signInCodeForm("method", "sms"), false), 200},
		{"signin code email sent", false, func(e *env) {
			e.signIn.status, e.signIn.methods, e.signIn.sentTo = mamoru.ChallengeRequired, []mamoru.Method{mamoru.MethodEmail}, "u***@example.com"
		}, postPage("/signin", wrongPW, false), 200},
		{"signin code wrong", false, nil, postPage("/signin/code", signInCodeForm("method", "totp", "code", "000000"), false), 400},
		{"signin code webauthn without script", false, nil, postPage("/signin/code", signInCodeForm("method", "webauthn"), false), 400},
		{"signin code resend wait", false, rateLimited(20 * time.Second), postPage("/signin/code/resend", signInCodeForm("method", "sms"), false), 429},
		{"signin code resend limit", false, rateLimited(9 * time.Minute), postPage("/signin/code/resend", signInCodeForm("method", "sms"), false), 429},
		{"signin code locked", false, func(e *env) { e.signIn.codeErr = mamoru.Errorf(mamoru.ELocked, "fake") },
			postPage("/signin/code", signInCodeForm("method", "totp", "code", "123456"), false), 401},
		{"signin passkey failed", false, nil, passkey(`{"id":"other"}`), 401},
		{"signin passkey expired", false, nil, func(e *env, l mamoru.Language) *httptest.ResponseRecorder {
			return e.form("/signin/passkey", url.Values{"credential": {goodAssertion}}, langCookie(l))
		}, 200},
		{"signin passkey reset required", false, func(e *env) { e.signIn.passkeyStatus = mamoru.PasswordResetRequired }, passkey(goodAssertion), 200},
	}
}

func TestSignInCodePageMethods(t *testing.T) {
	e := newEnv(t, false)
	withMethods(e)
	rec := e.form("/signin", url.Values{"flow_id": {"flow-1"}, "email": {goodEmail}, "password": {goodPassword}}, signInFlowCookie())
	body := rec.Body.String()
	if rec.Code != 200 || strings.Contains(body, `name="password"`) {
		t.Fatalf("challenge: %d %s", rec.Code, body)
	}
	for _, want := range []string{
		`action="/signin/code"`, `name="method" value="totp"`, `name="methods" value="totp,webauthn,backup_code,sms"`,
		`name="flow_id" value="flow-1"`, `inputmode="numeric" autocomplete="one-time-code" maxlength="64"`,
		`<input type="checkbox" name="remember" value="1">`, "Remember this device for 30 days",
		"Enter the 6-digit code from your authenticator app",
		`action="/signin/code/method"`, `name="method" value="webauthn" class="link"`, `name="method" value="backup_code" class="link"`,
		`name="method" value="sms" class="link"`,
		"If you didn&#39;t try to sign in, someone knows your password: change it now.<br><a href=\"/password/forgot\">",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("totp page lacks %s", want)
		}
	}
	if strings.Contains(body, `value="totp" class="link"`) {
		t.Errorf("the method in use is offered as another")
	}

	// The days come from the configuration.
	e.srv.cfg.RememberDays = 14
	body = e.form("/signin/code/method", signInCodeForm("method", "backup_code"), signInFlowCookie()).Body.String()
	for _, want := range []string{"Enter one of your backup codes", `name="method" value="backup_code">`, "Remember this device for 14 days",
		`autocomplete="off"`, `value="totp" class="link"`} {
		if !strings.Contains(body, want) {
			t.Errorf("backup code page lacks %s", want)
		}
	}
	if strings.Contains(body, `inputmode="numeric"`) || strings.Contains(body, "one-time-code") {
		t.Errorf("backup codes are not numeric one-time codes")
	}

	body = e.form("/signin/code/method", signInCodeForm("method", "webauthn"), signInFlowCookie()).Body.String()
	for _, want := range []string{`action="/signin/code" class="card" data-webauthn="get" data-options-url="/signin/webauthn/options"`,
		`data-error-text="`, `data-cancel-text="`, `data-unsupported-text="`, `name="method" value="webauthn">`,
		`<input type="hidden" name="credential" value="">`, `<p class="error" role="alert" data-webauthn-error hidden></p>`,
		`<script src="/static/webauthn.js" async></script>`, "Use your security key or passkey</button>", `name="remember" value="1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("webauthn page lacks %s", want)
		}
	}

	// SMS before its code was sent: only the button that sends it.
	body = e.form("/signin/code/method", signInCodeForm("method", "sms"), signInFlowCookie()).Body.String()
	if !strings.Contains(body, `action="/signin/code/resend"`) || !strings.Contains(body, "Send the code</button>") ||
		strings.Contains(body, `id="code"`) || strings.Contains(body, "Send a new code") {
		t.Errorf("sms page before sending: %s", body)
	}

	// A method the flow does not offer.
	rec = e.form("/signin/code/method", signInCodeForm("method", "email"), signInFlowCookie())
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `action="/signin/code"`) {
		t.Errorf("method not offered: %d", rec.Code)
	}
	if n := len(e.signIn.list()); e.signIn.list()[n-1] != "SubmitPassword" {
		t.Errorf("switching called the service: %v", e.signIn.list())
	}

	// An emailed code (no 2-step methods): sent at once, no remember box.
	e = newEnv(t, false)
	e.signIn.status, e.signIn.methods, e.signIn.sentTo = mamoru.ChallengeRequired, []mamoru.Method{mamoru.MethodEmail}, "u***@example.com"
	body = e.form("/signin", url.Values{"flow_id": {"flow-1"}, "email": {goodEmail}, "password": {goodPassword}}, signInFlowCookie()).Body.String()
	for _, want := range []string{"We sent a code to u***@example.com", `name="sent_method" value="email"`, `name="sent_to" value="u***@example.com"`,
		"Send a new code</button>", `autocomplete="one-time-code"`, "someone knows your password"} {
		if !strings.Contains(body, want) {
			t.Errorf("email page lacks %s", want)
		}
	}
	if strings.Contains(body, `name="remember"`) || strings.Contains(body, "/signin/code/method") {
		t.Errorf("email page offers remember or other methods")
	}
}

func TestSignInCodePageSubmit(t *testing.T) {
	e := newEnv(t, false)
	rec := e.form("/signin/code", signInCodeForm("method", "totp", "code", " 123456 ", "remember", "1", "return_to", "/account/security"), signInFlowCookie())
	if rec.Code != 303 || rec.Header().Get("Location") != "/account/security" {
		t.Fatalf("right code: %d %v", rec.Code, rec.Header())
	}
	in := e.signIn.lastCode
	if in.FlowID != "flow-1" || in.FlowSecret != "flow-secret" || in.Method != mamoru.MethodTOTP || in.Code != "123456" || !in.Remember || in.Credential != nil {
		t.Errorf("step %+v", in)
	}
	c := setCookies(rec)
	if !strings.HasPrefix(c[SessionCookie], SessionCookie+"=tok-new;") || !strings.Contains(c[FlowCookie], "Max-Age=0") || c[DeviceCookie] == "" {
		t.Errorf("cookies %v", c)
	}

	// Without the box: not remembered. What people type goes as typed.
	e.form("/signin/code", signInCodeForm("method", "backup_code", "code", "ａｂｃｄ－１２３４"), signInFlowCookie())
	if in := e.signIn.lastCode; in.Remember || in.Method != mamoru.MethodBackupCode || in.Code != "ａｂｃｄ－１２３４" {
		t.Errorf("step %+v", in)
	}

	// A security key: the assertion's JSON as it came.
	rec = e.form("/signin/code", signInCodeForm("method", "webauthn", "credential", goodAssertion, "remember", "1"), signInFlowCookie())
	if rec.Code != 303 || string(e.signIn.lastCode.Credential) != goodAssertion || e.signIn.lastCode.Method != mamoru.MethodWebAuthn ||
		!e.signIn.lastCode.Remember {
		t.Errorf("webauthn: %d %+v", rec.Code, e.signIn.lastCode)
	}

	// Refused without asking the service: no assertion, an overlong code.
	before := len(e.signIn.list())
	rec = e.form("/signin/code", signInCodeForm("method", "webauthn"), signInFlowCookie())
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "can&#39;t use security keys or passkeys") {
		t.Errorf("webauthn without assertion: %d", rec.Code)
	}
	rec = e.form("/signin/code", signInCodeForm("method", "totp", "code", strings.Repeat("1", 65)), signInFlowCookie())
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), e.cat.T("en", "error.invalid_code", nil)) {
		t.Errorf("long code: %d", rec.Code)
	}
	if len(e.signIn.list()) != before {
		t.Errorf("service called: %v", e.signIn.list()[before:])
	}

	// A wrong code: the same method again, with the error, the box as it was.
	rec = e.form("/signin/code", signInCodeForm("method", "backup_code", "code", "nope", "remember", "1"), signInFlowCookie())
	body := rec.Body.String()
	if rec.Code != 400 || !strings.Contains(body, e.cat.T("en", "error.invalid_code", nil)) || !strings.Contains(body, `name="method" value="backup_code">`) ||
		!strings.Contains(body, `name="remember" value="1" checked`) || setCookies(rec)[SessionCookie] != "" {
		t.Errorf("wrong code: %d %s", rec.Code, body)
	}

	// The flow is over (or the cookie gone): the sign-in form, a new flow.
	rec = e.form("/signin/code", signInCodeForm("method", "totp", "code", "123456"))
	body = rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, `name="password"`) || !strings.Contains(body, e.cat.T("en", "error.flow_expired", nil)) ||
		!strings.HasPrefix(setCookies(rec)[FlowCookie], FlowCookie+"=flow-secret;") {
		t.Errorf("expired: %d %s", rec.Code, body)
	}

	// An assertion the service cannot read: the security key's error text.
	e.signIn.codeErr = mamoru.Errorf(mamoru.EInvalidRequest, "unreadable assertion")
	rec = e.form("/signin/code", signInCodeForm("method", "webauthn", "credential", "{}"), signInFlowCookie())
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "Your security key or passkey could not be used") ||
		!strings.Contains(rec.Body.String(), `data-webauthn="get"`) {
		t.Errorf("unreadable assertion: %d", rec.Code)
	}

	// The checkpoint's refusals stay on the page, as before.
	for code, status := range map[string]int{mamoru.ERateLimited: 429, mamoru.ELocked: 401, mamoru.ECaptchaRequired: 429} {
		e.signIn.codeErr = &mamoru.Error{Code: code, Message: "fake", RetryAfter: 7 * time.Second}
		rec = e.form("/signin/code", signInCodeForm("method", "totp", "code", "123456"), signInFlowCookie())
		if rec.Code != status || !strings.Contains(rec.Body.String(), e.cat.T("en", "error."+code, nil)) ||
			!strings.Contains(rec.Body.String(), `action="/signin/code"`) || rec.Header().Get("Retry-After") != "7" {
			t.Errorf("%s: %d %v", code, rec.Code, rec.Header())
		}
	}
}

func TestSignInCodeResendPage(t *testing.T) {
	e := newEnv(t, false)
	e.signIn.methods = []mamoru.Method{mamoru.MethodTOTP, mamoru.MethodSMS}
	rec := e.form("/signin/code/resend", signInCodeForm("method", "sms", "methods", "totp,sms"), signInFlowCookie())
	body := rec.Body.String()
	if rec.Code != 200 || e.signIn.lastMethod != mamoru.MethodSMS || e.signIn.lastRef != (mamoru.FlowRef{FlowID: "flow-1", FlowSecret: "flow-secret"}) {
		t.Fatalf("send: %d %v %+v", rec.Code, e.signIn.lastMethod, e.signIn.lastRef)
	}
	for _, want := range []string{"We sent a code to ***5678", `name="sent_method" value="sms"`, `name="method" value="sms">`,
		`autocomplete="one-time-code"`, "Send a new code</button>", `name="remember" value="1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("sent page lacks %s", want)
		}
	}
	if strings.Contains(body, `class="notice"`) {
		t.Errorf("a first code is not a new code")
	}
	// Again: a new code, said so.
	body = e.form("/signin/code/resend", signInCodeForm("method", "sms", "methods", "totp,sms", "sent_method", "sms", "sent_to", "***5678"), signInFlowCookie()).Body.String()
	if !strings.Contains(body, e.cat.T("en", "web.notice.code_resent", nil)) {
		t.Errorf("resend: no notice")
	}

	// Too soon: the wait; too often: no more codes.
	e.signIn.resendErr = &mamoru.Error{Code: mamoru.ERateLimited, Message: "fake", RetryAfter: 19500 * time.Millisecond}
	rec = e.form("/signin/code/resend", signInCodeForm("method", "sms", "sent_method", "sms", "sent_to", "***5678"), signInFlowCookie())
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "20" || !strings.Contains(rec.Body.String(), "in 20 seconds") ||
		!strings.Contains(rec.Body.String(), `id="code"`) {
		t.Errorf("too soon: %d %v", rec.Code, rec.Header())
	}
	e.signIn.resendErr = &mamoru.Error{Code: mamoru.ERateLimited, Message: "fake", RetryAfter: 8 * time.Minute}
	rec = e.form("/signin/code/resend", signInCodeForm("method", "sms"), signInFlowCookie())
	if rec.Code != 429 || !strings.Contains(rec.Body.String(), "No more codes can be sent") {
		t.Errorf("too often: %d", rec.Code)
	}
	e.signIn.resendErr = nil

	// The flow is over: the sign-in form.
	rec = e.form("/signin/code/resend", signInCodeForm("method", "sms"))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `name="password"`) {
		t.Errorf("expired: %d", rec.Code)
	}
}

func TestSignInWebAuthnOptionsPage(t *testing.T) {
	e := newEnv(t, false)
	e.signIn.options = []byte(signInTestOptions)
	rec := e.form("/signin/webauthn/options", signInCodeForm("method", "webauthn", "remember", "1"), signInFlowCookie())
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" ||
		rec.Body.String() != `{"publicKey":{"challenge":"Y2hhbGxlbmdl","rpId":"id.example.com","userVerification":"preferred"}}` {
		t.Fatalf("options: %d %s", rec.Code, rec.Body)
	}
	if e.signIn.lastRef != (mamoru.FlowRef{FlowID: "flow-1", FlowSecret: "flow-secret"}) {
		t.Errorf("flow %+v", e.signIn.lastRef)
	}
	// Refusals: the JSON envelope, in the page's language.
	rec = e.form("/signin/webauthn/options", signInCodeForm(), langCookie(mamoru.Japanese))
	if d := decodeError(t, rec.Body.Bytes()); rec.Code != 400 || d.Code != mamoru.EFlowExpired || d.Message != e.cat.T("ja", "error.flow_expired", nil) {
		t.Errorf("expired: %d %+v", rec.Code, d)
	}
}

func TestSignInPasskeyPage(t *testing.T) {
	e := newEnv(t, false)
	body := e.get("/signin?return_to=%2Faccount%2Fsecurity").Body.String()
	for _, want := range []string{
		`<form method="post" action="/signin/passkey" class="card" data-webauthn="get" data-webauthn-conditional="1" data-options-url="/signin/passkey/options"`,
		`autocomplete="username webauthn"`, `<script src="/static/webauthn.js" async></script>`, "Sign in with a passkey</button>",
		`<p class="error" role="alert" data-webauthn-error hidden></p>`, `name="return_to" value="/account/security"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("sign-in page lacks %s", want)
		}
	}
	if e.signIn.has("BeginPasskey") {
		t.Errorf("the page began a passkey flow")
	}

	// WebAuthn off: a refusal that says so.
	rec := e.form("/signin/passkey/options", url.Values{})
	if d := decodeError(t, rec.Body.Bytes()); rec.Code != 400 || d.Message != e.cat.T("en", "web.signin.passkey_unavailable", nil) || setCookies(rec)[PasskeyCookie] != "" {
		t.Errorf("off: %d %+v", rec.Code, d)
	}

	e.signIn.options = []byte(signInTestOptions)
	rec = e.form("/signin/passkey/options", url.Values{"return_to": {"/account/security"}}, signInFlowCookie())
	if rec.Code != 200 || rec.Body.String() != `{"publicKey":{"challenge":"Y2hhbGxlbmdl","rpId":"id.example.com","userVerification":"preferred"}}` {
		t.Fatalf("options: %d %s", rec.Code, rec.Body)
	}
	c := setCookies(rec)
	if !strings.HasPrefix(c[PasskeyCookie], PasskeyCookie+"=flow-pk.pk-secret; Path=/; Expires=") || !strings.HasSuffix(c[PasskeyCookie], "; HttpOnly; Secure; SameSite=Lax") {
		t.Errorf("passkey cookie %q", c[PasskeyCookie])
	}
	if c[FlowCookie] != "" {
		t.Errorf("the password form's flow was touched: %q", c[FlowCookie])
	}

	// The assertion signs in as the password does.
	rec = e.form("/signin/passkey", url.Values{"credential": {goodAssertion}, "return_to": {"/account/security"}}, signInPasskeyCookie())
	c = setCookies(rec)
	if rec.Code != 303 || rec.Header().Get("Location") != "/account/security" || !strings.HasPrefix(c[SessionCookie], SessionCookie+"="+goodToken+";") ||
		c[DeviceCookie] == "" || !strings.Contains(c[PasskeyCookie], "Max-Age=0") {
		t.Fatalf("passkey: %d %v", rec.Code, c)
	}
	if in := e.signIn.lastPasskey; in.FlowID != "flow-pk" || in.FlowSecret != "pk-secret" || string(in.Credential) != goodAssertion {
		t.Errorf("step %+v", in)
	}
	if !e.signIn.req.NewDevice || !strings.HasPrefix(c[DeviceCookie], DeviceCookie+"="+e.signIn.req.DeviceID+".") {
		t.Errorf("device %+v, cookie %q", e.signIn.req, c[DeviceCookie])
	}

	// An assertion that does not verify: the sign-in form, the flow over.
	rec = e.form("/signin/passkey", url.Values{"credential": {`{"id":"x"}`}}, signInPasskeyCookie())
	c = setCookies(rec)
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), "The passkey could not be verified") || !strings.Contains(rec.Body.String(), `name="password"`) ||
		!strings.Contains(c[PasskeyCookie], "Max-Age=0") || c[SessionCookie] != "" || c[DeviceCookie] != "" {
		t.Errorf("bad assertion: %d %v", rec.Code, c)
	}
	// No assertion (no script): refused without asking.
	before := len(e.signIn.list())
	if rec = e.form("/signin/passkey", url.Values{}, signInPasskeyCookie()); rec.Code != 400 || len(e.signIn.list()) != before+1 { // +1: Begin of the form's flow
		t.Errorf("no assertion: %d %v", rec.Code, e.signIn.list()[before:])
	}
	// A password must be set first: what the password step shows.
	e.signIn.passkeyStatus = mamoru.PasswordResetRequired
	rec = e.form("/signin/passkey", url.Values{"credential": {goodAssertion}}, signInPasskeyCookie())
	body = rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, e.cat.T("en", "web.signin.password_reset_required", nil)) ||
		!strings.Contains(body, e.cat.T("en", "web.signin.reset_link", nil)) || setCookies(rec)[SessionCookie] != "" {
		t.Errorf("reset required: %d %s", rec.Code, body)
	}
	// An assertion the service cannot read.
	e.signIn.passkeyErr = mamoru.Errorf(mamoru.EInvalidRequest, "unreadable assertion")
	rec = e.form("/signin/passkey", url.Values{"credential": {"{}"}}, signInPasskeyCookie())
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "The passkey could not be verified") {
		t.Errorf("unreadable assertion: %d", rec.Code)
	}
	// The checkpoint: its error and wait.
	e.signIn.passkeyErr = &mamoru.Error{Code: mamoru.ERateLimited, Message: "fake", RetryAfter: 3 * time.Second}
	rec = e.form("/signin/passkey", url.Values{"credential": {goodAssertion}}, signInPasskeyCookie())
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "3" || !strings.Contains(rec.Body.String(), `name="password"`) {
		t.Errorf("rate limited: %d %v", rec.Code, rec.Header())
	}
}

// TestSignInTwoStepPagesNeedCSRF: every page POST of the second step and
// of passkeys is refused without the form token, before any service call.
func TestSignInTwoStepPagesNeedCSRF(t *testing.T) {
	for _, p := range []string{"/signin/code", "/signin/code/resend", "/signin/code/method", "/signin/webauthn/options",
		"/signin/passkey/options", "/signin/passkey"} {
		e := newEnv(t, false)
		e.signIn.options = []byte(signInTestOptions)
		vals := signInCodeForm("method", "totp", "code", "123456", "credential", goodAssertion, csrfField, "x"+testCSRF[1:])
		rec := e.form(p, vals, signInFlowCookie(), signInPasskeyCookie())
		if rec.Code != http.StatusForbidden || len(e.signIn.list()) != 0 {
			t.Errorf("%s: %d %v", p, rec.Code, e.signIn.list())
		}
		if c := setCookies(rec); c[SessionCookie] != "" || c[PasskeyCookie] != "" {
			t.Errorf("%s: cookies %v", p, c)
		}
	}
}

func TestAPISignInChallengeMethods(t *testing.T) {
	e := newEnv(t, false)
	e.signIn.status, e.signIn.methods = mamoru.ChallengeRequired, []mamoru.Method{mamoru.MethodTOTP, mamoru.MethodSMS}
	rec := e.api("POST", "/api/v1/signin", `{"email":"user@example.com","password":"x"}`)
	if rec.Code != 200 || rec.Body.String() != `{"status":"challenge_required","flow_id":"flow-api","methods":["totp","sms"]}` {
		t.Errorf("no code sent: %d %s", rec.Code, rec.Body)
	}
	e.signIn.methods, e.signIn.sentTo = []mamoru.Method{mamoru.MethodSMS, mamoru.MethodBackupCode}, "***5678"
	rec = e.api("POST", "/api/v1/signin", `{"email":"user@example.com","password":"x"}`)
	if rec.Code != 200 || rec.Body.String() != `{"status":"challenge_required","flow_id":"flow-api","sent_to":"***5678","methods":["sms","backup_code"]}` {
		t.Errorf("code sent: %d %s", rec.Code, rec.Body)
	}
}

func TestAPISignInCodeFields(t *testing.T) {
	e := newEnv(t, false)
	flow := &http.Cookie{Name: FlowCookie, Value: "flow-secret-api"}
	rec := e.api("POST", "/api/v1/signin/code", `{"flow_id":"flow-api","method":"totp","code":"123456","remember":true}`, flow)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"signed_in"`) {
		t.Fatalf("totp: %d %s", rec.Code, rec.Body)
	}
	if in := e.signIn.lastCode; in.Method != mamoru.MethodTOTP || !in.Remember || in.FlowSecret != "flow-secret-api" || in.FlowID != "flow-api" {
		t.Errorf("step %+v", in)
	}
	// As before: no method is the first one, not remembered.
	if rec = e.api("POST", "/api/v1/signin/code", `{"flow_id":"flow-api","code":"123456"}`, flow); rec.Code != 200 {
		t.Errorf("old body: %d %s", rec.Code, rec.Body)
	}
	if in := e.signIn.lastCode; in.Method != "" || in.Remember || in.Credential != nil {
		t.Errorf("step %+v", in)
	}
	// The assertion is passed on byte for byte.
	rec = e.api("POST", "/api/v1/signin/code", `{"flow_id":"flow-api","method":"webauthn","credential":`+goodAssertion+`}`, flow)
	if rec.Code != 200 || string(e.signIn.lastCode.Credential) != goodAssertion {
		t.Errorf("webauthn: %d %s %q", rec.Code, rec.Body, e.signIn.lastCode.Credential)
	}
	// Refused before the service counts a try.
	before := len(e.signIn.list())
	for body, code := range map[string]string{
		`{"flow_id":"flow-api","method":"webauthn"}`:                          mamoru.EInvalidRequest,
		`{"flow_id":"flow-api","method":"webauthn","credential":null}`:        mamoru.EInvalidRequest,
		`{"flow_id":"flow-api","method":"webauthn","credential":"{\"a\":1}"}`: mamoru.EInvalidJSON,
		`{"flow_id":"flow-api","code":"` + strings.Repeat("9", 65) + `"}`:     mamoru.EInvalidCode,
		`{"flow_id":"flow-api","code":"123456","remember":"yes"}`:             mamoru.EInvalidJSON,
		`{"flow_id":"flow-api","code":"123456","flow_secret":"x"}`:            mamoru.EInvalidJSON,
	} {
		rec := e.api("POST", "/api/v1/signin/code", body, flow)
		if d := decodeError(t, rec.Body.Bytes()); rec.Code != 400 || d.Code != code {
			t.Errorf("%s: %d %+v", body, rec.Code, d)
		}
	}
	if len(e.signIn.list()) != before {
		t.Errorf("service called: %v", e.signIn.list()[before:])
	}
}

func TestAPISignInCodeResend(t *testing.T) {
	e := newEnv(t, false)
	e.signIn.methods = []mamoru.Method{mamoru.MethodTOTP, mamoru.MethodSMS}
	flow := &http.Cookie{Name: FlowCookie, Value: "flow-secret-api"}
	rec := e.api("POST", "/api/v1/signin/code/resend", `{"flow_id":"flow-api","method":"sms"}`, flow)
	if rec.Code != 200 || rec.Body.String() != `{"status":"challenge_required","flow_id":"flow-api","methods":["totp","sms"],"sent_to":"***5678"}` {
		t.Fatalf("resend: %d %s", rec.Code, rec.Body)
	}
	if e.signIn.lastMethod != mamoru.MethodSMS || e.signIn.lastRef.FlowSecret != "flow-secret-api" {
		t.Errorf("call %v %+v", e.signIn.lastMethod, e.signIn.lastRef)
	}
	e.signIn.resendErr = &mamoru.Error{Code: mamoru.ERateLimited, Message: "fake", RetryAfter: 25 * time.Second}
	rec = e.api("POST", "/api/v1/signin/code/resend", `{"flow_id":"flow-api","method":"sms"}`, flow)
	if d := decodeError(t, rec.Body.Bytes()); rec.Code != 429 || d.Code != mamoru.ERateLimited || rec.Header().Get("Retry-After") != "25" {
		t.Errorf("rate limited: %d %v %+v", rec.Code, rec.Header(), d)
	}
	rec = e.api("POST", "/api/v1/signin/code/resend", `{"flow_id":"flow-api","method":"sms"}`)
	if d := decodeError(t, rec.Body.Bytes()); rec.Code != 400 || d.Code != mamoru.EFlowExpired {
		t.Errorf("no cookie: %d %+v", rec.Code, d)
	}
}

func TestAPISignInWebAuthnOptions(t *testing.T) {
	e := newEnv(t, false)
	e.signIn.options = []byte(signInTestOptions)
	flow := &http.Cookie{Name: FlowCookie, Value: "flow-secret-api"}
	rec := e.api("POST", "/api/v1/signin/webauthn/options", `{"flow_id":"flow-api"}`, flow)
	if rec.Code != 200 || rec.Body.String() != `{"publicKey":{"challenge":"Y2hhbGxlbmdl","rpId":"id.example.com","userVerification":"preferred"}}` {
		t.Fatalf("options: %d %s", rec.Code, rec.Body)
	}
	if e.signIn.lastRef != (mamoru.FlowRef{FlowID: "flow-api", FlowSecret: "flow-secret-api"}) {
		t.Errorf("flow %+v", e.signIn.lastRef)
	}
	rec = e.api("POST", "/api/v1/signin/webauthn/options", `{"flow_id":"flow-api"}`)
	if d := decodeError(t, rec.Body.Bytes()); rec.Code != 400 || d.Code != mamoru.EFlowExpired {
		t.Errorf("no cookie: %d %+v", rec.Code, d)
	}
}

func TestAPISignInPasskey(t *testing.T) {
	e := newEnv(t, false)
	rec := e.api("POST", "/api/v1/signin/passkey/options", "")
	if d := decodeError(t, rec.Body.Bytes()); rec.Code != 400 || d.Code != mamoru.EInvalidRequest || d.Message != e.cat.T("en", "web.signin.passkey_unavailable", nil) {
		t.Errorf("off: %d %+v", rec.Code, d)
	}
	e.signIn.options = []byte(signInTestOptions)
	rec = e.api("POST", "/api/v1/signin/passkey/options", "{}")
	if rec.Code != 200 || rec.Body.String() != `{"flow_id":"flow-pk","publicKey":{"challenge":"Y2hhbGxlbmdl","rpId":"id.example.com","userVerification":"preferred"}}` {
		t.Fatalf("options: %d %s", rec.Code, rec.Body)
	}
	if !strings.HasPrefix(setCookies(rec)[PasskeyCookie], PasskeyCookie+"=flow-pk.pk-secret;") {
		t.Errorf("cookie %q", setCookies(rec)[PasskeyCookie])
	}

	body := `{"flow_id":"flow-pk","credential":` + goodAssertion + `}`
	rec = e.api("POST", "/api/v1/signin/passkey", body, signInPasskeyCookie())
	var got map[string]any
	json.Unmarshal(rec.Body.Bytes(), &got)
	c := setCookies(rec)
	if rec.Code != 200 || got["status"] != "signed_in" || got["token"] != goodToken || got["session"] == nil || got["account"] == nil ||
		c[SessionCookie] == "" || c[DeviceCookie] == "" || !strings.Contains(c[PasskeyCookie], "Max-Age=0") {
		t.Fatalf("passkey: %d %s %v", rec.Code, rec.Body, c)
	}
	if in := e.signIn.lastPasskey; in.FlowSecret != "pk-secret" || string(in.Credential) != goodAssertion {
		t.Errorf("step %+v", in)
	}
	// Without flow_id: the cookie's flow.
	if rec = e.api("POST", "/api/v1/signin/passkey", `{"credential":`+goodAssertion+`}`, signInPasskeyCookie()); rec.Code != 200 {
		t.Errorf("cookie's flow: %d %s", rec.Code, rec.Body)
	}

	for _, c := range []struct {
		name, body string
		cookie     bool
		status     int
		code       string
	}{
		{"no cookie", body, false, 400, mamoru.EFlowExpired},
		{"other flow", `{"flow_id":"flow-other","credential":` + goodAssertion + `}`, true, 400, mamoru.EFlowExpired},
		{"bad assertion", `{"flow_id":"flow-pk","credential":{"id":"x"}}`, true, 400, mamoru.EInvalidCode},
		{"no assertion", `{"flow_id":"flow-pk"}`, true, 400, mamoru.EInvalidRequest},
		{"flow secret in the body", `{"flow_id":"flow-pk","flow_secret":"pk-secret","credential":{}}`, true, 400, mamoru.EInvalidJSON},
	} {
		var cookies []*http.Cookie
		if c.cookie {
			cookies = append(cookies, signInPasskeyCookie())
		}
		rec := e.api("POST", "/api/v1/signin/passkey", c.body, cookies...)
		if d := decodeError(t, rec.Body.Bytes()); rec.Code != c.status || d.Code != c.code || setCookies(rec)[SessionCookie] != "" {
			t.Errorf("%s: %d %+v", c.name, rec.Code, d)
		}
	}

	e.signIn.passkeyStatus = mamoru.PasswordResetRequired
	rec = e.api("POST", "/api/v1/signin/passkey", body, signInPasskeyCookie())
	if rec.Code != 200 || rec.Body.String() != `{"status":"password_reset_required","flow_id":"flow-pk"}` || setCookies(rec)[SessionCookie] != "" {
		t.Errorf("reset required: %d %s", rec.Code, rec.Body)
	}
	e.signIn.passkeyStatus = mamoru.InvalidCredentials
	rec = e.api("POST", "/api/v1/signin/passkey", body, signInPasskeyCookie())
	if rec.Code != 401 || rec.Body.String() != `{"status":"invalid_credentials"}` {
		t.Errorf("unusable account: %d %s", rec.Code, rec.Body)
	}
	if slices.Contains(e.signIn.list(), "Begin") {
		t.Errorf("the API began a password flow")
	}
}
