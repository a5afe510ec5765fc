package mfa_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpwebauthn "github.com/chromedp/cdproto/webauthn"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/internal/browsertest"
	"github.com/mamoru-id/mamoru/mfa"
)

// The browser tests run the ceremonies of mfa.WebAuthn in headless
// Chromium with CDP virtual authenticators, against a tiny site: a page
// whose script calls navigator.credentials with the options of the JSON
// endpoints below, which call mfa.WebAuthn and keep accounts, credentials
// and sessions in memory, standing in for the store and the flow. It is a
// test of the library with a real browser, not of the server's wiring.

// rpSite is the test site.
type rpSite struct {
	t *testing.T
	w *mfa.WebAuthn

	mu       sync.Mutex
	accounts map[string]*mamoru.Account
	creds    map[string]*mamoru.Credential // by ID
	sessions map[string]siteSession        // by token
	// lastPasskey is the session and the response of the last accepted
	// passkey sign-in, for the replay check.
	lastPasskey struct{ session, response []byte }
}

type siteSession struct {
	account string
	data    []byte
}

func newRPSite(t *testing.T) (*rpSite, string) {
	s := &rpSite{t: t, accounts: map[string]*mamoru.Account{}, creds: map[string]*mamoru.Credential{}, sessions: map[string]siteSession{}}
	for _, id := range []string{"ada", "bob"} {
		s.accounts[id] = account(id)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, rpPage) })
	mux.HandleFunc("POST /register/begin", s.handle(s.registerBegin))
	mux.HandleFunc("POST /register/finish", s.handle(s.registerFinish))
	mux.HandleFunc("POST /login/begin", s.handle(s.loginBegin))
	mux.HandleFunc("POST /login/finish", s.handle(s.loginFinish))
	mux.HandleFunc("POST /passkey/begin", s.handle(s.passkeyBegin))
	mux.HandleFunc("POST /passkey/finish", s.handle(s.passkeyFinish))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	addr := ts.Listener.Addr().(*net.TCPAddr)
	if !addr.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("the test server listens on %v, not on 127.0.0.1 only", addr)
	}
	base := fmt.Sprintf("http://localhost:%d", addr.Port)
	rpID, origin, err := mfa.RelyingParty(base)
	if err != nil {
		t.Fatal(err)
	}
	s.w, err = mfa.NewWebAuthn(mfa.WebAuthnConfig{RPID: rpID, RPDisplayName: "mamoru test", RPOrigins: []string{origin},
		UserHandleKey: handleKey(), LoginTimeout: 30 * time.Second, RegistrationTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s, base
}

// handle runs f with the request's body and writes its answer as JSON,
// or the error as {"code", "message"} with status 400.
func (s *rpSite) handle(f func(r *http.Request, body []byte) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var v any
		if err == nil {
			v, err = f(r, body)
		}
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			v = map[string]string{"code": mamoru.ErrorCode(err), "message": err.Error()}
		}
		json.NewEncoder(w).Encode(v)
	}
}

// begun keeps a session and returns the answer of a begin endpoint.
func (s *rpSite) begun(account string, options, session []byte) (any, error) {
	token := mamoru.NewSecret()
	s.sessions[token] = siteSession{account: account, data: session}
	return map[string]any{"token": token, "options": json.RawMessage(options)}, nil
}

// take removes and returns the session of the request's token: a session
// is used once, whatever the outcome.
func (s *rpSite) take(r *http.Request) (siteSession, error) {
	token := r.URL.Query().Get("token")
	ss, ok := s.sessions[token]
	if !ok {
		return ss, mamoru.Errorf(mamoru.EFlowExpired, "no such session")
	}
	delete(s.sessions, token)
	return ss, nil
}

// list returns the account's credentials, oldest first, as ListCredentials.
func (s *rpSite) list(accountID string) []*mamoru.Credential {
	var out []*mamoru.Credential
	for _, c := range s.creds {
		if c.AccountID == accountID {
			out = append(out, c)
		}
	}
	return out
}

// update stores c if its version is the stored one, as UpdateCredential.
func (s *rpSite) update(c *mamoru.Credential) error {
	if old := s.creds[c.ID]; old == nil || old.Version != c.Version {
		return mamoru.Errorf(mamoru.EConflict, "stale credential")
	}
	c.Version++
	s.creds[c.ID] = c
	return nil
}

func (s *rpSite) accountOf(r *http.Request) (*mamoru.Account, error) {
	a := s.accounts[r.URL.Query().Get("account")]
	if a == nil {
		return nil, mamoru.Errorf(mamoru.ENotFound, "no account")
	}
	return a, nil
}

