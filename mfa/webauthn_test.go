package mfa_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/mfa"
)

const (
	testRPID   = "id.example.com"
	testOrigin = "https://id.example.com"
)

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

func handleKey() []byte { return bytes.Repeat([]byte{7}, 32) }

func newRP(t testing.TB, clock mamoru.Clock) *mfa.WebAuthn {
	t.Helper()
	w, err := mfa.NewWebAuthn(mfa.WebAuthnConfig{RPID: testRPID, RPDisplayName: "Mamoru", RPOrigins: []string{testOrigin},
		UserHandleKey: handleKey(), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func account(id string) *mamoru.Account { return &mamoru.Account{ID: id, Email: id + "@example.com"} }

// wantCode fails unless err has the code, and the cause when one is given.
func wantCode(t testing.TB, what string, err error, code string, cause error) {
	t.Helper()
	if got := mamoru.ErrorCode(err); got != code {
		t.Fatalf("%s: got %v (code %q), want %q", what, err, got, code)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Fatalf("%s: got %v, want %v in the chain", what, err, cause)
	}
}

// register makes a credential of a with the soft authenticator.
func register(t testing.TB, w *mfa.WebAuthn, sa *softAuthenticator, a *mamoru.Account, existing []*mamoru.Credential, passkey bool) (*mamoru.Credential, *softKey) {
	t.Helper()
	opts, sess, err := w.BeginRegistration(a, existing, passkey)
	if err != nil {
		t.Fatal(err)
	}
	resp, k := sa.create(t, opts, bend{})
	c, err := w.FinishRegistration(a, sess, resp, "  my key ")
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	c.Version = 1 // as CreateCredential sets it
	return c, k
}

func signCount(t testing.TB, c *mamoru.Credential) uint32 {
	t.Helper()
	info, err := mfa.ReadWebAuthn(c)
	if err != nil {
		t.Fatal(err)
	}
	return info.SignCount
}

func TestRelyingParty(t *testing.T) {
	for _, c := range []struct{ in, rpID, origin string }{
		{"https://ID.Example.com/", "id.example.com", "https://id.example.com"},
		{"https://id.example.com:8443/mamoru", "id.example.com", "https://id.example.com:8443"},
		{"http://localhost:4180", "localhost", "http://localhost:4180"},
		{"https://id.example.com:443/", "id.example.com", "https://id.example.com"},
	} {
		rpID, origin, err := mfa.RelyingParty(c.in)
		if err != nil || rpID != c.rpID || origin != c.origin {
			t.Errorf("RelyingParty(%q) = %q, %q, %v; want %q, %q", c.in, rpID, origin, err, c.rpID, c.origin)
		}
		if _, err := mfa.NewWebAuthn(mfa.WebAuthnConfig{RPID: rpID, RPDisplayName: "x", RPOrigins: []string{origin}, UserHandleKey: handleKey()}); err != nil {
			t.Errorf("NewWebAuthn for %q: %v", c.in, err)
		}
	}
	for _, in := range []string{"", "id.example.com", "ftp://id.example.com", "https://", ":"} {
		if _, _, err := mfa.RelyingParty(in); err == nil {
			t.Errorf("RelyingParty(%q): no error", in)
		}
	}
}

func TestNewWebAuthnRefuses(t *testing.T) {
	good := mfa.WebAuthnConfig{RPID: testRPID, RPDisplayName: "Mamoru", RPOrigins: []string{testOrigin}, UserHandleKey: handleKey()}
	for _, c := range []struct {
		name string
		f    func(*mfa.WebAuthnConfig)
		want string
	}{
		{"no RP ID", func(c *mfa.WebAuthnConfig) { c.RPID = "" }, "relying party ID is empty"},
		{"IP", func(c *mfa.WebAuthnConfig) { c.RPID = "127.0.0.1"; c.RPOrigins = []string{"https://127.0.0.1"} }, "IP address"},
		{"upper case", func(c *mfa.WebAuthnConfig) { c.RPID = "ID.example.com" }, "lower case"},
		{"public suffix", func(c *mfa.WebAuthnConfig) { c.RPID = "co.jp"; c.RPOrigins = []string{"https://co.jp"} }, "public suffix"},
		{"port in RP ID", func(c *mfa.WebAuthnConfig) { c.RPID = "id.example.com:443" }, "not a domain"},
		{"no name", func(c *mfa.WebAuthnConfig) { c.RPDisplayName = " " }, "display name"},
		{"no origin", func(c *mfa.WebAuthnConfig) { c.RPOrigins = nil }, "no origin"},
		{"http", func(c *mfa.WebAuthnConfig) { c.RPOrigins = []string{"http://id.example.com"} }, "https"},
		{"other host", func(c *mfa.WebAuthnConfig) { c.RPOrigins = []string{"https://example.org"} }, "subdomain"},
		{"suffix not a subdomain", func(c *mfa.WebAuthnConfig) { c.RPOrigins = []string{"https://evilid.example.com"} }, "subdomain"},
		{"path", func(c *mfa.WebAuthnConfig) { c.RPOrigins = []string{testOrigin + "/"} }, "scheme://host"},
		{"short key", func(c *mfa.WebAuthnConfig) { c.UserHandleKey = make([]byte, 31) }, "31 bytes"},
		{"short timeout", func(c *mfa.WebAuthnConfig) { c.LoginTimeout = time.Second }, "login timeout"},
		{"long timeout", func(c *mfa.WebAuthnConfig) { c.RegistrationTimeout = time.Hour }, "registration timeout"},
	} {
		cfg := good
		c.f(&cfg)
		if _, err := mfa.NewWebAuthn(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", c.name, err, c.want)
		}
	}
	// Every problem at once.
	_, err := mfa.NewWebAuthn(mfa.WebAuthnConfig{})
	for _, want := range []string{"relying party ID is empty", "display name", "no origin", "user handle key"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("empty config: %v lacks %q", err, want)
		}
	}
	// A subdomain origin is fine.
	cfg := good
	cfg.RPOrigins = []string{testOrigin, "https://login.id.example.com:8443"}
	if _, err := mfa.NewWebAuthn(cfg); err != nil {
		t.Error(err)
	}
}

func TestWebAuthnUserHandle(t *testing.T) {
	w := newRP(t, mamoru.NewFakeClock(t0))
	h := w.UserHandle("acct1")
	if len(h) != mfa.WebAuthnUserHandleSize || !bytes.Equal(h, w.UserHandle("acct1")) || bytes.Equal(h, w.UserHandle("acct2")) ||
		bytes.Contains(h, []byte("acct1")) {
		t.Fatalf("user handle %x", h)
	}
	other, err := mfa.NewWebAuthn(mfa.WebAuthnConfig{RPID: testRPID, RPDisplayName: "x", RPOrigins: []string{testOrigin}, UserHandleKey: bytes.Repeat([]byte{8}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(h, other.UserHandle("acct1")) {
		t.Fatal("the user handle does not depend on the key")
	}
}

func TestWebAuthnRegistrationOptions(t *testing.T) {
	clock := mamoru.NewFakeClock(t0)
	w := newRP(t, clock)
	sa := &softAuthenticator{origin: testOrigin, counterStep: 1}
	ada := account("ada")
	first, _ := register(t, w, sa, ada, nil, true)

	type opts struct {
		PublicKey struct {
			RP   struct{ ID, Name string }
			User struct {
				ID, Name, DisplayName string
			}
			ExcludeCredentials     []struct{ ID string }
			AuthenticatorSelection struct {
				ResidentKey      string
				UserVerification string
			}
			Attestation string
			Timeout     int
			Extensions  map[string]any
		}
	}
	for _, passkey := range []bool{true, false} {
		raw, _, err := w.BeginRegistration(ada, []*mamoru.Credential{first, {ID: "x", AccountID: "ada", Kind: mamoru.CredentialTOTP}}, passkey)
		if err != nil {
			t.Fatal(err)
		}
		var o opts
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		p := o.PublicKey
		wantRK, wantUV := "discouraged", "discouraged"
		if passkey {
			wantRK, wantUV = "required", "required"
		}
		if p.RP.ID != testRPID || p.RP.Name != "Mamoru" || p.User.ID != b64.EncodeToString(w.UserHandle("ada")) ||
			p.User.Name != "ada@example.com" || p.AuthenticatorSelection.ResidentKey != wantRK ||
			p.AuthenticatorSelection.UserVerification != wantUV || p.Attestation != "none" ||
			p.Timeout != int(mfa.WebAuthnTimeout/time.Millisecond) || p.Extensions["credProps"] != true {
			t.Fatalf("passkey %v: options %s", passkey, raw)
		}
		if len(p.ExcludeCredentials) != 1 || p.ExcludeCredentials[0].ID != b64.EncodeToString(first.WebAuthnID) {
			t.Fatalf("passkey %v: excluded %+v, want the first credential only", passkey, p.ExcludeCredentials)
		}
	}
}

func TestWebAuthnRegisterAndSignIn(t *testing.T) {
	clock := mamoru.NewFakeClock(t0)
	w := newRP(t, clock)
	sa := &softAuthenticator{origin: testOrigin, counterStep: 1}
	ada, bob := account("ada"), account("bob")
	passkey, pk := register(t, w, sa, ada, nil, true)
	if passkey.Kind != mamoru.CredentialWebAuthn || passkey.AccountID != "ada" || passkey.Name != "my key" || passkey.ID == "" ||
		!bytes.Equal(passkey.WebAuthnID, pk.id) || !passkey.CreatedAt.Equal(t0) || !passkey.LastUsedAt.IsZero() || passkey.Secret != nil {
		t.Fatalf("credential %+v", passkey)
	}
	info, err := mfa.ReadWebAuthn(passkey)
	if err != nil || !info.Passkey || info.RPID != testRPID || info.Discoverable == nil || !*info.Discoverable ||
		!info.UserVerified || len(info.Transports) != 1 || info.Transports[0] != "internal" || info.SignCount != 0 {
		t.Fatalf("info %+v, %v", info, err)
	}
	bobKey, _ := register(t, w, sa, bob, nil, false)
	if info, _ := mfa.ReadWebAuthn(bobKey); info.Passkey {
		t.Fatal("a security key reads as a passkey")
	}
	store := map[string]*mamoru.Credential{string(passkey.WebAuthnID): passkey, string(bobKey.WebAuthnID): bobKey}
	accounts := map[string]*mamoru.Account{"ada": ada, "bob": bob}
	lookup := func(id, handle []byte) (*mamoru.Account, []*mamoru.Credential, error) {
		c, ok := store[string(id)]
		if !ok {
			return nil, nil, mamoru.Errorf(mamoru.ENotFound, "no credential")
		}
		return accounts[c.AccountID], []*mamoru.Credential{c}, nil
	}

	// Second factor.
	clock.Advance(time.Minute)
	opts, sess, err := w.BeginLogin(ada, []*mamoru.Credential{passkey, bobKey})
	if err != nil {
		t.Fatal(err)
	}
	o := decodeOptions(t, opts)
	if len(o.PublicKey.AllowCredentials) != 1 || o.PublicKey.AllowCredentials[0].ID != b64.EncodeToString(pk.id) || o.PublicKey.RPID != testRPID {
		t.Fatalf("login options %s", opts)
	}
	used, err := w.FinishLogin(ada, []*mamoru.Credential{passkey}, sess, sa.get(t, opts, bend{}))
	if err != nil {
		t.Fatalf("FinishLogin: %v", err)
	}
	if used.ID != passkey.ID || used.Version != passkey.Version || !used.LastUsedAt.Equal(t0.Add(time.Minute)) ||
		signCount(t, used) != 1 || signCount(t, passkey) != 0 || !passkey.LastUsedAt.IsZero() {
		t.Fatalf("used %+v (count %d); the input changed: %v", used, signCount(t, used), !passkey.LastUsedAt.IsZero())
	}
	store[string(used.WebAuthnID)] = used

	// Passkey first.
	opts, sess, err = w.BeginDiscoverableLogin()
	if err != nil {
		t.Fatal(err)
	}
	if o := decodeOptions(t, opts); len(o.PublicKey.AllowCredentials) != 0 || !strings.Contains(string(opts), `"userVerification":"required"`) {
		t.Fatalf("discoverable options %s", opts)
	}
	a, c, err := w.FinishDiscoverableLogin(sess, sa.get(t, opts, bend{key: pk}), lookup)
	if err != nil {
		t.Fatalf("FinishDiscoverableLogin: %v", err)
	}
	if a.ID != "ada" || c.ID != passkey.ID || signCount(t, c) != 2 {
		t.Fatalf("signed in %s with %s (count %d)", a.ID, c.ID, signCount(t, c))
	}
}

func TestWebAuthnRegistrationRefusals(t *testing.T) {
	clock := mamoru.NewFakeClock(t0)
	w := newRP(t, clock)
	ada := account("ada")
	begin := func(passkey bool) ([]byte, []byte) {
		opts, sess, err := w.BeginRegistration(ada, nil, passkey)
		if err != nil {
			t.Fatal(err)
		}
		return opts, sess
	}
	sa := &softAuthenticator{origin: testOrigin}
	opts, sess := begin(true)
	good, _ := sa.create(t, opts, bend{})
	for _, c := range []struct {
		name string
		resp []byte
		code string
	}{
		{"empty", nil, mamoru.EInvalidRequest},
		{"null", []byte("null"), mamoru.EInvalidRequest},
		{"garbage", []byte("\x00\xff{"), mamoru.EInvalidRequest},
		{"an array", []byte("[1,2]"), mamoru.EInvalidRequest},
		{"trailing data", append(append([]byte(nil), good...), "{}"...), mamoru.EInvalidRequest},
		{"too large", append(bytes.Repeat([]byte(" "), 70000), good...), mamoru.EInvalidRequest},
		{"no attestation", []byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30"}}`), mamoru.EInvalidRequest},
		{"attestation not CBOR", []byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"_w"}}`), mamoru.EInvalidRequest},
		{"another challenge", mustCreate(t, sa, opts, bend{challenge: []byte("another challenge of 32 bytes..")}), mamoru.EInvalidCode},
		{"another origin", mustCreate(t, sa, opts, bend{origin: "https://evil.example"}), mamoru.EInvalidCode},
		{"http origin", mustCreate(t, sa, opts, bend{origin: "http://id.example.com"}), mamoru.EInvalidCode},
		{"another RP ID", mustCreate(t, sa, opts, bend{rpID: "evil.example"}), mamoru.EInvalidCode},
		{"a get", mustCreate(t, sa, opts, bend{typ: "webauthn.get"}), mamoru.EInvalidCode},
		{"no user verification for a passkey", mustCreate(t, sa, opts, bend{noUV: true}), mamoru.EInvalidCode},
		{"no user presence", mustCreate(t, sa, opts, bend{noUP: true}), mamoru.EInvalidCode},
	} {
		c2, err := w.FinishRegistration(ada, sess, c.resp, "")
		if c2 != nil {
			t.Errorf("%s: a credential", c.name)
		}
		wantCode(t, c.name, err, c.code, nil)
	}
	if _, err := w.FinishRegistration(ada, sess, good, "ok"); err != nil {
		t.Fatalf("the good response after the bad ones: %v", err)
	}

	// A security key need not verify the user.
	opts, sess = begin(false)
	if _, err := w.FinishRegistration(ada, sess, mustCreate(t, sa, opts, bend{noUV: true}), ""); err != nil {
		t.Fatalf("security key without UV: %v", err)
	}

	// Sessions and names.
	_, err := w.FinishRegistration(account("bob"), sess, good, "")
	wantCode(t, "another account's session", err, mamoru.EInternal, nil)
	_, loginSess, _ := w.BeginDiscoverableLogin()
	_, err = w.FinishRegistration(ada, loginSess, good, "")
	wantCode(t, "a login session", err, mamoru.EInternal, nil)
	for _, s := range [][]byte{nil, []byte("{}"), []byte("garbage"), []byte(`{"v":1,"ceremony":"registration","account":"ada"}`)} {
		_, err = w.FinishRegistration(ada, s, good, "")
		wantCode(t, "session "+string(s), err, mamoru.EInternal, nil)
	}
	_, err = w.FinishRegistration(nil, sess, good, "")
	wantCode(t, "no account", err, mamoru.EInternal, nil)
	for _, name := range []string{strings.Repeat("x", 201), "a\nb", "a\x00b", "\xff"} {
		_, err = w.FinishRegistration(ada, sess, good, name)
		wantCode(t, "name "+name, err, mamoru.EInvalidRequest, nil)
	}
	opts, sess = begin(true)
	resp := mustCreate(t, sa, opts, bend{})
	clock.Advance(mfa.WebAuthnTimeout)
	_, err = w.FinishRegistration(ada, sess, resp, "")
	wantCode(t, "expired", err, mamoru.EFlowExpired, nil)
}

func mustCreate(t testing.TB, sa *softAuthenticator, opts []byte, b bend) []byte {
	t.Helper()
	resp, _ := sa.create(t, opts, b)
	return resp
}

func TestWebAuthnLoginRefusals(t *testing.T) {
	clock := mamoru.NewFakeClock(t0)
	w := newRP(t, clock)
	ada, bob := account("ada"), account("bob")
	sa := &softAuthenticator{origin: testOrigin, counterStep: 1}
	adaKey, ak := register(t, w, sa, ada, nil, false)
	bobKey, bk := register(t, w, sa, bob, nil, false)
	other := &softAuthenticator{origin: testOrigin, counterStep: 1} // a key registered nowhere
	_, stray := other.create(t, mustBegin(t, w, ada), bend{})
	creds := []*mamoru.Credential{adaKey}

	opts, sess, err := w.BeginLogin(ada, creds)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		resp  []byte
		code  string
		cause error
	}{
		{"empty", nil, mamoru.EInvalidRequest, nil},
		{"garbage", []byte("}{"), mamoru.EInvalidRequest, nil},
		{"a number", []byte("42"), mamoru.EInvalidRequest, nil},
		{"no response", []byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key"}`), mamoru.EInvalidRequest, nil},
		{"bad base64", []byte(`{"id":"!!","rawId":"!!","type":"public-key","response":{}}`), mamoru.EInvalidRequest, nil},
		{"short authenticator data", []byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AAAA"}}`), mamoru.EInvalidRequest, nil},
		{"another challenge", sa.get(t, opts, bend{challenge: []byte("another challenge of 32 bytes..")}), mamoru.EInvalidCode, nil},
		{"another origin", sa.get(t, opts, bend{origin: "https://evil.example"}), mamoru.EInvalidCode, nil},
		{"http origin", sa.get(t, opts, bend{origin: "http://id.example.com"}), mamoru.EInvalidCode, nil},
		{"another RP ID", sa.get(t, opts, bend{rpID: "example.com"}), mamoru.EInvalidCode, nil},
		{"a create", sa.get(t, opts, bend{typ: "webauthn.create"}), mamoru.EInvalidCode, nil},
		{"no user presence", sa.get(t, opts, bend{noUP: true}), mamoru.EInvalidCode, nil},
		{"another account's key", sa.get(t, opts, bend{key: bk}), mamoru.EInvalidCode, nil},
		{"a key registered nowhere", other.get(t, opts, bend{key: stray}), mamoru.EInvalidCode, nil},
	} {
		used, err := w.FinishLogin(ada, creds, sess, c.resp)
		if used != nil {
			t.Errorf("%s: a credential", c.name)
		}
		wantCode(t, c.name, err, c.code, c.cause)
	}
	// Signed by the right key but presented for bob (whose list lacks it).
	_, bobSess, _ := w.BeginLogin(bob, []*mamoru.Credential{bobKey})
	_, err = w.FinishLogin(bob, []*mamoru.Credential{bobKey}, bobSess, sa.get(t, opts, bend{key: ak}))
	wantCode(t, "ada's answer for bob", err, mamoru.EInvalidCode, nil)

	// The good answer after the bad ones; then the same session again.
	resp := sa.get(t, opts, bend{key: ak})
	used, err := w.FinishLogin(ada, creds, sess, resp)
	if err != nil {
		t.Fatalf("good answer: %v", err)
	}
	// A counter that does not increase: equal, lower, zero.
	n := signCount(t, used)
	if n < 2 {
		t.Fatalf("sign count %d", n)
	}
	for _, back := range []uint32{n, n - 1, 0} {
		var s []byte
		o := opts2(t, w, ada, used, &s)
		got, err := w.FinishLogin(ada, []*mamoru.Credential{used}, s, sa.get(t, o, bend{key: ak, count: &back}))
		if got != nil {
			t.Errorf("counter %d after %d: accepted", back, n)
		}
		wantCode(t, "counter backwards", err, mamoru.EInvalidCode, mfa.ErrClonedAuthenticator)
	}
	_, err = w.FinishLogin(ada, []*mamoru.Credential{used}, sess, resp)
	wantCode(t, "replay (counting authenticator)", err, mamoru.EInvalidCode, mfa.ErrReplayed)
	_, err = w.FinishLogin(ada, []*mamoru.Credential{used}, sess, sa.get(t, opts, bend{key: ak}))
	wantCode(t, "same session, new answer", err, mamoru.EInvalidCode, mfa.ErrReplayed)
	_, sess2, _ := w.BeginLogin(ada, []*mamoru.Credential{used})
	_, err = w.FinishLogin(ada, []*mamoru.Credential{used}, sess2, resp)
	wantCode(t, "an old answer for a new session", err, mamoru.EInvalidCode, nil)
	// The limit: against the row as it was before the first use (the
	// caller neither took the session nor stored the update), the same
	// answer verifies again. This is why the caller must take the session
	// before Finish and write the update with its version check.
	if _, err = w.FinishLogin(ada, creds, sess, resp); err != nil {
		t.Fatalf("against the old row: %v", err)
	}

	// Sessions.
	_, err = w.FinishLogin(bob, []*mamoru.Credential{bobKey}, sess, resp)
	wantCode(t, "another account's session", err, mamoru.EInternal, nil)
	_, discSess, _ := w.BeginDiscoverableLogin()
	_, err = w.FinishLogin(ada, creds, discSess, resp)
	wantCode(t, "a discoverable session", err, mamoru.EInternal, nil)
	_, err = w.FinishLogin(ada, creds, []byte("]"), resp)
	wantCode(t, "garbage session", err, mamoru.EInternal, nil)
	opts, sess, _ = w.BeginLogin(ada, []*mamoru.Credential{used})
	resp = sa.get(t, opts, bend{key: ak})
	clock.Advance(mfa.WebAuthnTimeout)
	_, err = w.FinishLogin(ada, []*mamoru.Credential{used}, sess, resp)
	wantCode(t, "expired", err, mamoru.EFlowExpired, nil)

	// No usable credential: none, another kind, another RP ID.
	_, _, err = w.BeginLogin(ada, nil)
	wantCode(t, "no credential", err, mamoru.EInvalidRequest, nil)
	_, _, err = w.BeginLogin(ada, []*mamoru.Credential{{ID: "t", AccountID: "ada", Kind: mamoru.CredentialTOTP}, bobKey})
	wantCode(t, "no webauthn credential of ada", err, mamoru.EInvalidRequest, nil)
	elsewhere, err := mfa.NewWebAuthn(mfa.WebAuthnConfig{RPID: "login.example.org", RPDisplayName: "x",
		RPOrigins: []string{"https://login.example.org"}, UserHandleKey: handleKey(), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = elsewhere.BeginLogin(ada, creds)
	wantCode(t, "credential of another RP ID", err, mamoru.EInvalidRequest, nil)
	corrupt := *adaKey
	corrupt.Data = []byte("{")
	_, _, err = w.BeginLogin(ada, []*mamoru.Credential{&corrupt})
	wantCode(t, "corrupt data", err, mamoru.EInternal, nil)
}

func mustBegin(t testing.TB, w *mfa.WebAuthn, a *mamoru.Account) []byte {
	t.Helper()
	opts, _, err := w.BeginRegistration(a, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

// TestWebAuthnZeroCounter: an authenticator that never counts (synced
// passkeys) is accepted again and again; a replay of a session is still
// refused.
func TestWebAuthnZeroCounter(t *testing.T) {
	w := newRP(t, mamoru.NewFakeClock(t0))
	ada := account("ada")
	sa := &softAuthenticator{origin: testOrigin}
	c, _ := register(t, w, sa, ada, nil, true)
	var opts, sess, resp []byte
	for i := range 3 {
		var err error
		opts, sess, err = w.BeginLogin(ada, []*mamoru.Credential{c})
		if err != nil {
			t.Fatal(err)
		}
		resp = sa.get(t, opts, bend{})
		if c, err = w.FinishLogin(ada, []*mamoru.Credential{c}, sess, resp); err != nil {
			t.Fatalf("use %d: %v", i, err)
		}
		if signCount(t, c) != 0 {
			t.Fatal("the counter moved")
		}
	}
	_, err := w.FinishLogin(ada, []*mamoru.Credential{c}, sess, resp)
	wantCode(t, "replay", err, mamoru.EInvalidCode, mfa.ErrReplayed)
	// A counter that starts after zeros is fine; back to zero is not.
	one := uint32(1)
	_, sess, _ = w.BeginLogin(ada, []*mamoru.Credential{c})
	if c, err = w.FinishLogin(ada, []*mamoru.Credential{c}, sess, sa.get(t, opts2(t, w, ada, c, &sess), bend{count: &one})); err != nil {
		t.Fatal(err)
	}
	_, sess, _ = w.BeginLogin(ada, []*mamoru.Credential{c})
	zero := uint32(0)
	_, err = w.FinishLogin(ada, []*mamoru.Credential{c}, sess, sa.get(t, opts2(t, w, ada, c, &sess), bend{count: &zero}))
	wantCode(t, "back to zero", err, mamoru.EInvalidCode, mfa.ErrClonedAuthenticator)
}

// opts2 begins a login of a with c and replaces *sess by its session.
func opts2(t testing.TB, w *mfa.WebAuthn, a *mamoru.Account, c *mamoru.Credential, sess *[]byte) []byte {
	t.Helper()
	opts, s, err := w.BeginLogin(a, []*mamoru.Credential{c})
	if err != nil {
		t.Fatal(err)
	}
	*sess = s
	return opts
}

func TestWebAuthnDiscoverableRefusals(t *testing.T) {
	w := newRP(t, mamoru.NewFakeClock(t0))
	ada, bob := account("ada"), account("bob")
	sa := &softAuthenticator{origin: testOrigin, counterStep: 1}
	adaKey, ak := register(t, w, sa, ada, nil, true)
	bobKey, _ := register(t, w, sa, bob, nil, true)
	opts, sess, err := w.BeginDiscoverableLogin()
	if err != nil {
		t.Fatal(err)
	}
	resp := sa.get(t, opts, bend{key: ak})
	find := func(a *mamoru.Account, c *mamoru.Credential, err error) func(id, h []byte) (*mamoru.Account, []*mamoru.Credential, error) {
		return func(id, h []byte) (*mamoru.Account, []*mamoru.Credential, error) {
			return a, []*mamoru.Credential{c}, err
		}
	}
	down := errors.New("database down")
	for _, c := range []struct {
		name   string
		resp   []byte
		lookup func(id, h []byte) (*mamoru.Account, []*mamoru.Credential, error)
		code   string
		cause  error
	}{
		{"unknown credential", resp, find(nil, nil, mamoru.Errorf(mamoru.ENotFound, "none")), mamoru.EInvalidCode, mfa.ErrUnknownCredential},
		{"no account", resp, find(nil, nil, nil), mamoru.EInvalidCode, mfa.ErrUnknownCredential},
		{"store down", resp, find(nil, nil, down), mamoru.EInternal, down},
		{"handle of another account", resp, find(bob, bobKey, nil), mamoru.EInvalidCode, nil},
		{"credential of another account", resp, find(ada, bobKey, nil), mamoru.EInvalidCode, nil},
		{"no user verification", sa.get(t, opts, bend{key: ak, noUV: true}), find(ada, adaKey, nil), mamoru.EInvalidCode, nil},
		{"another origin", sa.get(t, opts, bend{key: ak, origin: "https://evil.example"}), find(ada, adaKey, nil), mamoru.EInvalidCode, nil},
		{"garbage", []byte(`{"id":`), find(ada, adaKey, nil), mamoru.EInvalidRequest, nil},
	} {
		a, cred, err := w.FinishDiscoverableLogin(sess, c.resp, c.lookup)
		if a != nil || cred != nil {
			t.Errorf("%s: signed in", c.name)
		}
		wantCode(t, c.name, err, c.code, c.cause)
	}
	// No user handle.
	var m map[string]any
	json.Unmarshal(resp, &m)
	delete(m["response"].(map[string]any), "userHandle")
	noHandle, _ := json.Marshal(m)
	_, _, err = w.FinishDiscoverableLogin(sess, noHandle, find(ada, adaKey, nil))
	wantCode(t, "no user handle", err, mamoru.EInvalidCode, nil)

	a, used, err := w.FinishDiscoverableLogin(sess, resp, find(ada, adaKey, nil))
	if err != nil || a.ID != "ada" {
		t.Fatalf("the good answer: %v", err)
	}
	_, _, err = w.FinishDiscoverableLogin(sess, resp, find(ada, used, nil))
	wantCode(t, "replay", err, mamoru.EInvalidCode, mfa.ErrReplayed)
	_, loginSess, _ := w.BeginLogin(ada, []*mamoru.Credential{adaKey})
	_, _, err = w.FinishDiscoverableLogin(loginSess, resp, find(ada, adaKey, nil))
	wantCode(t, "a second-factor session", err, mamoru.EInternal, nil)
}

// loginFixture is one account, one security key and a session with its
// good answer, for the fuzz test and the benchmarks.
func loginFixture(tb testing.TB) (w *mfa.WebAuthn, a *mamoru.Account, creds []*mamoru.Credential, sess, resp []byte) {
	w = newRP(tb, mamoru.NewFakeClock(t0))
	a = account("ada")
	sa := &softAuthenticator{origin: testOrigin, counterStep: 1}
	c, _ := register(tb, w, sa, a, nil, false)
	opts, sess, err := w.BeginLogin(a, []*mamoru.Credential{c})
	if err != nil {
		tb.Fatal(err)
	}
	return w, a, []*mamoru.Credential{c}, sess, sa.get(tb, opts, bend{})
}

// FuzzFinishLogin: no response, however malformed, panics or is anything
// but EInvalidRequest or EInvalidCode.
func FuzzFinishLogin(f *testing.F) {
	w, a, creds, sess, resp := loginFixture(f)
	f.Add(resp)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AAAA","userHandle":null}}`))
	f.Add(bytes.Replace(resp, []byte(`"type":"public-key"`), []byte(`"type":"x"`), 1))
	f.Fuzz(func(t *testing.T, resp []byte) {
		used, err := w.FinishLogin(a, creds, sess, resp)
		if err == nil {
			if used == nil || used.ID != creds[0].ID {
				t.Fatalf("accepted without the credential: %+v", used)
			}
			return
		}
		if code := mamoru.ErrorCode(err); code != mamoru.EInvalidRequest && code != mamoru.EInvalidCode {
			t.Fatalf("code %q: %v", code, err)
		}
	})
}

func BenchmarkFinishLogin(b *testing.B) {
	w, a, creds, sess, resp := loginFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.FinishLogin(a, creds, sess, resp); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFinishDiscoverableLogin(b *testing.B) {
	w := newRP(b, mamoru.NewFakeClock(t0))
	a := account("ada")
	sa := &softAuthenticator{origin: testOrigin, counterStep: 1}
	c, _ := register(b, w, sa, a, nil, true)
	opts, sess, err := w.BeginDiscoverableLogin()
	if err != nil {
		b.Fatal(err)
	}
	resp := sa.get(b, opts, bend{})
	lookup := func(id, h []byte) (*mamoru.Account, []*mamoru.Credential, error) {
		return a, []*mamoru.Credential{c}, nil
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := w.FinishDiscoverableLogin(sess, resp, lookup); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBeginLogin(b *testing.B) {
	w, a, creds, _, _ := loginFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := w.BeginLogin(a, creds); err != nil {
			b.Fatal(err)
		}
	}
}
