package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// The fake TwoStepService's fixed answers.
const (
	fakeTOTPSecret     = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	fakeTOTPState      = "totp-state"
	fakeRegisterState  = "register-state"
	fakeStepUpState    = "step-up-state"
	fakeOptions        = `{"publicKey":{"challenge":"Y2hhbGxlbmdl","timeout":60000}}`
	fakeCredential     = `{"id":"cred-1","type":"public-key","response":{"clientDataJSON":"e30"}}`
	steppedUpToken     = "tok-stepped-up"
	steppedUpSessionID = "sess-stepped-up"
)

// fakeTwoStep is a TwoStepService for one account. Changes need
// steppedUp (else step_up_required); a step-up with the right proof sets
// it and hands out a fresh session.
type fakeTwoStep struct {
	calls
	sessions *fakeSessions

	mu            sync.Mutex
	steppedUp     bool
	methods       []mamoru.TwoStepMethod
	stepUpMethods []mamoru.Method
	phoneVerified bool
	remembered    int
	err           error // changes and step-ups fail with it (after the step-up check) when set

	lastStepUp     mamoru.StepUpInput
	lastName       string
	lastCredential string
	lastPasskey    bool
}

func newFakeTwoStep(sessions *fakeSessions) *fakeTwoStep {
	return &fakeTwoStep{sessions: sessions, stepUpMethods: []mamoru.Method{mamoru.MethodPassword}}
}

// withMethods gives the account one method of each kind.
func (f *fakeTwoStep) withMethods() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.methods = []mamoru.TwoStepMethod{
		{ID: "m-app", Kind: mamoru.CredentialTOTP, Name: "Pixel", CreatedAt: testNow.Add(-72 * time.Hour), LastUsedAt: testNow.Add(-time.Hour)},
		{ID: "m-key", Kind: mamoru.CredentialWebAuthn, Name: "YubiKey <5>", CreatedAt: testNow.Add(-48 * time.Hour)},
		{ID: "m-pk", Kind: mamoru.CredentialWebAuthn, Name: "iPhone", Passkey: true, CreatedAt: testNow.Add(-24 * time.Hour)},
		{ID: "m-codes", Kind: mamoru.CredentialBackupCodes, CreatedAt: testNow.Add(-24 * time.Hour), Remaining: 3},
		{ID: "m-sms", Kind: mamoru.CredentialSMS, CreatedAt: testNow.Add(-2 * time.Hour)},
	}
	f.stepUpMethods = []mamoru.Method{mamoru.MethodWebAuthn, mamoru.MethodTOTP, mamoru.MethodSMS, mamoru.MethodBackupCode}
	f.phoneVerified = true
	f.remembered = 2
}

func (f *fakeTwoStep) setSteppedUp(v bool) {
	f.mu.Lock()
	f.steppedUp = v
	f.mu.Unlock()
}

