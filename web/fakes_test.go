package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/catalog"
)

// testNow is the fake clock's time.
var testNow = time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)

// calls records which fake methods ran.
type calls struct {
	mu  sync.Mutex
	got []string
}

func (c *calls) add(name string) {
	c.mu.Lock()
	c.got = append(c.got, name)
	c.mu.Unlock()
}

func (c *calls) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

func (c *calls) has(name string) bool {
	for _, n := range c.list() {
		if n == name {
			return true
		}
	}
	return false
}

// fakeAccounts is an AccountService whose methods return err (when set),
// and otherwise succeed.
type fakeAccounts struct {
	calls
	err        error
	panicWith  any
	lastSignUp mamoru.SignUpInput
	lastReset  mamoru.ResetInput
	lastChange mamoru.ChangePasswordInput
	sessions   *fakeSessions
}

func (f *fakeAccounts) run(name string) error {
	f.add(name)
	if f.panicWith != nil {
		panic(f.panicWith)
	}
	return f.err
}

func (f *fakeAccounts) SignUp(ctx context.Context, in mamoru.SignUpInput, r mamoru.Request) error {
	f.lastSignUp = in
	return f.run("SignUp")
}
func (f *fakeAccounts) ResendVerification(ctx context.Context, email string, r mamoru.Request) error {
	return f.run("ResendVerification")
}
func (f *fakeAccounts) VerifyEmail(ctx context.Context, email, code string) error {
	return f.run("VerifyEmail")
}
func (f *fakeAccounts) VerifyEmailLink(ctx context.Context, token string) error {
	return f.run("VerifyEmailLink")
}
func (f *fakeAccounts) ForgotPassword(ctx context.Context, email string, r mamoru.Request) error {
	return f.run("ForgotPassword")
}
func (f *fakeAccounts) CheckResetLink(ctx context.Context, token string) error {
	return f.run("CheckResetLink")
}
func (f *fakeAccounts) ResetPassword(ctx context.Context, in mamoru.ResetInput, r mamoru.Request) error {
	f.lastReset = in
	return f.run("ResetPassword")
}
func (f *fakeAccounts) ChangePassword(ctx context.Context, s *mamoru.Session, in mamoru.ChangePasswordInput, r mamoru.Request) (*mamoru.Session, string, error) {
	f.lastChange = in
	if err := f.run("ChangePassword"); err != nil {
		return nil, "", err
	}
	ns := &mamoru.Session{ID: "sess-new", AccountID: s.AccountID, CreatedAt: testNow, LastSeenAt: testNow, ExpiresAt: testNow.Add(24 * time.Hour)}
	f.sessions.add2("tok-new", ns, f.sessions.accounts[s.AccountID])
	return ns, "tok-new", nil
}
func (f *fakeAccounts) Account(ctx context.Context, id string) (*mamoru.Account, error) {
	f.add("Account")
	return nil, mamoru.Errorf(mamoru.ENotFound, "no")
}

// fakeSignIn knows one account: user@example.com / "correct horse".
type fakeSignIn struct {
	calls
	status mamoru.SignInStatus // when set, every password step gives it
	err    error
	last   mamoru.PasswordStep
	req    mamoru.Request // of the last password step
	flows  int

	// The second step and passkeys (twostep_signin_test.go): what the
	// calls got, and what they answer.
	methods       []mamoru.Method // challenge_required of the password step carries them
	sentTo        string          // and this
	lastCode      mamoru.CodeStep
	lastRef       mamoru.FlowRef // of ResendCode and WebAuthnOptions
	lastMethod    mamoru.Method  // of ResendCode
	lastPasskey   mamoru.PasskeyStep
	codeErr       error               // SubmitCode fails with it when set
	resendErr     error               // ResendCode fails with it when set
	options       []byte              // of WebAuthnOptions and BeginPasskey; nil: invalid_request (WebAuthn off)
	passkeyErr    error               // SubmitPasskey fails with it when set
	passkeyStatus mamoru.SignInStatus // SubmitPasskey answers it ("": signed_in)
}

const chromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

const (
	goodEmail    = "user@example.com"
	goodPassword = "correct horse battery"
	goodToken    = "tok-user-session-secret"
	// goodAssertion is the WebAuthn assertion the fake accepts.
	goodAssertion = `{"id":"cred-1","type":"public-key","response":{"signature":"c2ln"}}`
)

func (f *fakeSignIn) Begin(ctx context.Context, r mamoru.Request) (*mamoru.SignInStart, error) {
	f.add("Begin")
	f.flows++
	return &mamoru.SignInStart{FlowID: "flow-" + string(rune('0'+f.flows)), FlowSecret: "flow-secret"}, nil
}