func (s *rpSite) registerBegin(r *http.Request, _ []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.accountOf(r)
	if err != nil {
		return nil, err
	}
	passkey, _ := strconv.ParseBool(r.URL.Query().Get("passkey"))
	options, session, err := s.w.BeginRegistration(a, s.list(a.ID), passkey)
	if err != nil {
		return nil, err
	}
	return s.begun(a.ID, options, session)
}

func (s *rpSite) registerFinish(r *http.Request, body []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.take(r)
	if err != nil {
		return nil, err
	}
	c, err := s.w.FinishRegistration(s.accounts[ss.account], ss.data, body, r.URL.Query().Get("name"))
	if err != nil {
		return nil, err
	}
	for _, other := range s.creds {
		if bytes.Equal(other.WebAuthnID, c.WebAuthnID) {
			return nil, mamoru.Errorf(mamoru.EConflict, "WebAuthn ID taken")
		}
	}
	c.Version = 1
	s.creds[c.ID] = c
	return s.result(s.accounts[ss.account], c), nil
}

func (s *rpSite) loginBegin(r *http.Request, _ []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.accountOf(r)
	if err != nil {
		return nil, err
	}
	options, session, err := s.w.BeginLogin(a, s.list(a.ID))
	if err != nil {
		return nil, err
	}
	return s.begun(a.ID, options, session)
}

func (s *rpSite) loginFinish(r *http.Request, body []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.take(r)
	if err != nil {
		return nil, err
	}
	a := s.accounts[ss.account]
	c, err := s.w.FinishLogin(a, s.list(a.ID), ss.data, body)
	if err != nil {
		return nil, err
	}
	if err := s.update(c); err != nil {
		return nil, err
	}
	return s.result(a, c), nil
}

func (s *rpSite) passkeyBegin(r *http.Request, _ []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	options, session, err := s.w.BeginDiscoverableLogin()
	if err != nil {
		return nil, err
	}
	return s.begun("", options, session)
}

// lookup finds a credential's account as CredentialByWebAuthnID and
// ListCredentials would.
func (s *rpSite) lookup(id, _ []byte) (*mamoru.Account, []*mamoru.Credential, error) {
	for _, c := range s.creds {
		if bytes.Equal(c.WebAuthnID, id) {
			return s.accounts[c.AccountID], s.list(c.AccountID), nil
		}
	}
	return nil, nil, mamoru.Errorf(mamoru.ENotFound, "no credential")
}

func (s *rpSite) passkeyFinish(r *http.Request, body []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, err := s.take(r)
	if err != nil {
		return nil, err
	}
	a, c, err := s.w.FinishDiscoverableLogin(ss.data, body, s.lookup)
	if err != nil {
		return nil, err
	}
	if err := s.update(c); err != nil {
		return nil, err
	}
	s.lastPasskey.session, s.lastPasskey.response = ss.data, body
	return s.result(a, c), nil
}

// siteResult is the answer of a finish endpoint.
type siteResult struct {
	Account    string `json:"account"`
	Credential string `json:"credential"`
	WebAuthnID string `json:"webauthnID"`
	SignCount  uint32 `json:"signCount"`
	Passkey    bool   `json:"passkey"`
}

func (s *rpSite) result(a *mamoru.Account, c *mamoru.Credential) siteResult {
	info, err := mfa.ReadWebAuthn(c)
	if err != nil {
		s.t.Errorf("ReadWebAuthn: %v", err)
		return siteResult{}
	}
	return siteResult{Account: a.ID, Credential: c.ID, WebAuthnID: base64.RawURLEncoding.EncodeToString(c.WebAuthnID),
		SignCount: info.SignCount, Passkey: info.Passkey}
}

// rpPage calls the endpoints and the WebAuthn API. Each function returns
// {ok, value} or {ok: false, error}, so that the tests see refusals.
const rpPage = `<!doctype html><title>webauthn</title><p>mfa.WebAuthn test</p><ol id="log"></ol><script>
async function call(path, body) {
	const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body || {})});
	const j = await r.json();
	if (!r.ok) throw new Error(j.code + ": " + j.message);
	return j;
}
// attempt runs f and shows its outcome on the page, for the screenshots.
async function attempt(f) {
	let r;
	try { r = {ok: true, value: await f()}; } catch (e) { r = {ok: false, error: String(e)}; }
	const li = document.createElement("li");
	li.textContent = r.ok ? "ok " + JSON.stringify(r.value) : "refused " + r.error;
	document.getElementById("log").append(li);
	return r;
}
// create registers a new credential; finish=false leaves the registration
// unfinished (the authenticator keeps a credential the site never stored).
function create(account, passkey, name, finish) {
	return attempt(async () => {
		const b = await call("/register/begin?account=" + account + "&passkey=" + passkey);
		const cred = await navigator.credentials.create({publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(b.options.publicKey)});
		if (!finish) return {webauthnID: cred.id};
		return await call("/register/finish?token=" + b.token + "&name=" + encodeURIComponent(name), cred.toJSON());
	});
}
// secondFactor signs account in with a security key; allow, if given,
// replaces the allowed credential IDs, as a tampering client would.
function secondFactor(account, allow) {
	return attempt(async () => {
		const b = await call("/login/begin?account=" + account);
		if (allow) b.options.publicKey.allowCredentials = allow.map((id) => ({type: "public-key", id}));
		const cred = await navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(b.options.publicKey)});
		return await call("/login/finish?token=" + b.token, cred.toJSON());
	});
}
// passkey signs in without a user name.
function passkey() {
	return attempt(async () => {
		const b = await call("/passkey/begin");
		const cred = await navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(b.options.publicKey)});
		return await call("/passkey/finish?token=" + b.token, cred.toJSON());
	});
}
</script>`