// change runs a change: step_up_required without a step-up, else err.
func (f *fakeTwoStep) change(name string) error {
	f.add(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.steppedUp {
		return mamoru.Errorf(mamoru.EStepUpRequired, "step up first")
	}
	return f.err
}

func (f *fakeTwoStep) TwoStep(ctx context.Context, s *mamoru.Session) (*mamoru.TwoStepStatus, error) {
	f.add("TwoStep")
	f.mu.Lock()
	defer f.mu.Unlock()
	st := &mamoru.TwoStepStatus{
		Methods:           append([]mamoru.TwoStepMethod(nil), f.methods...),
		RememberedDevices: f.remembered,
		PhoneVerified:     f.phoneVerified,
		StepUpMethods:     append([]mamoru.Method(nil), f.stepUpMethods...),
	}
	if f.steppedUp {
		st.StepUpUntil = testNow.Add(5 * time.Minute)
	}
	return st, nil
}

func (f *fakeTwoStep) BeginTOTP(ctx context.Context, s *mamoru.Session) (*mamoru.TOTPSetup, error) {
	if err := f.change("BeginTOTP"); err != nil {
		return nil, err
	}
	return &mamoru.TOTPSetup{Secret: fakeTOTPSecret, URL: "otpauth://totp/mamoru:user@example.com?issuer=mamoru&secret=" + fakeTOTPSecret,
		QRPNG: []byte("\x89PNG fake"), State: fakeTOTPState}, nil
}

func (f *fakeTwoStep) ConfirmTOTP(ctx context.Context, s *mamoru.Session, state, code, name string, r mamoru.Request) error {
	f.lastName = name
	if state != fakeTOTPState || code != "123456" {
		f.add("ConfirmTOTP")
		return mamoru.Errorf(mamoru.EInvalidCode, "wrong code")
	}
	return f.change("ConfirmTOTP")
}

func (f *fakeTwoStep) BeginWebAuthnRegistration(ctx context.Context, s *mamoru.Session, passkey bool) ([]byte, string, error) {
	f.lastPasskey = passkey
	if err := f.change("BeginWebAuthnRegistration"); err != nil {
		return nil, "", err
	}
	return []byte(fakeOptions), fakeRegisterState, nil
}

func (f *fakeTwoStep) FinishWebAuthnRegistration(ctx context.Context, s *mamoru.Session, state string, response []byte, name string, r mamoru.Request) error {
	f.lastName, f.lastCredential = name, string(response)
	if err := f.change("FinishWebAuthnRegistration"); err != nil {
		return err
	}
	if state != fakeRegisterState || string(response) != fakeCredential {
		return mamoru.Errorf(mamoru.EInvalidCode, "does not verify")
	}
	return nil
}

func (f *fakeTwoStep) NewBackupCodes(ctx context.Context, s *mamoru.Session, r mamoru.Request) ([]string, error) {
	if err := f.change("NewBackupCodes"); err != nil {
		return nil, err
	}
	var codes []string
	for i := 0; i < 10; i++ {
		codes = append(codes, "code"+string(rune('a'+i))+"2345")
	}
	return codes, nil
}

func (f *fakeTwoStep) EnableSMS(ctx context.Context, s *mamoru.Session, r mamoru.Request) error {
	return f.change("EnableSMS")
}

func (f *fakeTwoStep) RemoveMethod(ctx context.Context, s *mamoru.Session, id string, r mamoru.Request) error {
	if err := f.change("RemoveMethod:" + id); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.methods {
		if m.ID == id {
			return nil
		}
	}
	return mamoru.Errorf(mamoru.ENotFound, "no such method")
}

func (f *fakeTwoStep) ForgetDevices(ctx context.Context, s *mamoru.Session, r mamoru.Request) error {
	return f.change("ForgetDevices")
}

func (f *fakeTwoStep) SendStepUpCode(ctx context.Context, s *mamoru.Session, r mamoru.Request) (string, error) {
	f.add("SendStepUpCode")
	if f.err != nil {
		return "", f.err
	}
	return "***5678", nil
}

func (f *fakeTwoStep) StepUpWebAuthnOptions(ctx context.Context, s *mamoru.Session) ([]byte, string, error) {
	f.add("StepUpWebAuthnOptions")
	return []byte(fakeOptions), fakeStepUpState, nil
}

func (f *fakeTwoStep) StepUp(ctx context.Context, s *mamoru.Session, in mamoru.StepUpInput, r mamoru.Request) (*mamoru.Session, string, error) {
	f.add("StepUp:" + string(in.Method))
	f.lastStepUp = in
	if f.err != nil {
		return nil, "", f.err
	}
	ok := false
	switch in.Method {
	case mamoru.MethodPassword:
		ok = in.Password == goodPassword
	case mamoru.MethodTOTP, mamoru.MethodSMS, mamoru.MethodBackupCode:
		ok = in.Code == "123456"
	case mamoru.MethodWebAuthn:
		ok = in.State == fakeStepUpState && string(in.Credential) == fakeCredential
	}
	if !ok {
		return nil, "", mamoru.Errorf(mamoru.EInvalidCode, "wrong proof")
	}
	f.setSteppedUp(true)
	fresh := &mamoru.Session{ID: steppedUpSessionID, AccountID: s.AccountID, CreatedAt: testNow, LastSeenAt: testNow,
		ExpiresAt: testNow.Add(24 * time.Hour), VerifiedAt: testNow, AAL: 2}
	f.sessions.add2(steppedUpToken, fresh, f.sessions.accounts[s.AccountID])
	return fresh, steppedUpToken, nil
}

// stepUpLocation is where a refused change sends the browser.
func stepUpLocation(next string) string {
	return "/account/step-up?next=" + url.QueryEscape(next)
}

// twoStepPageCases are the new pages for TestEveryPageRendersInEveryLanguage.
func twoStepPageCases() []pageCase {
	methods := func(e *env) { e.twoStep.withMethods() }
	up := func(e *env) { e.twoStep.withMethods(); e.twoStep.setSteppedUp(true) }
	upOnly := func(e *env) { e.twoStep.setSteppedUp(true) }
	return []pageCase{
		{"two-step empty", false, nil, getPage("/account/two-step", true), 200},
		{"two-step methods", false, methods, getPage("/account/two-step", true), 200},
		{"two-step stepped up", false, up, getPage("/account/two-step?notice=two_step_app_added", true), 200},
		{"two-step stepped up empty", false, upOnly, getPage("/account/two-step?notice=two_step_devices_forgotten", true), 200},
		{"two-step remove missing", false, up, postPage("/account/two-step/nope/remove", nil, true), 404},
		{"two-step totp", false, upOnly, getPage("/account/two-step/totp", true), 200},
		{"two-step totp wrong code", false, upOnly, postPage("/account/two-step/totp", url.Values{"state": {fakeTOTPState}, "secret": {fakeTOTPSecret}, "code": {"000000"}}, true), 400},
		{"two-step backup codes", false, up, postPage("/account/two-step/backup", nil, true), 200},
		{"step-up password", false, nil, getPage("/account/step-up?next=%2Faccount%2Ftwo-step", true), 200},
		{"step-up password wrong", false, nil, postPage("/account/step-up", url.Values{"method": {"password"}, "password": {"x"}}, true), 400},
		{"step-up webauthn", false, methods, getPage("/account/step-up?next=%2Faccount%2Ftwo-step", true), 200},
		{"step-up totp", false, methods, getPage("/account/step-up?method=totp", true), 200},
		{"step-up backup code", false, methods, getPage("/account/step-up?method=backup_code", true), 200},
		{"step-up sms", false, methods, getPage("/account/step-up?method=sms", true), 200},
		{"step-up sms sent", false, methods, getPage("/account/step-up?method=sms&sent=1", true), 200},
		{"step-up locked", false, func(e *env) { e.twoStep.err = mamoru.Errorf(mamoru.ELocked, "locked") },
			postPage("/account/step-up", url.Values{"method": {"password"}, "password": {goodPassword}}, true), 401},
	}
}

func TestStepUpRequiredRedirects(t *testing.T) {
	e := newEnv(t, false)
	e.twoStep.withMethods()
	for p, vals := range map[string]url.Values{
		"/account/two-step/totp":           {"state": {fakeTOTPState}, "code": {"123456"}},
		"/account/two-step/webauthn":       {"passkey": {"1"}, "credential": {fakeCredential}},
		"/account/two-step/backup":         nil,
		"/account/two-step/sms":            nil,
		"/account/two-step/m-app/remove":   nil,
		"/account/two-step/devices/forget": nil,
		"/account/two-step/m-codes/remove": nil,
		"/account/two-step/m-sms/remove":   nil,
		"/account/two-step/m-pk/remove":    nil,
		"/account/two-step/unknown/remove": nil,
		"/account/two-step/m-key/remove":   nil,
	} {
		rec := e.form(p, vals, sessionCookie())
		if rec.Code != 303 || rec.Header().Get("Location") != stepUpLocation("/account/two-step") {
			t.Errorf("POST %s: %d %q", p, rec.Code, rec.Header().Get("Location"))
		}
		if setCookies(rec)[SessionCookie] != "" {
			t.Errorf("POST %s set the session cookie", p)
		}
	}
	// Adding an app comes back to the app's page.
	rec := e.get("/account/two-step/totp", sessionCookie())
	if rec.Code != 303 || rec.Header().Get("Location") != stepUpLocation("/account/two-step/totp") || setCookies(rec)[TOTPSetupCookie] != "" {
		t.Errorf("GET totp: %d %v", rec.Code, rec.Header())
	}
	// The options of webauthn.js answer JSON, translated.
	rec = e.form("/account/two-step/webauthn/options", url.Values{"passkey": {"0"}}, sessionCookie())
	if rec.Code != 403 || decodeError(t, rec.Body.Bytes()).Message != testCatalog.T("en", "error.step_up_required", nil) {
		t.Errorf("options: %d %s", rec.Code, rec.Body)
	}
	if setCookies(rec)[WebAuthnAddCookie] != "" {
		t.Errorf("options set the state cookie")
	}

	// The other sensitive changes.
	e.accounts.err = mamoru.Errorf(mamoru.EStepUpRequired, "x")
	rec = e.form("/account/password", url.Values{"current_password": {"a"}, "new_password": {"b"}}, sessionCookie())
	if rec.Code != 303 || rec.Header().Get("Location") != stepUpLocation("/account/security") {
		t.Errorf("password: %d %v", rec.Code, rec.Header())
	}
	e.profile.err = mamoru.Errorf(mamoru.EStepUpRequired, "x")
	for p, back := range map[string]string{"/account/email": "/account/email", "/account/phone": "/account/phone", "/account/phone/remove": "/account/phone"} {
		rec := e.form(p, url.Values{"email": {"a@example.net"}, "phone": {"+819012345678"}, "password": {"pw"}}, sessionCookie())
		if rec.Code != 303 || rec.Header().Get("Location") != stepUpLocation(back) {
			t.Errorf("%s: %d %v", p, rec.Code, rec.Header())
		}
	}
	// Other errors still re-render the form.
	e.accounts.err = mamoru.Errorf(mamoru.EPasswordIncorrect, "x")
	if rec := e.form("/account/password", url.Values{"current_password": {"a"}, "new_password": {"b"}}, sessionCookie()); rec.Code != 400 {
		t.Errorf("password incorrect: %d", rec.Code)
	}
}

func TestStepUpNext(t *testing.T) {
	for in, want := range map[string]string{
		"/account/two-step":             "/account/two-step",
		"/account/two-step/totp":        "/account/two-step/totp",
		"/account/security?x=1":         "/account/security?x=1",
		"":                              "/account",
		"/account":                      "/account",
		"/signin":                       "/account",
		"//evil.example/account/":       "/account",
		"https://evil.example/account/": "/account",
		"/\\evil.example":               "/account",
		"/account/../signin":            "/account",
		"/account/%2e%2e/signin":        "/account",
		"/account//evil.example":        "/account",
		"/account/x#frag":               "/account",
		"javascript:alert(1)":           "/account",
		"/account/step-up?next=/x":      "/account",
		"/account/\x00":                 "/account",
		"account/two-step":              "/account",
	} {
		if got := stepUpNext(in); got != want {
			t.Errorf("stepUpNext(%q) = %q, want %q", in, got, want)
		}
	}

	e := newEnv(t, false)
	// The page keeps only a good next.
	body := e.get("/account/step-up?next="+url.QueryEscape("https://evil.example/"), sessionCookie()).Body.String()
	if !strings.Contains(body, `name="next" value="/account"`) || strings.Contains(body, "evil.example") {
		t.Errorf("page next: %s", body)
	}
	// And the POST goes nowhere else.
	for _, next := range []string{"https://evil.example/", "//evil.example", "/\\evil.example", "/account/../../x"} {
		rec := e.form("/account/step-up", url.Values{"method": {"password"}, "password": {goodPassword}, "next": {next}}, sessionCookie())
		if rec.Code != 303 || rec.Header().Get("Location") != "/account" {
			t.Errorf("POST next %q: %d %q", next, rec.Code, rec.Header().Get("Location"))
		}
	}
}

func TestStepUpPage(t *testing.T) {
	e := newEnv(t, false)
	// Without 2-step methods: the password.
	body := e.get("/account/step-up?next=%2Faccount%2Ftwo-step", sessionCookie()).Body.String()
	if !strings.Contains(body, `name="method" value="password"`) || !strings.Contains(body, `name="next" value="/account/two-step"`) ||
		strings.Contains(body, "data-webauthn") {
		t.Errorf("password page: %s", body)
	}
	// A wrong password stays, with the error, and no new cookie.
	rec := e.form("/account/step-up", url.Values{"method": {"password"}, "password": {"wrong"}, "next": {"/account/two-step"}}, sessionCookie())
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), testCatalog.T("en", "error.invalid_code", nil)) ||
		!strings.Contains(rec.Body.String(), `name="next" value="/account/two-step"`) || setCookies(rec)[SessionCookie] != "" {
		t.Errorf("wrong password: %d %v %s", rec.Code, setCookies(rec), rec.Body)
	}
	// The right one: a fresh session cookie, and back to next.
	rec = e.form("/account/step-up", url.Values{"method": {"password"}, "password": {goodPassword}, "next": {"/account/two-step"}}, sessionCookie())
	if rec.Code != 303 || rec.Header().Get("Location") != "/account/two-step" {
		t.Fatalf("step-up: %d %v", rec.Code, rec.Header())
	}
	if c := setCookies(rec)[SessionCookie]; !strings.HasPrefix(c, SessionCookie+"="+steppedUpToken+";") || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "Secure") {
		t.Errorf("session cookie %q", c)
	}
	// With it, the settings page offers the actions.
	body = e.get("/account/two-step", &http.Cookie{Name: SessionCookie, Value: steppedUpToken}).Body.String()
	if !strings.Contains(body, `action="/account/two-step/backup"`) || !strings.Contains(body, `src="/static/webauthn.js"`) {
		t.Errorf("stepped-up page: %s", body)
	}

	// With methods: the first is offered, the others are links.
	e = newEnv(t, false)
	e.twoStep.withMethods()
	body = e.get("/account/step-up?next=%2Faccount%2Ftwo-step", sessionCookie()).Body.String()
	for _, want := range []string{`data-webauthn="get"`, `data-options-url="/account/step-up/webauthn/options"`, `name="credential"`,
		`data-webauthn-error hidden`, `src="/static/webauthn.js"`, `href="/account/step-up?method=totp&amp;next=%2Faccount%2Ftwo-step"`,
		`href="/account/step-up?method=backup_code&amp;next=%2Faccount%2Ftwo-step"`, `data-cancel-text="`} {
		if !strings.Contains(body, want) {
			t.Errorf("webauthn page lacks %s", want)
		}
	}
	// A method the account does not have falls back to the first.
	if body := e.get("/account/step-up?method=password", sessionCookie()).Body.String(); !strings.Contains(body, `name="method" value="webauthn"`) {
		t.Errorf("unknown method not replaced")
	}

	// Security key: the options set the state cookie, the form sends it.
	rec = e.form("/account/step-up/webauthn/options", url.Values{"next": {"/account/two-step"}}, sessionCookie())
	if rec.Code != 200 || rec.Body.String() != fakeOptions || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("options: %d %s", rec.Code, rec.Body)
	}
	c := setCookies(rec)[StepUpStateCookie]
	for _, want := range []string{StepUpStateCookie + "=" + fakeStepUpState + ";", "Path=/", "Max-Age=600", "HttpOnly", "Secure", "SameSite=Strict"} {
		if !strings.Contains(c, want) {
			t.Errorf("state cookie %q lacks %s", c, want)
		}
	}
	if strings.Contains(strings.ToLower(c), "domain=") {
		t.Errorf("state cookie has a domain: %q", c)
	}
	rec = e.form("/account/step-up", url.Values{"method": {"webauthn"}, "credential": {fakeCredential}, "next": {"/account/two-step"}},
		sessionCookie(), &http.Cookie{Name: StepUpStateCookie, Value: fakeStepUpState})
	if rec.Code != 303 || rec.Header().Get("Location") != "/account/two-step" || !strings.Contains(setCookies(rec)[StepUpStateCookie], "Max-Age=0") ||
		!strings.HasPrefix(setCookies(rec)[SessionCookie], SessionCookie+"="+steppedUpToken) {
		t.Errorf("webauthn step-up: %d %v", rec.Code, rec.Header())
	}
	if in := e.twoStep.lastStepUp; in.State != fakeStepUpState || string(in.Credential) != fakeCredential || in.Method != mamoru.MethodWebAuthn {
		t.Errorf("input %+v", in)
	}

	// SMS: send, then the code field; the code is trimmed.
	e.twoStep.setSteppedUp(false)
	rec = e.form("/account/step-up/sms", url.Values{"next": {"/account/two-step"}}, sessionCookie())
	if rec.Code != 303 || rec.Header().Get("Location") != "/account/step-up?method=sms&next=%2Faccount%2Ftwo-step&sent=1" || !e.twoStep.has("SendStepUpCode") {
		t.Fatalf("send: %d %v", rec.Code, rec.Header())
	}
	e.sessions.accounts["acct-1"].Phone = "+819012345678"
	body = e.get(rec.Header().Get("Location"), sessionCookie()).Body.String()
	if !strings.Contains(body, `name="method" value="sms"`) || !strings.Contains(body, `name="code"`) || !strings.Contains(body, "***5678") {
		t.Errorf("sms page: %s", body)
	}
	rec = e.form("/account/step-up", url.Values{"method": {"sms"}, "code": {" 123456 "}, "next": {"/account/phone"}}, sessionCookie())
	if rec.Code != 303 || rec.Header().Get("Location") != "/account/phone" || e.twoStep.lastStepUp.Code != "123456" {
		t.Errorf("sms step-up: %d %v %+v", rec.Code, rec.Header(), e.twoStep.lastStepUp)
	}
	// Too soon for another code: the page, with Retry-After.
	e.twoStep.err = &mamoru.Error{Code: mamoru.ERateLimited, Message: "x", RetryAfter: 30 * time.Second}
	rec = e.form("/account/step-up/sms", url.Values{"next": {"/account/two-step"}}, sessionCookie())
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "30" || !strings.Contains(rec.Body.String(), testCatalog.T("en", "error.rate_limited", nil)) {
		t.Errorf("rate limited: %d %v", rec.Code, rec.Header())
	}
	// Locked: the lock's text, like sign-in.
	e.twoStep.err = mamoru.Errorf(mamoru.ELocked, "x")
	rec = e.form("/account/step-up", url.Values{"method": {"totp"}, "code": {"123456"}}, sessionCookie())
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), testCatalog.T("en", "error.locked", nil)) || setCookies(rec)[SessionCookie] != "" {
		t.Errorf("locked: %d %s", rec.Code, rec.Body)
	}

	// Signed out: to sign-in; options: a JSON 401.
	rec = e.get("/account/step-up?next=%2Faccount%2Ftwo-step")
	if rec.Code != 303 || !strings.HasPrefix(rec.Header().Get("Location"), "/signin?return_to=") {
		t.Errorf("signed out: %d %v", rec.Code, rec.Header())
	}
	rec = e.form("/account/step-up/webauthn/options", nil)
	if rec.Code != 401 || decodeError(t, rec.Body.Bytes()).Code != "unauthorized" {
		t.Errorf("options signed out: %d %s", rec.Code, rec.Body)
	}
}

