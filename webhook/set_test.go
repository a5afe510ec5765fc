package webhook

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/mamoru-id/mamoru"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got (JSON) with testdata/name, indented; with -update it
// rewrites the file.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", name, err, got)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./webhook -update)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from the golden file (run go test ./webhook -update and review the diff)\ngot:\n%s", name, buf.Bytes())
	}
}

func TestPayloadGolden(t *testing.T) {
	for name, e := range sampleEvents() {
		t.Run(name, func(t *testing.T) {
			b, err := marshalPayload(e)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), `"code"`) || strings.Contains(string(b), "Mozilla") {
				t.Errorf("the payload carries a detail or header it must not: %s", b)
			}
			again, _ := marshalPayload(e)
			if !bytes.Equal(b, again) {
				t.Errorf("the payload is not stable:\n%s\n%s", b, again)
			}
			golden(t, name+".json", b)
		})
	}
}

// verifySET checks token against the JWK Set served by keys.JWKSHandler
// with go-jose, and returns its protected header and claims.
func verifySET(t *testing.T, jwks *jose.JSONWebKeySet, token string) (jose.Header, map[string]any) {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("ParseSigned: %v", err)
	}
	h := jws.Signatures[0].Protected
	keys := jwks.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d keys in the JWK Set", h.KeyID, len(keys))
	}
	payload, err := jws.Verify(&keys[0])
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if typ := h.ExtraHeaders[jose.HeaderType]; typ != "secevent+jwt" {
		t.Errorf("typ = %v, want secevent+jwt", typ)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return h, claims
}

