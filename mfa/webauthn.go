package mfa

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"golang.org/x/net/publicsuffix"

	"github.com/mamoru-id/mamoru"
)

// WebAuthnUserHandleKeySecret is the name of the server secret
// (mamoru.SecretStore) that keys the WebAuthn user handles. It must never
// change: a new key gives every account a new user handle, and no passkey
// made before would sign in.
const WebAuthnUserHandleKeySecret = "mfa-webauthn-user-handle-key"

// The WebAuthn parameters.
const (
	// WebAuthnTimeout is the default time the browser gives the person to
	// use the authenticator, and how long a ceremony's session stays
	// valid on the server (5 minutes, go-webauthn's default).
	WebAuthnTimeout = 5 * time.Minute
	// WebAuthnUserHandleSize is the size of a user handle in bytes.
	WebAuthnUserHandleSize = 32
	// maxWebAuthnResponse bounds the response JSON looked at. Real
	// responses are a few kilobytes (an attestation certificate chain
	// included).
	maxWebAuthnResponse = 64 << 10
	// maxWebAuthnName bounds the owner's label of a credential, in bytes.
	maxWebAuthnName        = 200
	minWebAuthnTimeout     = 10 * time.Second
	maxWebAuthnTimeout     = 10 * time.Minute
	webauthnDataVersion    = 1
	webauthnSessionVersion = 1
	userHandleDomain       = "mamoru webauthn user handle v1\x00"
)

// ErrClonedAuthenticator is the cause, inside a mamoru.EInvalidCode
// error, when an assertion was refused because the authenticator's
// signature counter did not increase (WebAuthn §6.1.1): the credential's
// private key may exist twice. The caller should log it and tell the
// owner; the person signing in sees the same invalid_code as for any
// refused security key.
var ErrClonedAuthenticator = errors.New("mfa: the signature counter did not increase (cloned authenticator?)")

// ErrUnknownCredential is the cause, inside a mamoru.EInvalidCode error,
// when a discoverable sign-in used a credential that no account has (a
// passkey whose credential was deleted, or never registered).
var ErrUnknownCredential = errors.New("mfa: unknown WebAuthn credential")

// WebAuthnConfig configures the WebAuthn relying party. RPID and RPOrigins
// come from the server's base URL (RelyingParty): a change of the base
// URL's host makes every registered passkey and security key unusable.
type WebAuthnConfig struct {
	// RPID is the relying party ID: the host of the base URL, e.g.
	// "id.example.com" (never an IP address or a public suffix).
	RPID string
	// RPDisplayName is the name that authenticators show, e.g. "Mamoru".
	RPDisplayName string
	// RPOrigins are the origins the browser may report, e.g.
	// "https://id.example.com": https, or http for localhost only; each
	// host is the RPID or a subdomain of it.
	RPOrigins []string
	// UserHandleKey keys the user handles (WebAuthnUserHandleKeySecret),
	// at least 32 bytes. It must never change.
	UserHandleKey []byte
	// RegistrationTimeout and LoginTimeout are given to the browser and
	// bound the ceremony's session on the server; zero means
	// WebAuthnTimeout. Between 10 s and 10 min.
	RegistrationTimeout time.Duration
	LoginTimeout        time.Duration
	// Clock tells the time of sessions and of LastUsedAt; nil means the
	// system clock.
	Clock mamoru.Clock
}

// RelyingParty returns the relying party ID and the origin for a server
// whose base URL is baseURL ("https://id.example.com/" gives
// "id.example.com" and "https://id.example.com"; a default port is left
// out of the origin, as browsers do).
func RelyingParty(baseURL string) (rpID, origin string, err error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return "", "", fmt.Errorf("base URL %q: %w", baseURL, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return "", "", fmt.Errorf("base URL %q: not an absolute http(s) URL", baseURL)
	}
	host := strings.ToLower(u.Hostname())
	origin = u.Scheme + "://" + strings.ToLower(u.Host)
	if port := u.Port(); (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		origin = u.Scheme + "://" + host // as the browser reports it
	}
	return host, origin, nil
}