func TestTwoStepSettingsPage(t *testing.T) {
	e := newEnv(t, false)
	e.twoStep.withMethods()
	body := e.get("/account/two-step", sessionCookie()).Body.String()
	for _, want := range []string{"Authenticator app", "Security key", "Passkey", "Backup codes", "Text message (SMS)",
		"Pixel", "YubiKey &lt;5&gt;", "3 of 10 left", "Remembered devices: 2", "Never",
		`href="` + stepUpLocation("/account/two-step") + `"`, `href="` + stepUpLocation("/account/two-step/totp") + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Not stepped up: no forms that act, no ceremony.
	for _, bad := range []string{`action="/account/two-step/`, "data-webauthn", "<script"} {
		if strings.Contains(body, bad) {
			t.Errorf("not stepped up, yet the page has %s", bad)
		}
	}
	// Stepped up: the forms.
	e.twoStep.setSteppedUp(true)
	body = e.get("/account/two-step", sessionCookie()).Body.String()
	for _, want := range []string{`action="/account/two-step/m-key/remove"`, `action="/account/two-step/devices/forget"`,
		`action="/account/two-step/backup"`, "Get new backup codes", `data-webauthn="create"`,
		`data-options-url="/account/two-step/webauthn/options"`, `name="passkey" value="1"`, `name="passkey" value="0"`,
		`href="/account/two-step/totp"`, `data-exists-text="`} {
		if !strings.Contains(body, want) {
			t.Errorf("stepped-up page lacks %q", want)
		}
	}
	if strings.Contains(body, `action="/account/two-step/sms"`) {
		t.Errorf("SMS offered although it is on")
	}
	// The account and security pages link here.
	for _, p := range []string{"/account", "/account/security"} {
		if !strings.Contains(e.get(p, sessionCookie()).Body.String(), `href="/account/two-step"`) {
			t.Errorf("%s does not link to the 2-step page", p)
		}
	}

	// The actions.
	for p, want := range map[string]string{
		"/account/two-step/sms":            "two_step_sms_added",
		"/account/two-step/m-key/remove":   "two_step_removed",
		"/account/two-step/devices/forget": "two_step_devices_forgotten",
	} {
		rec := e.form(p, nil, sessionCookie())
		if rec.Code != 303 || rec.Header().Get("Location") != "/account/two-step?notice="+want {
			t.Errorf("%s: %d %v", p, rec.Code, rec.Header())
		}
	}
	if !e.twoStep.has("RemoveMethod:m-key") {
		t.Errorf("remove: %v", e.twoStep.list())
	}
	// A service error other than the step-up: the page with it.
	rec := e.form("/account/two-step/nope/remove", nil, sessionCookie())
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), testCatalog.T("en", "error.not_found", nil)) || !strings.Contains(rec.Body.String(), "Pixel") {
		t.Errorf("remove unknown: %d", rec.Code)
	}

	// Security key and passkey: the options set the state cookie; the
	// finish reads it and clears it.
	rec = e.form("/account/two-step/webauthn/options", url.Values{"passkey": {"1"}, "name": {"x"}}, sessionCookie())
	if rec.Code != 200 || rec.Body.String() != fakeOptions || !e.twoStep.lastPasskey {
		t.Fatalf("options: %d %s", rec.Code, rec.Body)
	}
	if c := setCookies(rec)[WebAuthnAddCookie]; !strings.Contains(c, "Max-Age=600") || !strings.Contains(c, "SameSite=Strict") || !strings.Contains(c, "HttpOnly") {
		t.Errorf("state cookie %q", c)
	}
	rec = e.form("/account/two-step/webauthn", url.Values{"passkey": {"1"}, "name": {" iPhone "}, "credential": {fakeCredential}},
		sessionCookie(), &http.Cookie{Name: WebAuthnAddCookie, Value: fakeRegisterState})
	if rec.Code != 303 || rec.Header().Get("Location") != "/account/two-step?notice=two_step_passkey_added" ||
		!strings.Contains(setCookies(rec)[WebAuthnAddCookie], "Max-Age=0") || e.twoStep.lastName != "iPhone" {
		t.Errorf("finish: %d %v %q", rec.Code, rec.Header(), e.twoStep.lastName)
	}
	// Without the cookie (another browser): the error, on the page.
	rec = e.form("/account/two-step/webauthn", url.Values{"passkey": {"0"}, "credential": {fakeCredential}}, sessionCookie())
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), testCatalog.T("en", "error.invalid_code", nil)) {
		t.Errorf("finish without state: %d", rec.Code)
	}

	// TwoStep not configured: 404.
	e.srv.twoStep = nil
	if rec := e.get("/account/two-step", sessionCookie()); rec.Code != 404 {
		t.Errorf("no service: %d", rec.Code)
	}
	if rec := e.get("/account/step-up", sessionCookie()); rec.Code != 404 {
		t.Errorf("no service, step-up: %d", rec.Code)
	}
}