// fetchJWKS serves keys.JWKSHandler and fetches it like a receiver.
func fetchJWKS(t *testing.T, keys *KeySet) *jose.JSONWebKeySet {
	t.Helper()
	srv := httptest.NewServer(keys.JWKSHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("JWKS: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return &set
}

func TestSETGolden(t *testing.T) {
	keys := testKeys(t)
	jwks := fetchJWKS(t, keys)
	for name, e := range sampleEvents() {
		t.Run(name, func(t *testing.T) {
			token, err := buildSET(keys, testIssuer, "https://app.example.com", "delivery0000000000000000aa", e, t0.Add(9*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			h, claims := verifySET(t, jwks, token)
			if h.KeyID != keys.KeyID() {
				t.Errorf("kid %q, want %q", h.KeyID, keys.KeyID())
			}
			for _, forbidden := range []string{"sub", "exp"} { // SSF 1.0
				if _, ok := claims[forbidden]; ok {
					t.Errorf("the SET has a %q claim", forbidden)
				}
			}
			events := claims["events"].(map[string]any)
			if len(events) != 1 || events[EventURI(e.Type)] == nil {
				t.Errorf("events = %v, want exactly %s", events, EventURI(e.Type))
			}
			b, _ := json.Marshal(claims)
			golden(t, name+".set.json", b)
		})
	}
}

// TestEventURIMapping names the SET event type of every mamoru event type:
// adding a type to mamoru.EventTypes fails here until its mapping is
// chosen (and documented in docs/webhooks.md).
func TestEventURIMapping(t *testing.T) {
	mamoruURI := func(t mamoru.EventType) string { return MamoruEventTypeBase + string(t) }
	want := map[mamoru.EventType]string{
		mamoru.EventSignInSucceeded:        mamoruURI(mamoru.EventSignInSucceeded),
		mamoru.EventSignInFailed:           mamoruURI(mamoru.EventSignInFailed),
		mamoru.EventSessionEnded:           URISessionRevoked,
		mamoru.EventAccountCreated:         mamoruURI(mamoru.EventAccountCreated),
		mamoru.EventEmailVerified:          mamoruURI(mamoru.EventEmailVerified),
		mamoru.EventPasswordChanged:        URICredentialChange,
		mamoru.EventPasswordResetRequested: mamoruURI(mamoru.EventPasswordResetRequested),
		mamoru.EventPasswordReset:          URICredentialChange,
		mamoru.EventPasswordResetRequired:  URIAccountCredentialChangeRequired,
		mamoru.EventEmailChanged:           URIRecoveryInformationChanged,
		mamoru.EventEmailChangeReverted:    URIRecoveryInformationChanged,
		mamoru.EventPhoneChanged:           URICredentialChange,
		mamoru.EventPhoneRemoved:           URICredentialChange,
		mamoru.EventSettingsChanged:        mamoruURI(mamoru.EventSettingsChanged),
		mamoru.EventAccountLocked:          URIAccountDisabled,
		mamoru.EventAccountRestricted:      URIAccountDisabled,
		mamoru.EventAccountUnlocked:        URIAccountEnabled,
		mamoru.EventConfirmed:              mamoruURI(mamoru.EventConfirmed),
		mamoru.EventDenied:                 URICredentialCompromise,
		mamoru.EventSecureAccountStarted:   mamoruURI(mamoru.EventSecureAccountStarted),
		mamoru.EventSecureAccountCompleted: mamoruURI(mamoru.EventSecureAccountCompleted),
		mamoru.EventChangeUndone:           mamoruURI(mamoru.EventChangeUndone),
		mamoru.EventNotificationSent:       mamoruURI(mamoru.EventNotificationSent),
		mamoru.EventSignInLockedOut:        mamoruURI(mamoru.EventSignInLockedOut),
		mamoru.EventSignInApproved:         mamoruURI(mamoru.EventSignInApproved),
		mamoru.EventSignInDenied:           mamoruURI(mamoru.EventSignInDenied),
		mamoru.EventTwoStepAdded:           mamoruURI(mamoru.EventTwoStepAdded),
		mamoru.EventTwoStepRemoved:         mamoruURI(mamoru.EventTwoStepRemoved),
		mamoru.EventTwoStepReplayed:        mamoruURI(mamoru.EventTwoStepReplayed),
		mamoru.EventSteppedUp:              mamoruURI(mamoru.EventSteppedUp),
	}
	keys := testKeys(t)
	jwks := fetchJWKS(t, keys)
	for _, typ := range mamoru.EventTypes {
		w, ok := want[typ]
		if !ok {
			t.Errorf("%s: no expected SET event type in this test; choose one and document it", typ)
			continue
		}
		if got := EventURI(typ); got != w {
			t.Errorf("EventURI(%s) = %s, want %s", typ, got, w)
		}
		for _, account := range []string{"acct1", ""} {
			token, err := buildSET(keys, testIssuer, "aud", "d1", eventOf(typ, account), t0)
			if err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			_, claims := verifySET(t, jwks, token)
			events, _ := claims["events"].(map[string]any)
			if len(events) != 1 || events[w] == nil {
				t.Errorf("%s: events = %v, want one %s", typ, events, w)
			}
			sub, _ := claims["sub_id"].(map[string]any)
			if sub["format"] == nil {
				t.Errorf("%s: sub_id = %v", typ, claims["sub_id"])
			}
		}
	}
	if len(want) != len(mamoru.EventTypes) {
		t.Errorf("the table has %d types, mamoru.EventTypes %d", len(want), len(mamoru.EventTypes))
	}
}

func TestSETClaims(t *testing.T) {
	keys := testKeys(t)
	jwks := fetchJWKS(t, keys)
	claimsOf := func(e *mamoru.Event) map[string]any {
		token, err := buildSET(keys, testIssuer, "aud", "d1", e, t0)
		if err != nil {
			t.Fatal(err)
		}
		_, c := verifySET(t, jwks, token)
		return c
	}
	event := func(c map[string]any) map[string]any {
		for _, v := range c["events"].(map[string]any) {
			return v.(map[string]any)
		}
		return nil
	}

	e := eventOf(mamoru.EventPhoneChanged, "a1")
	e.Details[mamoru.DetailOldPhone] = "+81 90-****-1234"
	if got := event(claimsOf(e))["change_type"]; got != "update" {
		t.Errorf("phone changed from a number: change_type %v", got)
	}
	delete(e.Details, mamoru.DetailOldPhone)
	if got := event(claimsOf(e)); got["change_type"] != "create" || got["credential_type"] != "phone-sms" {
		t.Errorf("first phone: %v", got)
	}
	e = eventOf(mamoru.EventPhoneRemoved, "a1")
	if got := event(claimsOf(e))["change_type"]; got != "delete" {
		t.Errorf("phone removed: change_type %v", got)
	}
	e = eventOf(mamoru.EventAccountRestricted, "a1")
	e.Details[mamoru.DetailReason] = "too_many_attempts"
	if got := event(claimsOf(e)); len(got) != 0 {
		t.Errorf("account-disabled without hijacking: %v, want no reason", got)
	}
	e = eventOf(mamoru.EventSessionEnded, "a1")
	e.SessionID = ""
	c := claimsOf(e)
	if sub := c["sub_id"].(map[string]any); sub["format"] != "iss_sub" || sub["sub"] != "a1" || sub["iss"] != testIssuer {
		t.Errorf("session ended without a session ID: sub_id %v", sub)
	}
	if c["txn"] != e.ID || c["jti"] != "d1" || c["iss"] != testIssuer || c["aud"] != "aud" {
		t.Errorf("envelope: %v", c)
	}
	e = eventOf(mamoru.EventSignInFailed, "")
	e.IP = ""
	if sub := claimsOf(e)["sub_id"].(map[string]any); sub["format"] != "opaque" {
		t.Errorf("no account, no IP: sub_id %v", sub)
	}
}

func TestKeySet(t *testing.T) {
	store := openStore(t)
	a, err := NewKeySet(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewKeySet(ctx, store) // a second instance of the cluster
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() != b.KeyID() || !a.PublicKey().Equal(b.PublicKey()) {
		t.Fatal("two KeySets over one store have different keys")
	}
	if len(a.KeyID()) != 43 {
		t.Errorf("kid %q is not a base64url SHA-256", a.KeyID())
	}

	set := fetchJWKS(t, a)
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys", len(set.Keys))
	}
	k := set.Keys[0]
	if !k.IsPublic() || k.KeyID != a.KeyID() || k.Algorithm != "ES256" || k.Use != "sig" {
		t.Errorf("JWK %+v", k)
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil || base64.RawURLEncoding.EncodeToString(tp) != a.KeyID() {
		t.Errorf("kid %q is not the RFC 7638 thumbprint (%x, %v)", a.KeyID(), tp, err)
	}
	if strings.Contains(string(a.JWKS()), `"d"`) {
		t.Error("the JWK Set carries the private key")
	}

	srv := httptest.NewServer(a.JWKSHandler())
	defer srv.Close()
	resp, err := http.Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST to the JWKS: %d", resp.StatusCode)
	}

	if _, err := ParseKeySet([]byte("not a key")); err == nil {
		t.Error("ParseKeySet accepted garbage")
	}
}