// WebAuthn runs the WebAuthn ceremonies (security keys and passkeys) of
// one relying party with go-webauthn. It is safe for concurrent use.
type WebAuthn struct {
	w             *webauthn.WebAuthn
	rpID          string
	key           []byte
	clock         mamoru.Clock
	registerAfter time.Duration
	loginAfter    time.Duration
}

// NewWebAuthn checks cfg, reporting every problem at once, and returns the
// relying party.
func NewWebAuthn(cfg WebAuthnConfig) (*WebAuthn, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("webauthn: "+format, args...)) }
	rpID := cfg.RPID
	switch {
	case rpID == "":
		bad("the relying party ID is empty")
	case rpID != strings.ToLower(rpID):
		bad("the relying party ID %q is not lower case", rpID)
	case net.ParseIP(strings.Trim(rpID, "[]")) != nil:
		bad("the relying party ID %q is an IP address; WebAuthn needs a domain name", rpID)
	default:
		if err := protocol.ValidateRPID(rpID); err != nil || strings.ContainsAny(rpID, ":/?#@ ") {
			bad("the relying party ID %q is not a domain name", rpID)
		} else if suffix, icann := publicsuffix.PublicSuffix(rpID); icann && suffix == rpID {
			bad("the relying party ID %q is a public suffix", rpID)
		}
	}
	if strings.TrimSpace(cfg.RPDisplayName) == "" {
		bad("the relying party display name is empty")
	}
	if len(cfg.RPOrigins) == 0 {
		bad("no origin")
	}
	for _, o := range cfg.RPOrigins {
		if err := checkOrigin(o, rpID); err != nil {
			bad("origin %q: %v", o, err)
		}
	}
	if len(cfg.UserHandleKey) < 32 {
		bad("the user handle key has %d bytes, want at least 32", len(cfg.UserHandleKey))
	}
	timeout := func(name string, d time.Duration) time.Duration {
		if d == 0 {
			return WebAuthnTimeout
		}
		if d < minWebAuthnTimeout || d > maxWebAuthnTimeout {
			bad("the %s timeout %v is not between %v and %v", name, d, minWebAuthnTimeout, maxWebAuthnTimeout)
		}
		return d
	}
	registerAfter := timeout("registration", cfg.RegistrationTimeout)
	loginAfter := timeout("login", cfg.LoginTimeout)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	clock := cfg.Clock
	if clock == nil {
		clock = mamoru.SystemClock{}
	}
	w, err := webauthn.New(&webauthn.Config{
		RPID:                  rpID,
		RPDisplayName:         cfg.RPDisplayName,
		RPOrigins:             append([]string(nil), cfg.RPOrigins...),
		AttestationPreference: protocol.PreferNoAttestation,
		// The sessions' expiry is checked here, with the injected clock;
		// go-webauthn's own enforcement would use time.Now.
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: loginAfter, TimeoutUVD: loginAfter},
			Registration: webauthn.TimeoutConfig{Timeout: registerAfter, TimeoutUVD: registerAfter},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn: %w", err)
	}
	return &WebAuthn{w: w, rpID: rpID, key: append([]byte(nil), cfg.UserHandleKey...), clock: clock,
		registerAfter: registerAfter, loginAfter: loginAfter}, nil
}

// checkOrigin accepts "scheme://host[:port]" where the scheme is https (or
// http on localhost) and the host is rpID or below it.
func checkOrigin(origin, rpID string) error {
	u, err := url.Parse(origin)
	if err != nil {
		return err
	}
	if u.Scheme+"://"+u.Host != origin || u.Host == "" {
		return errors.New("not of the form scheme://host[:port]")
	}
	host := u.Hostname()
	local := host == "localhost" || strings.HasSuffix(host, ".localhost")
	if u.Scheme != "https" && !(u.Scheme == "http" && local) {
		return errors.New("WebAuthn needs https (http only on localhost)")
	}
	if rpID != "" && host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return fmt.Errorf("the host is not %s nor a subdomain of it", rpID)
	}
	return nil
}

// RPID returns the relying party ID.
func (w *WebAuthn) RPID() string { return w.rpID }