type jsResult struct {
	OK    bool       `json:"ok"`
	Error string     `json:"error"`
	Value siteResult `json:"value"`
}

func js(t *testing.T, tab *browsertest.Tab, f string, args ...any) jsResult {
	t.Helper()
	call := f + "("
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			call += ", "
		}
		call += string(b)
	}
	return browsertest.Eval[jsResult](tab, call+")")
}

func wantOK(t *testing.T, what string, r jsResult) siteResult {
	t.Helper()
	if !r.OK {
		t.Fatalf("%s: %s", what, r.Error)
	}
	return r.Value
}

func wantRefused(t *testing.T, what string, r jsResult, code string) {
	t.Helper()
	if r.OK || !bytes.HasPrefix([]byte(r.Error), []byte("Error: "+code+": ")) {
		t.Fatalf("%s: got %+v, want a refusal %q", what, r, code)
	}
}

// onlyCredential returns the one credential of the virtual authenticator.
func onlyCredential(t *testing.T, tab *browsertest.Tab, id cdpwebauthn.AuthenticatorID) *cdpwebauthn.Credential {
	t.Helper()
	creds := tab.Credentials(id)
	if len(creds) != 1 {
		t.Fatalf("the authenticator holds %d credentials, want 1", len(creds))
	}
	return creds[0]
}

// TestWebAuthnBrowserPasskeys: ada and bob each register a passkey on
// their own device; a sign-in without a user name finds the right
// account on each device, and the signature counter increases. A third
// device holding a passkey with ada's user handle that was never
// registered (the registration was left unfinished) is refused, both
// without a user name and as ada's second factor; a replay of an
// accepted answer is refused.
func TestWebAuthnBrowserPasskeys(t *testing.T) {
	t.Parallel()
	site, base := newRPSite(t)
	b := browsertest.New(t)
	adaTab, bobTab, otherTab := b.Context(t), b.Context(t), b.Context(t)
	adaDev, bobDev, otherDev := adaTab.AddVirtualAuthenticator(), bobTab.AddVirtualAuthenticator(), otherTab.AddVirtualAuthenticator()
	for _, tab := range []*browsertest.Tab{adaTab, bobTab, otherTab} {
		tab.Go(base + "/")
	}

	reg := wantOK(t, "ada registers a passkey", js(t, adaTab, "create", "ada", true, "Laptop", true))
	if reg.Account != "ada" || !reg.Passkey {
		t.Fatalf("registration %+v", reg)
	}
	c := onlyCredential(t, adaTab, adaDev)
	if !c.IsResidentCredential || c.RpID != "localhost" || !bytes.Equal(c.UserHandle, site.w.UserHandle("ada")) ||
		base64.RawURLEncoding.EncodeToString(c.CredentialID) != reg.WebAuthnID {
		t.Fatalf("ada's authenticator holds %+v", c)
	}
	wantOK(t, "bob registers a passkey", js(t, bobTab, "create", "bob", true, "Phone", true))
	// Registering again on the same device is refused by the browser
	// (the credential is excluded).
	if r := js(t, adaTab, "create", "ada", true, "again", true); r.OK || !strings.Contains(r.Error, "InvalidStateError") {
		t.Fatalf("a second passkey on the same device: %+v", r)
	}
	adaTab.Screenshot("registered")

	first := wantOK(t, "ada signs in with her passkey", js(t, adaTab, "passkey"))
	if first.Account != "ada" || first.WebAuthnID != reg.WebAuthnID {
		t.Fatalf("ada's passkey signed in %+v", first)
	}
	if n := onlyCredential(t, adaTab, adaDev).SignCount; first.SignCount < 1 || float64(first.SignCount) != n {
		t.Fatalf("stored sign count %d, the authenticator's %v", first.SignCount, n)
	}
	second := wantOK(t, "ada signs in again", js(t, adaTab, "passkey"))
	if second.Account != "ada" || second.SignCount <= first.SignCount {
		t.Fatalf("second sign-in %+v after %+v: the counter did not increase", second, first)
	}
	if got := wantOK(t, "bob signs in with his passkey", js(t, bobTab, "passkey")); got.Account != "bob" {
		t.Fatalf("bob's passkey signed in %+v", got)
	}
	// The passkey also serves as ada's second factor.
	if got := wantOK(t, "ada's passkey as a second factor", js(t, adaTab, "secondFactor", "ada")); got.SignCount <= second.SignCount {
		t.Fatalf("second factor %+v", got)
	}

	// A replay of bob's accepted answer, with its session, is refused.
	site.mu.Lock()
	_, _, err := site.w.FinishDiscoverableLogin(site.lastPasskey.session, site.lastPasskey.response, site.lookup)
	site.mu.Unlock()
	wantCode(t, "replay", err, mamoru.EInvalidCode, mfa.ErrReplayed)

	// Another device: a passkey for ada's user handle, never registered.
	stray := wantOK(t, "an unfinished registration on another device", js(t, otherTab, "create", "ada", true, "", false))
	if c := onlyCredential(t, otherTab, otherDev); !bytes.Equal(c.UserHandle, site.w.UserHandle("ada")) {
		t.Fatalf("the other device holds %+v", c)
	}
	wantRefused(t, "the other device without a user name", js(t, otherTab, "passkey"), mamoru.EInvalidCode)
	wantRefused(t, "the other device as ada's second factor", js(t, otherTab, "secondFactor", "ada", []string{stray.WebAuthnID}), mamoru.EInvalidCode)
	// Bob's device answers for ada's account: refused too.
	bobID := base64.RawURLEncoding.EncodeToString(onlyCredential(t, bobTab, bobDev).CredentialID)
	wantRefused(t, "bob's passkey as ada's second factor", js(t, bobTab, "secondFactor", "ada", []string{bobID}), mamoru.EInvalidCode)
	otherTab.Screenshot("refused")

	// Nothing the refusals did changed ada's sign-in.
	if got := wantOK(t, "ada signs in after the refusals", js(t, adaTab, "passkey")); got.Account != "ada" {
		t.Fatalf("%+v", got)
	}
}