func (f *fakeSignIn) Approval(ctx context.Context, in mamoru.ApprovalPoll, r mamoru.Request) (*mamoru.SignInResult, error) {
	return &mamoru.SignInResult{Status: mamoru.ApprovalRequired, FlowID: in.FlowID}, nil
}

func (f *fakeSignIn) ApprovalDecided(ctx context.Context, in mamoru.ApprovalPoll) (bool, error) {
	return false, nil
}

func (f *fakeSignIn) SubmitCode(ctx context.Context, in mamoru.CodeStep, r mamoru.Request) (*mamoru.SignInResult, error) {
	f.add("SubmitCode")
	f.lastCode = in
	if in.FlowSecret != "flow-secret" && in.FlowSecret != "flow-secret-api" {
		return nil, mamoru.Errorf(mamoru.EFlowExpired, "bad binding")
	}
	if f.codeErr != nil {
		return nil, f.codeErr
	}
	if in.Method == mamoru.MethodWebAuthn && string(in.Credential) == goodAssertion {
		in.Code = "123456"
	}
	if in.Code != "123456" {
		return nil, mamoru.Errorf(mamoru.EInvalidCode, "wrong code")
	}
	return &mamoru.SignInResult{
		Status: mamoru.SignedIn, FlowID: in.FlowID,
		Session: &mamoru.Session{ID: "sess-new", AccountID: "acct-1", ExpiresAt: testNow.Add(time.Hour)}, SessionToken: "tok-new",
		Account: &mamoru.Account{ID: "acct-1", Email: goodEmail, Language: mamoru.English},
	}, nil
}

func (f *fakeSignIn) ResendCode(ctx context.Context, in mamoru.FlowRef, m mamoru.Method, r mamoru.Request) (*mamoru.SignInResult, error) {
	f.add("ResendCode")
	f.lastRef, f.lastMethod = in, m
	if in.FlowSecret != "flow-secret" && in.FlowSecret != "flow-secret-api" {
		return nil, mamoru.Errorf(mamoru.EFlowExpired, "bad binding")
	}
	if f.resendErr != nil {
		return nil, f.resendErr
	}
	return &mamoru.SignInResult{Status: mamoru.ChallengeRequired, FlowID: in.FlowID, Methods: f.methods, SentTo: "***5678"}, nil
}

func (f *fakeSignIn) WebAuthnOptions(ctx context.Context, in mamoru.FlowRef, r mamoru.Request) ([]byte, error) {
	f.add("WebAuthnOptions")
	f.lastRef = in
	if in.FlowSecret != "flow-secret" && in.FlowSecret != "flow-secret-api" {
		return nil, mamoru.Errorf(mamoru.EFlowExpired, "bad binding")
	}
	if f.options == nil {
		return nil, mamoru.Errorf(mamoru.EInvalidRequest, "fake: WebAuthn is off")
	}
	return f.options, nil
}

func (f *fakeSignIn) BeginPasskey(ctx context.Context, r mamoru.Request) (*mamoru.PasskeyStart, error) {
	f.add("BeginPasskey")
	if f.options == nil {
		return nil, mamoru.Errorf(mamoru.EInvalidRequest, "fake: WebAuthn is off")
	}
	return &mamoru.PasskeyStart{FlowID: "flow-pk", FlowSecret: "pk-secret", Options: f.options}, nil
}

func (f *fakeSignIn) SubmitPasskey(ctx context.Context, in mamoru.PasskeyStep, r mamoru.Request) (*mamoru.SignInResult, error) {
	f.add("SubmitPasskey")
	f.lastPasskey, f.req = in, r
	switch {
	case f.passkeyErr != nil:
		return nil, f.passkeyErr
	case in.FlowID != "flow-pk" || in.FlowSecret != "pk-secret":
		return nil, mamoru.Errorf(mamoru.EFlowExpired, "bad binding")
	case string(in.Credential) != goodAssertion:
		return nil, mamoru.Errorf(mamoru.EInvalidCode, "assertion does not verify")
	case f.passkeyStatus != "":
		return &mamoru.SignInResult{Status: f.passkeyStatus, FlowID: in.FlowID}, nil
	}
	return &mamoru.SignInResult{Status: mamoru.SignedIn, FlowID: in.FlowID, Session: userSession(), SessionToken: goodToken, Account: userAccount()}, nil
}