// UserHandle returns the WebAuthn user handle of the account:
// HMAC-SHA256(UserHandleKey, domain ‖ accountID), 32 bytes. It is stable
// without being stored, the same for all the account's credentials, and
// reveals nothing of the account ID to the authenticator or to anyone who
// reads it from one.
func (w *WebAuthn) UserHandle(accountID string) []byte {
	m := hmac.New(sha256.New, w.key)
	m.Write([]byte(userHandleDomain))
	m.Write([]byte(accountID))
	return m.Sum(nil)[:WebAuthnUserHandleSize]
}

// webauthnData is the Data of a CredentialWebAuthn credential.
type webauthnData struct {
	V int `json:"v"`
	// RPID is the relying party ID the credential was registered for; it
	// works for that one only.
	RPID string `json:"rpId"`
	// Passkey: registered as a passkey (resident key and user
	// verification required), not as a security key for 2-step sign-in.
	Passkey bool `json:"passkey"`
	// Credential is go-webauthn's record: the public key, the signature
	// counter, the flags, the transports, the AAGUID, the attestation.
	Credential webauthn.Credential `json:"credential"`
	// LastChallenge is the SHA-256 of the challenge of the last accepted
	// assertion: the same session used twice is refused even by an
	// authenticator whose counter stays at zero.
	LastChallenge []byte `json:"lastChallenge,omitempty"`
}

func decodeWebAuthnData(c *mamoru.Credential) (*webauthnData, error) {
	var d webauthnData
	if err := json.Unmarshal(c.Data, &d); err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: WebAuthn credential "+c.ID)
	}
	if d.V != webauthnDataVersion || len(d.Credential.ID) == 0 || len(d.Credential.PublicKey) == 0 {
		return nil, mamoru.Errorf(mamoru.EInternal, "mfa: WebAuthn credential %s: unusable data (version %d)", c.ID, d.V)
	}
	return &d, nil
}

// WebAuthnInfo describes a WebAuthn credential for the account page.
type WebAuthnInfo struct {
	RPID           string   // the relying party it was registered for
	Passkey        bool     // registered as a passkey, not as a security key
	Discoverable   *bool    // the authenticator's credProps answer: a resident key; nil if it did not say
	AAGUID         []byte   // the authenticator model (16 bytes; zeros when not told)
	Transports     []string // how the browser reaches it: usb, nfc, ble, internal, hybrid
	SignCount      uint32   // the signature counter last seen
	BackupEligible bool     // a synced passkey can be copied to other devices
	BackupState    bool     // ... and was, at the last use
	UserVerified   bool     // the authenticator verified the person (PIN, biometrics)
}

// ReadWebAuthn returns what the Data of a CredentialWebAuthn credential
// tells.
func ReadWebAuthn(c *mamoru.Credential) (*WebAuthnInfo, error) {
	if c.Kind != mamoru.CredentialWebAuthn {
		return nil, mamoru.Errorf(mamoru.EInternal, "mfa: credential %s is %s, not webauthn", c.ID, c.Kind)
	}
	d, err := decodeWebAuthnData(c)
	if err != nil {
		return nil, err
	}
	info := &WebAuthnInfo{RPID: d.RPID, Passkey: d.Passkey, Discoverable: d.Credential.Extensions.RK,
		AAGUID: d.Credential.Authenticator.AAGUID, SignCount: d.Credential.Authenticator.SignCount,
		BackupEligible: d.Credential.Flags.BackupEligible, BackupState: d.Credential.Flags.BackupState,
		UserVerified: d.Credential.Flags.UserVerified}
	for _, t := range d.Credential.Transport {
		info.Transports = append(info.Transports, string(t))
	}
	return info, nil
}

// The ceremonies a session is for.
const (
	ceremonyRegistration = "registration"
	ceremonyLogin        = "login"        // second factor: the account is known
	ceremonyDiscoverable = "discoverable" // passkey first: no account yet
)

// webauthnSession is the opaque session of a ceremony, kept by the caller
// on the server side (in the flow) between Begin and Finish.
type webauthnSession struct {
	V         int                  `json:"v"`
	Ceremony  string               `json:"ceremony"`
	AccountID string               `json:"account,omitempty"`
	Passkey   bool                 `json:"passkey,omitempty"`
	Expires   time.Time            `json:"expires"`
	Data      webauthn.SessionData `json:"data"`
}