// securityKey is a roaming CTAP2 key without resident keys or user
// verification, like a basic USB security key.
func securityKey(o *cdpwebauthn.VirtualAuthenticatorOptions) {
	o.Transport = cdpwebauthn.AuthenticatorTransportUsb
	o.HasResidentKey = false
	o.HasUserVerification = false
	o.IsUserVerified = false
}

// TestWebAuthnBrowserSecurityKeys: ada registers a USB security key (not
// a resident key) and uses it as her second factor, the allowed
// credentials being hers; its counter increases. Bob's key, registered
// for bob, is refused for ada.
func TestWebAuthnBrowserSecurityKeys(t *testing.T) {
	t.Parallel()
	_, base := newRPSite(t)
	b := browsertest.New(t)
	adaTab, bobTab := b.Context(t), b.Context(t)
	adaKey, bobKey := adaTab.AddVirtualAuthenticator(securityKey), bobTab.AddVirtualAuthenticator(securityKey)
	adaTab.Go(base + "/")
	bobTab.Go(base + "/")

	reg := wantOK(t, "ada registers a security key", js(t, adaTab, "create", "ada", false, "YubiKey", true))
	if reg.Passkey {
		t.Fatalf("registration %+v", reg)
	}
	if c := onlyCredential(t, adaTab, adaKey); c.IsResidentCredential || base64.RawURLEncoding.EncodeToString(c.CredentialID) != reg.WebAuthnID {
		t.Fatalf("ada's key holds %+v", c)
	}
	wantOK(t, "bob registers a security key", js(t, bobTab, "create", "bob", false, "Key", true))

	first := wantOK(t, "ada's second factor", js(t, adaTab, "secondFactor", "ada"))
	second := wantOK(t, "ada's second factor again", js(t, adaTab, "secondFactor", "ada"))
	if first.Account != "ada" || first.WebAuthnID != reg.WebAuthnID || first.SignCount < 1 || second.SignCount <= first.SignCount ||
		float64(second.SignCount) != onlyCredential(t, adaTab, adaKey).SignCount {
		t.Fatalf("sign-ins %+v then %+v", first, second)
	}
	adaTab.Screenshot("signed-in")

	bobID := base64.RawURLEncoding.EncodeToString(onlyCredential(t, bobTab, bobKey).CredentialID)
	wantRefused(t, "bob's key for ada", js(t, bobTab, "secondFactor", "ada", []string{bobID}), mamoru.EInvalidCode)
	if got := wantOK(t, "bob's own second factor", js(t, bobTab, "secondFactor", "bob")); got.Account != "bob" {
		t.Fatalf("%+v", got)
	}
}