func TestTwoStepTOTPPage(t *testing.T) {
	e := newEnv(t, false)
	e.twoStep.setSteppedUp(true)
	rec := e.get("/account/two-step/totp", sessionCookie())
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, `<img src="/account/two-step/totp/qr"`) || !strings.Contains(body, "JBSW Y3DP EHPK 3PXP") ||
		!strings.Contains(body, `name="state" value="`+fakeTOTPState+`"`) || !strings.Contains(body, `autocomplete="one-time-code"`) {
		t.Fatalf("page: %d %s", rec.Code, body)
	}
	// The page's policy stays the default: the QR code is a route.
	if rec.Header().Get("Content-Security-Policy") != wantCSP || strings.Contains(body, "data:") {
		t.Errorf("CSP %q", rec.Header().Get("Content-Security-Policy"))
	}
	setup := setCookies(rec)[TOTPSetupCookie]
	if !strings.Contains(setup, "Max-Age=600") || !strings.Contains(setup, "SameSite=Strict") || !strings.Contains(setup, "HttpOnly") {
		t.Errorf("setup cookie %q", setup)
	}
	value := strings.TrimPrefix(strings.SplitN(setup, ";", 2)[0], TOTPSetupCookie+"=")

	// The QR code, for this account only.
	rec = e.get("/account/two-step/totp/qr", sessionCookie(), &http.Cookie{Name: TOTPSetupCookie, Value: value})
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("qr: %d %v", rec.Code, rec.Header())
	}
	img, err := png.Decode(bytes.NewReader(rec.Body.Bytes()))
	if err != nil || img.Bounds().Dx() != totpQRSize {
		t.Errorf("qr image: %v", err)
	}
	for _, bad := range []string{"", "acct-2." + strings.SplitN(value, ".", 2)[1], "acct-1.!!", "acct-1." + base64.RawURLEncoding.EncodeToString([]byte("https://x"))} {
		if rec := e.get("/account/two-step/totp/qr", sessionCookie(), &http.Cookie{Name: TOTPSetupCookie, Value: bad}); rec.Code != 404 {
			t.Errorf("qr with %q: %d", bad, rec.Code)
		}
	}

	// A wrong code: the page again, with the same setup.
	rec = e.form("/account/two-step/totp", url.Values{"state": {fakeTOTPState}, "secret": {fakeTOTPSecret}, "code": {"000000"}, "name": {"Pixel"}}, sessionCookie())
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `name="state" value="`+fakeTOTPState+`"`) ||
		!strings.Contains(rec.Body.String(), `value="Pixel"`) || !strings.Contains(rec.Body.String(), "JBSW Y3DP") {
		t.Errorf("wrong code: %d %s", rec.Code, rec.Body)
	}
	// The right one.
	rec = e.form("/account/two-step/totp", url.Values{"state": {fakeTOTPState}, "code": {"123456"}, "name": {" Pixel "}}, sessionCookie())
	if rec.Code != 303 || rec.Header().Get("Location") != "/account/two-step?notice=two_step_app_added" ||
		!strings.Contains(setCookies(rec)[TOTPSetupCookie], "Max-Age=0") || e.twoStep.lastName != "Pixel" {
		t.Errorf("confirm: %d %v", rec.Code, rec.Header())
	}
	// The step-up ran out meanwhile: step up, then the list.
	e.twoStep.setSteppedUp(false)
	rec = e.form("/account/two-step/totp", url.Values{"state": {fakeTOTPState}, "code": {"123456"}}, sessionCookie())
	if rec.Code != 303 || rec.Header().Get("Location") != stepUpLocation("/account/two-step") {
		t.Errorf("expired step-up: %d %v", rec.Code, rec.Header())
	}
}