func (w *WebAuthn) newSession(ceremony, accountID string, passkey bool, data *webauthn.SessionData, after time.Duration) ([]byte, error) {
	s := webauthnSession{V: webauthnSessionVersion, Ceremony: ceremony, AccountID: accountID, Passkey: passkey,
		Expires: w.clock.Now().Add(after).UTC(), Data: *data}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: WebAuthn session")
	}
	return b, nil
}

// openSession decodes a session and checks its ceremony, its account and
// its expiry. A session that does not decode or is for another ceremony or
// account is the caller's mistake (EInternal); an expired one is
// EFlowExpired.
func (w *WebAuthn) openSession(b []byte, ceremony, accountID string) (*webauthnSession, error) {
	var s webauthnSession
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: WebAuthn session")
	}
	switch {
	case s.V != webauthnSessionVersion || s.Data.Challenge == "":
		return nil, mamoru.Errorf(mamoru.EInternal, "mfa: unusable WebAuthn session (version %d)", s.V)
	case s.Ceremony != ceremony:
		return nil, mamoru.Errorf(mamoru.EInternal, "mfa: a WebAuthn %s session used for %s", s.Ceremony, ceremony)
	case s.AccountID != accountID:
		return nil, mamoru.Errorf(mamoru.EInternal, "mfa: a WebAuthn session of another account")
	case !w.clock.Now().Before(s.Expires):
		return nil, mamoru.Errorf(mamoru.EFlowExpired, "the security key request expired")
	}
	return &s, nil
}

// user is an account as go-webauthn sees it, with its usable WebAuthn
// credentials.
type user struct {
	handle []byte
	name   string
	creds  []webauthn.Credential
	rows   []*mamoru.Credential // rows[i] holds creds[i]
	data   []*webauthnData      // data[i] is rows[i]'s decoded Data
}

func (u *user) WebAuthnID() []byte                         { return u.handle }
func (u *user) WebAuthnName() string                       { return u.name }
func (u *user) WebAuthnDisplayName() string                { return u.name }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// newUser returns a's user with those of creds that are a's WebAuthn
// credentials for this relying party; the others are left out.
func (w *WebAuthn) newUser(a *mamoru.Account, creds []*mamoru.Credential) (*user, error) {
	if a == nil || a.ID == "" {
		return nil, mamoru.Errorf(mamoru.EInternal, "mfa: WebAuthn without an account")
	}
	u := &user{handle: w.UserHandle(a.ID), name: a.Email}
	if u.name == "" {
		u.name = a.ID
	}
	for _, c := range creds {
		if c == nil || c.Kind != mamoru.CredentialWebAuthn || c.AccountID != a.ID {
			continue
		}
		d, err := decodeWebAuthnData(c)
		if err != nil {
			return nil, err
		}
		if d.RPID != w.rpID {
			continue
		}
		u.creds = append(u.creds, d.Credential)
		u.rows = append(u.rows, c)
		u.data = append(u.data, d)
	}
	return u, nil
}

// challenge returns a new challenge from mamoru.Random (32 bytes).
func challenge() protocol.URLEncodedBase64 {
	return protocol.URLEncodedBase64(mamoru.RandomBytes(32))
}

// refused wraps a go-webauthn verification error as EInvalidCode, keeping
// its developer information for the log.
func refused(err error, message string) error {
	return mamoru.WrapError(mamoru.EInvalidCode, describe(err), message)
}

// malformed wraps a go-webauthn parse error as EInvalidRequest.
func malformed(err error, message string) error {
	return mamoru.WrapError(mamoru.EInvalidRequest, describe(err), message)
}

// describe adds the developer information of a go-webauthn error, which
// its Error method leaves out.
func describe(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.DevInfo != "" {
		return fmt.Errorf("%w (%s)", err, pe.DevInfo)
	}
	return err
}

func marshalOptions(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: WebAuthn options")
	}
	return b, nil
}