func (f *fakeSignIn) SubmitPassword(ctx context.Context, in mamoru.PasswordStep, r mamoru.Request) (*mamoru.SignInResult, error) {
	f.add("SubmitPassword")
	f.last, f.req = in, r
	if f.err != nil {
		return nil, f.err
	}
	if in.FlowID != "" && (in.FlowSecret != "flow-secret" || in.FlowID == "expired") {
		return nil, mamoru.Errorf(mamoru.EFlowExpired, "bad binding")
	}
	flowID, secret := in.FlowID, ""
	if flowID == "" {
		flowID, secret = "flow-api", "flow-secret-api"
	}
	if f.status != "" {
		return &mamoru.SignInResult{Status: f.status, FlowID: flowID, FlowSecret: secret, Methods: f.methods, SentTo: f.sentTo}, nil
	}
	if in.Email != goodEmail || in.Password != goodPassword {
		return &mamoru.SignInResult{Status: mamoru.InvalidCredentials}, nil
	}
	return &mamoru.SignInResult{
		Status:       mamoru.SignedIn,
		FlowID:       flowID,
		Session:      userSession(),
		SessionToken: goodToken,
		Account:      userAccount(),
	}, nil
}

func userAccount() *mamoru.Account {
	return &mamoru.Account{ID: "acct-1", Email: goodEmail, Language: mamoru.English, Status: mamoru.StatusActive, EmailVerifiedAt: testNow}
}

func userSession() *mamoru.Session {
	return &mamoru.Session{ID: "sess-1", AccountID: "acct-1", CreatedAt: testNow.Add(-time.Hour), LastSeenAt: testNow,
		ExpiresAt: testNow.Add(30 * 24 * time.Hour), IP: "192.0.2.1", UserAgent: "Mozilla/5.0"}
}

// fakeSessions authenticates tokens it was given.
type fakeSessions struct {
	calls
	mu       sync.Mutex
	byToken  map[string]*mamoru.Session
	accounts map[string]*mamoru.Account
	others   []*mamoru.Session // extra sessions of acct-1 in lists
	err      error             // Authenticate fails with it when set
}

func newFakeSessions() *fakeSessions {
	f := &fakeSessions{byToken: map[string]*mamoru.Session{}, accounts: map[string]*mamoru.Account{}}
	f.add2(goodToken, userSession(), userAccount())
	f.others = []*mamoru.Session{{ID: "sess-2", AccountID: "acct-1", CreatedAt: testNow.Add(-48 * time.Hour),
		LastSeenAt: testNow.Add(-time.Hour), ExpiresAt: testNow.Add(time.Hour), IP: "198.51.100.7", UserAgent: chromeWindows}}
	return f
}

func (f *fakeSessions) add2(tok string, s *mamoru.Session, a *mamoru.Account) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byToken[tok] = s
	f.accounts[a.ID] = a
}