func TestBackupCodesPage(t *testing.T) {
	e := newEnv(t, false)
	e.twoStep.setSteppedUp(true)
	rec := e.form("/account/two-step/backup", nil, sessionCookie())
	body := rec.Body.String()
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-store" || strings.Count(body, "<li><code>") != 10 ||
		!strings.Contains(body, "codea2345") || !strings.Contains(body, testCatalog.T("en", "web.two_step_backup.old_ones", nil)) {
		t.Errorf("backup codes: %d %v %s", rec.Code, rec.Header(), body)
	}
	// Not stepped up: to the step-up page, no codes.
	e.twoStep.setSteppedUp(false)
	rec = e.form("/account/two-step/backup", nil, sessionCookie())
	if rec.Code != 303 || strings.Contains(rec.Body.String(), "codea2345") {
		t.Errorf("not stepped up: %d", rec.Code)
	}
}

func TestTwoStepAPI(t *testing.T) {
	e := newEnv(t, false)
	e.twoStep.withMethods()
	call := func(method, path, body string) *httptest.ResponseRecorder {
		return e.api(method, path, body, sessionCookie())
	}

	// The status.
	rec := call("GET", "/api/v1/account/two-step", "")
	var st struct {
		Methods []struct {
			ID         string  `json:"id"`
			Kind       string  `json:"kind"`
			Name       string  `json:"name"`
			Passkey    bool    `json:"passkey"`
			CreatedAt  string  `json:"created_at"`
			LastUsedAt *string `json:"last_used_at"`
			Remaining  *int    `json:"remaining"`
		} `json:"methods"`
		RememberedDevices int      `json:"remembered_devices"`
		PhoneVerified     bool     `json:"phone_verified"`
		StepUpUntil       *string  `json:"step_up_until"`
		StepUpMethods     []string `json:"step_up_methods"`
	}
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil || rec.Code != 200 {
		t.Fatalf("status: %d %v", rec.Code, err)
	}
	if len(st.Methods) != 5 || st.Methods[0].Kind != "totp" || st.Methods[0].LastUsedAt == nil || st.Methods[1].LastUsedAt != nil ||
		!st.Methods[2].Passkey || st.Methods[3].Kind != "backup_codes" || st.Methods[3].Remaining == nil || *st.Methods[3].Remaining != 3 ||
		st.Methods[0].Remaining != nil || st.RememberedDevices != 2 || !st.PhoneVerified || st.StepUpUntil != nil ||
		strings.Join(st.StepUpMethods, ",") != "webauthn,totp,sms,backup_code" || st.Methods[0].CreatedAt != "2025-02-26T09:30:00Z" {
		t.Errorf("status %+v", st)
	}

	// Every change needs a step-up: 403 step_up_required.
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/v1/account/two-step/totp", ""},
		{"POST", "/api/v1/account/two-step/totp/confirm", `{"state":"` + fakeTOTPState + `","code":"123456","name":""}`},
		{"POST", "/api/v1/account/two-step/webauthn/options", `{"passkey":true}`},
		{"POST", "/api/v1/account/two-step/webauthn", `{"state":"` + fakeRegisterState + `","credential":` + fakeCredential + `,"name":"k"}`},
		{"POST", "/api/v1/account/two-step/backup-codes", ""},
		{"POST", "/api/v1/account/two-step/sms", "{}"},
		{"DELETE", "/api/v1/account/two-step/m-app", ""},
		{"DELETE", "/api/v1/account/two-step/devices", ""},
	} {
		rec := call(c.method, c.path, c.body)
		if rec.Code != 403 || decodeError(t, rec.Body.Bytes()).Code != "step_up_required" {
			t.Errorf("%s %s: %d %s", c.method, c.path, rec.Code, rec.Body)
		}
		// Not signed in: 401.
		if rec := e.api(c.method, c.path, c.body); rec.Code != 401 {
			t.Errorf("%s %s signed out: %d", c.method, c.path, rec.Code)
		}
	}

	// Step up: a wrong password, then the right one.
	rec = call("POST", "/api/v1/step-up", `{"method":"password","password":"nope"}`)
	if rec.Code != 400 || decodeError(t, rec.Body.Bytes()).Code != "invalid_code" {
		t.Errorf("wrong step-up: %d %s", rec.Code, rec.Body)
	}
	rec = call("POST", "/api/v1/step-up", `{"method":"webauthn","credential":"not an object","state":"x"}`)
	if rec.Code != 400 || decodeError(t, rec.Body.Bytes()).Code != "invalid_json" {
		t.Errorf("credential string: %d %s", rec.Code, rec.Body)
	}
	rec = call("POST", "/api/v1/step-up/webauthn/options", "")
	var opts map[string]json.RawMessage
	if json.Unmarshal(rec.Body.Bytes(), &opts) != nil || rec.Code != 200 || string(opts["state"]) != `"`+fakeStepUpState+`"` || opts["publicKey"] == nil {
		t.Errorf("step-up options: %d %s", rec.Code, rec.Body)
	}
	rec = call("POST", "/api/v1/step-up/sms", "")
	if rec.Code != 202 || rec.Body.String() != `{"status":"code_sent","sent_to":"***5678"}` {
		t.Errorf("step-up sms: %d %s", rec.Code, rec.Body)
	}
	rec = call("POST", "/api/v1/step-up", `{"method":"webauthn","credential":`+fakeCredential+`,"state":"`+fakeStepUpState+`"}`)
	if rec.Code != 200 || rec.Body.String() != `{"status":"stepped_up","token":"`+steppedUpToken+`"}` ||
		!strings.HasPrefix(setCookies(rec)[SessionCookie], SessionCookie+"="+steppedUpToken+";") {
		t.Fatalf("step-up: %d %s %v", rec.Code, rec.Body, setCookies(rec))
	}
	bearer := func(method, path, body string) *httptest.ResponseRecorder {
		req := newJSONRequest(method, path, body, "application/json")
		req.Header.Set("Authorization", "Bearer "+steppedUpToken)
		return e.do(req)
	}
	rec = bearer("GET", "/api/v1/account/two-step", "")
	if !strings.Contains(rec.Body.String(), `"step_up_until":"2025-03-01T09:35:00Z"`) {
		t.Errorf("stepped-up status: %s", rec.Body)
	}

	// The changes.
	rec = bearer("POST", "/api/v1/account/two-step/totp", "")
	var setup struct {
		Secret string `json:"secret"`
		URL    string `json:"url"`
		QRPNG  string `json:"qr_png"`
		State  string `json:"state"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &setup); err != nil || rec.Code != 200 || setup.Secret != fakeTOTPSecret ||
		!strings.HasPrefix(setup.URL, "otpauth://") || setup.QRPNG != base64.StdEncoding.EncodeToString([]byte("\x89PNG fake")) || setup.State != fakeTOTPState {
		t.Errorf("begin totp: %d %s", rec.Code, rec.Body)
	}
	rec = bearer("POST", "/api/v1/account/two-step/totp/confirm", `{"state":"`+fakeTOTPState+`","code":"000000","name":"x"}`)
	if rec.Code != 400 || decodeError(t, rec.Body.Bytes()).Code != "invalid_code" {
		t.Errorf("confirm wrong: %d %s", rec.Code, rec.Body)
	}
	rec = bearer("POST", "/api/v1/account/two-step/totp/confirm", `{"state":"`+fakeTOTPState+`","code":"123456","name":" Pixel "}`)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"methods":[`) || e.twoStep.lastName != "Pixel" {
		t.Errorf("confirm: %d %s", rec.Code, rec.Body)
	}
	rec = bearer("POST", "/api/v1/account/two-step/webauthn/options", `{"passkey":true}`)
	if json.Unmarshal(rec.Body.Bytes(), &opts) != nil || rec.Code != 200 || string(opts["state"]) != `"`+fakeRegisterState+`"` || !e.twoStep.lastPasskey {
		t.Errorf("register options: %d %s", rec.Code, rec.Body)
	}
	rec = bearer("POST", "/api/v1/account/two-step/webauthn", `{"state":"`+fakeRegisterState+`","credential":`+fakeCredential+`,"name":"Key"}`)
	if rec.Code != 200 || e.twoStep.lastCredential != fakeCredential {
		t.Errorf("register: %d %s", rec.Code, rec.Body)
	}
	rec = bearer("POST", "/api/v1/account/two-step/webauthn", `{"state":"`+fakeRegisterState+`","credential":[1],"name":"Key"}`)
	if rec.Code != 400 || decodeError(t, rec.Body.Bytes()).Code != "invalid_json" {
		t.Errorf("register array: %d %s", rec.Code, rec.Body)
	}
	rec = bearer("POST", "/api/v1/account/two-step/backup-codes", "")
	var codes struct {
		Codes []string `json:"codes"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &codes); err != nil || rec.Code != 200 || len(codes.Codes) != 10 || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("backup codes: %d %s %v", rec.Code, rec.Body, rec.Header())
	}
	if rec := bearer("POST", "/api/v1/account/two-step/sms", ""); rec.Code != 200 {
		t.Errorf("sms: %d %s", rec.Code, rec.Body)
	}
	if rec := bearer("DELETE", "/api/v1/account/two-step/m-app", ""); rec.Code != 204 || !e.twoStep.has("RemoveMethod:m-app") {
		t.Errorf("remove: %d %s", rec.Code, rec.Body)
	}
	if rec := bearer("DELETE", "/api/v1/account/two-step/nope", ""); rec.Code != 404 || decodeError(t, rec.Body.Bytes()).Code != "not_found" {
		t.Errorf("remove unknown: %d %s", rec.Code, rec.Body)
	}
	if rec := bearer("DELETE", "/api/v1/account/two-step/devices", ""); rec.Code != 204 || !e.twoStep.has("ForgetDevices") || e.twoStep.has("RemoveMethod:devices") {
		t.Errorf("forget devices: %d %s", rec.Code, rec.Body)
	}

	// Strict JSON, and cross-site browsers are refused before anything runs.
	if rec := bearer("POST", "/api/v1/step-up", `{"method":"password","extra":1}`); rec.Code != 400 || decodeError(t, rec.Body.Bytes()).Code != "invalid_json" {
		t.Errorf("unknown field: %d", rec.Code)
	}
	n := len(e.twoStep.list())
	r := newJSONRequest("POST", "/api/v1/step-up", `{"method":"password","password":"`+goodPassword+`"}`, "application/json")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.AddCookie(sessionCookie())
	if rec := e.do(r); rec.Code != 403 || decodeError(t, rec.Body.Bytes()).Code != "forbidden" || len(e.twoStep.list()) != n {
		t.Errorf("cross-site: %d", rec.Code)
	}

	// No 2-step service: not_found.
	e.srv.twoStep = nil
	if rec := bearer("GET", "/api/v1/account/two-step", ""); rec.Code != 404 || decodeError(t, rec.Body.Bytes()).Code != "not_found" {
		t.Errorf("no service: %d %s", rec.Code, rec.Body)
	}
}