func (f *fakeSessions) Authenticate(ctx context.Context, token string, r mamoru.Request) (*mamoru.Session, *mamoru.Account, error) {
	f.add("Authenticate")
	if f.err != nil {
		return nil, nil, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.byToken[token]
	if !ok {
		return nil, nil, mamoru.Errorf(mamoru.EUnauthorized, "no session")
	}
	return s, f.accounts[s.AccountID], nil
}

func (f *fakeSessions) ListSessions(ctx context.Context, accountID string) ([]*mamoru.Session, error) {
	f.add("ListSessions")
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*mamoru.Session
	for _, s := range f.byToken {
		if s.AccountID == accountID {
			out = append(out, s)
		}
	}
	return append(out, f.others...), nil
}

func (f *fakeSessions) RevokeSession(ctx context.Context, accountID, sessionID string) error {
	f.add("RevokeSession:" + sessionID)
	if sessionID == "sess-1" || sessionID == "sess-2" {
		return nil
	}
	return mamoru.Errorf(mamoru.ENotFound, "not yours")
}

func (f *fakeSessions) RevokeAll(ctx context.Context, accountID string) error {
	f.add("RevokeAll")
	return nil
}

func (f *fakeSessions) SignOut(ctx context.Context, s *mamoru.Session) error {
	f.add("SignOut:" + s.ID)
	return nil
}

// fakeOutbox holds two messages.
type fakeOutbox struct{ calls }

func (f *fakeOutbox) messages() []*mamoru.Message {
	return []*mamoru.Message{
		{ID: "msg-old", To: "a@example.com", Subject: "Old", Text: "old", HTML: "<p>old</p>", CreatedAt: testNow.Add(-time.Hour)},
		{ID: "msg-new", To: goodEmail, Subject: "Verify your email", Text: "Open https://id.example.com/verify/link?token=abc to verify.",
			HTML: `<p style="color:red">Open <a href="https://id.example.com/verify/link?token=abc">this link</a>.</p>`, CreatedAt: testNow},
	}
}

func (f *fakeOutbox) ListMessages(ctx context.Context, flt mamoru.MessageFilter) ([]*mamoru.Message, error) {
	f.add("ListMessages")
	var out []*mamoru.Message
	for _, m := range f.messages() {
		if flt.To == "" || m.To == flt.To {
			out = append(out, m)
		}
	}
	return out, nil
}

func (f *fakeOutbox) MessageByID(ctx context.Context, id string) (*mamoru.Message, error) {
	f.add("MessageByID")
	for _, m := range f.messages() {
		if m.ID == id {
			return m, nil
		}
	}
	return nil, mamoru.Errorf(mamoru.ENotFound, "no message")
}

// env is a server on fakes.
type env struct {
	t        *testing.T
	srv      *Server
	accounts *fakeAccounts
	signIn   *fakeSignIn
	sessions *fakeSessions
	outbox   *fakeOutbox
	activity *fakeActivity
	secure   *fakeSecure
	profile  *fakeProfile
	twoStep  *fakeTwoStep // twostep_account_test.go
	logs     *syncBuffer
	cat      *catalog.Catalog
	ready    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var testCatalog = catalog.MustNew()

func newEnv(t *testing.T, dev bool) *env {
	t.Helper()
	e := &env{t: t, signIn: &fakeSignIn{}, sessions: newFakeSessions(), logs: &syncBuffer{}, cat: testCatalog}
	e.accounts = &fakeAccounts{sessions: e.sessions}
	e.activity, e.secure, e.profile = newFakeActivity(), newFakeSecure(), &fakeProfile{sessions: e.sessions}
	e.twoStep = newFakeTwoStep(e.sessions)
	base, _ := url.Parse("https://id.example.com")
	d := Deps{
		Accounts:      e.accounts,
		SignIn:        e.signIn,
		Sessions:      e.sessions,
		Activity:      e.activity,
		SecureAccount: e.secure,
		Profile:       e.profile,
		TwoStep:       e.twoStep,
		Catalog:       e.cat,
		Logger:        slog.New(slog.NewTextHandler(e.logs, nil)),
		Clock:         mamoru.NewFakeClock(testNow),
		Ready:         func(ctx context.Context) error { return e.ready },
		Config: Config{BaseURL: base, Dev: dev, MaxBodyBytes: 1024, PasswordMin: 8, PasswordMax: 64, Version: "test",
			DeviceKey: []byte("device-key-0123456789-0123456789-0123")},
	}
	if dev {
		e.outbox = &fakeOutbox{}
		d.Outbox = e.outbox
	}
	srv, err := NewServer(d)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	return e
}

// do serves req.
func (e *env) do(req *http.Request) *httptest.ResponseRecorder {
	e.t.Helper()
	if req.RemoteAddr == "" || req.RemoteAddr == "192.0.2.1:1234" {
		req.RemoteAddr = "203.0.113.9:5555"
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec
}

// api sends a JSON API request.
func (e *env) api(method, path, body string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "https://id.example.com"+path, strings.NewReader(body))
	if body != "" || method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return e.do(req)
}

const testCSRF = "csrf-token-0123456789-0123456789-0123456789"

// form sends a page form POST with a valid CSRF token and cookies.
func (e *env) form(path string, vals url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	if vals == nil {
		vals = url.Values{}
	}
	if _, ok := vals[csrfField]; !ok {
		vals.Set(csrfField, testCSRF)
	}
	req := httptest.NewRequest(http.MethodPost, "https://id.example.com"+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", "https://id.example.com")
	req.AddCookie(&http.Cookie{Name: CSRFCookie, Value: testCSRF})
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return e.do(req)
}

// get fetches a page.
func (e *env) get(path string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "https://id.example.com"+path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return e.do(req)
}

func sessionCookie() *http.Cookie { return &http.Cookie{Name: SessionCookie, Value: goodToken} }

// setCookies returns the Set-Cookie headers of a response by cookie name.
func setCookies(rec *httptest.ResponseRecorder) map[string]string {
	out := map[string]string{}
	for _, h := range rec.Result().Header.Values("Set-Cookie") {
		name, _, _ := strings.Cut(h, "=")
		out[name] = h
	}
	return out
}

// newJSONRequest builds an API request with the given content type ("" for none).
func newJSONRequest(method, path, body, contentType string) *http.Request {
	r := httptest.NewRequest(method, "https://id.example.com"+path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func httptestRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://id.example.com/", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	return r
}
