package mfa

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/mamoru-id/mamoru"
)

// BeginLogin starts a 2-step sign-in of account a with one of its
// WebAuthn credentials (security keys and passkeys alike): the options'
// allowCredentials lists those of creds registered for this relying
// party, and user verification is discouraged, as the password came
// first. options is {"publicKey": PublicKeyCredentialRequestOptions} as
// JSON (for PublicKeyCredential.parseRequestOptionsFromJSON and
// navigator.credentials.get); session is opaque, to be kept on the server
// and given to FinishLogin once. An account without a usable WebAuthn
// credential is EInvalidRequest.
func (w *WebAuthn) BeginLogin(a *mamoru.Account, creds []*mamoru.Credential) (options, session []byte, err error) {
	u, err := w.newUser(a, creds)
	if err != nil {
		return nil, nil, err
	}
	if len(u.creds) == 0 {
		return nil, nil, mamoru.Errorf(mamoru.EInvalidRequest, "the account has no security key for %s", w.rpID)
	}
	assertion, data, err := w.w.BeginLogin(u,
		webauthn.WithChallenge(challenge()),
		webauthn.WithUserVerification(protocol.VerificationDiscouraged))
	if err != nil {
		return nil, nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: WebAuthn login")
	}
	if options, err = marshalOptions(assertion); err != nil {
		return nil, nil, err
	}
	if session, err = w.newSession(ceremonyLogin, a.ID, false, data, w.loginAfter); err != nil {
		return nil, nil, err
	}
	return options, session, nil
}

// BeginDiscoverableLogin starts a passkey-first sign-in: no account is
// known yet, the options allow any discoverable credential of this relying
// party, and user verification is required, as the passkey stands for
// both factors. The result is as for BeginLogin; the session goes to
// FinishDiscoverableLogin.
func (w *WebAuthn) BeginDiscoverableLogin() (options, session []byte, err error) {
	assertion, data, err := w.w.BeginDiscoverableLogin(
		webauthn.WithChallenge(challenge()),
		webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: WebAuthn login")
	}
	if options, err = marshalOptions(assertion); err != nil {
		return nil, nil, err
	}
	if session, err = w.newSession(ceremonyDiscoverable, "", false, data, w.loginAfter); err != nil {
		return nil, nil, err
	}
	return options, session, nil
}

// FinishLogin checks the browser's answer (the JSON of the
// PublicKeyCredential, as its toJSON method makes it) to the 2-step
// sign-in of account a begun with session; creds are a's credentials as
// stored now. It returns a copy of the credential that was used, with the
// new signature counter and flags in Data and LastUsedAt set: the caller
// writes it with CredentialStore.UpdateCredential, whose version check
// lets one of two concurrent uses win (the loser must count as refused).
//
// Verified (WebAuthn §7.2, by go-webauthn, and here): the credential is
// one of a's, allowed by the session; the client data's type, challenge
// (the session's), origin (one of RPOrigins, not cross-origin) and the
// authenticator data's RP ID hash (RPID); user presence, and user
// verification where the ceremony required it; the signature with the
// stored public key; consistent backup flags; and a signature counter
// that increases.
//
// The refusals are those of FinishRegistration (EInvalidRequest for a
// response that is not a WebAuthn assertion, EInvalidCode for one that
// does not verify, EFlowExpired, EInternal for the caller's mistakes),
// plus, as EInvalidCode with a cause for errors.Is:
//   - ErrClonedAuthenticator: the counter did not increase (it stayed at
//     zero only if the authenticator never counts, as synced passkeys
//     do). The assertion is refused, not just flagged: a cloned key is a
//     stolen key. The stored credential is left as it was, so the owner's
//     authenticator, if it is the genuine one, keeps working once its
//     counter is ahead again; the caller should tell the owner.
//   - ErrReplayed: the session's challenge is the one of the credential's
//     last accepted assertion — this session was used already.
//
// Replays: a session is single use, and the caller must delete it before
// or as it calls this (a "take"), so that no response can be verified
// against it twice. The library cannot delete it, but it refuses a second
// use of a session with the same credential (LastChallenge in Data, after
// the caller stored the first use), and a response replayed against a new
// session fails on its challenge.
func (w *WebAuthn) FinishLogin(a *mamoru.Account, creds []*mamoru.Credential, session, responseJSON []byte) (*mamoru.Credential, error) {
	if a == nil {
		return nil, mamoru.Errorf(mamoru.EInternal, "mfa: WebAuthn without an account")
	}
	s, err := w.openSession(session, ceremonyLogin, a.ID)
	if err != nil {
		return nil, err
	}
	parsed, err := parseAssertion(responseJSON)
	if err != nil {
		return nil, err
	}
	u, err := w.newUser(a, creds)
	if err != nil {
		return nil, err
	}
	if err := checkChallengeUnused(u, parsed.RawID, s); err != nil {
		return nil, err
	}
	cred, err := w.w.ValidateLogin(u, s.Data, parsed)
	if err != nil {
		return nil, refused(err, "the security key was not accepted")
	}
	return w.used(u, cred, s)
}

// FinishDiscoverableLogin checks the browser's answer to a passkey-first
// sign-in begun with session. lookup finds the account of the credential
// from its ID (CredentialStore.CredentialByWebAuthnID) and returns it with
// its credentials (ListCredentials); the user handle it also gets is
// checked here against UserHandle of the account found. It returns the
// account and the credential used, updated as by FinishLogin.
//
// The refusals are those of FinishLogin. A lookup error with the code
// ENotFound (a passkey the store does not know: deleted, or never
// registered) is EInvalidCode with ErrUnknownCredential; any other lookup
// error is returned as it is. The account's status is the caller's to
// check.
func (w *WebAuthn) FinishDiscoverableLogin(session, responseJSON []byte,
	lookup func(credentialID, userHandle []byte) (*mamoru.Account, []*mamoru.Credential, error)) (*mamoru.Account, *mamoru.Credential, error) {
	s, err := w.openSession(session, ceremonyDiscoverable, "")
	if err != nil {
		return nil, nil, err
	}
	parsed, err := parseAssertion(responseJSON)
	if err != nil {
		return nil, nil, err
	}
	var (
		account   *mamoru.Account
		u         *user
		lookupErr error
	)
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		a, creds, err := lookup(rawID, userHandle)
		if err == nil && a == nil {
			err = mamoru.Errorf(mamoru.ENotFound, "no account")
		}
		if err == nil {
			u, err = w.newUser(a, creds)
		}
		if err == nil {
			err = checkChallengeUnused(u, rawID, s)
		}
		if err != nil {
			lookupErr = err
			return nil, err
		}
		account = a
		return u, nil
	}
	_, cred, err := w.w.ValidatePasskeyLogin(handler, s.Data, parsed)
	switch {
	case lookupErr != nil && mamoru.ErrorCode(lookupErr) == mamoru.ENotFound:
		return nil, nil, mamoru.WrapError(mamoru.EInvalidCode, ErrUnknownCredential, "the passkey is not known")
	case lookupErr != nil:
		return nil, nil, lookupErr
	case err != nil:
		return nil, nil, refused(err, "the passkey was not accepted")
	}
	c, err := w.used(u, cred, s)
	if err != nil {
		return nil, nil, err
	}
	return account, c, nil
}

// parseAssertion parses an assertion response; anything that is not one
// is EInvalidRequest.
func parseAssertion(responseJSON []byte) (*protocol.ParsedCredentialAssertionData, error) {
	if len(responseJSON) > maxWebAuthnResponse {
		return nil, mamoru.Errorf(mamoru.EInvalidRequest, "the WebAuthn response is too large")
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(responseJSON)
	if err != nil {
		return nil, malformed(err, "not a WebAuthn assertion")
	}
	return parsed, nil
}

// checkChallengeUnused refuses a session whose challenge was that of the
// last accepted assertion of the credential rawID.
func checkChallengeUnused(u *user, rawID []byte, s *webauthnSession) error {
	h := sha256.Sum256([]byte(s.Data.Challenge))
	for i, c := range u.creds {
		if bytes.Equal(c.ID, rawID) && bytes.Equal(u.data[i].LastChallenge, h[:]) {
			return mamoru.WrapError(mamoru.EInvalidCode, ErrReplayed, "the security key's answer was already used")
		}
	}
	return nil
}

// used returns a copy of the row of the verified credential cred with
// its new state: refused if its counter did not increase.
func (w *WebAuthn) used(u *user, cred *webauthn.Credential, s *webauthnSession) (*mamoru.Credential, error) {
	i := -1
	for j, c := range u.creds {
		if bytes.Equal(c.ID, cred.ID) {
			i = j
			break
		}
	}
	if i < 0 {
		return nil, mamoru.Errorf(mamoru.EInternal, "mfa: go-webauthn verified a credential the account does not have")
	}
	if cred.Authenticator.CloneWarning {
		return nil, mamoru.WrapError(mamoru.EInvalidCode, ErrClonedAuthenticator, "the security key was not accepted")
	}
	d := *u.data[i]
	d.Credential = *cred
	h := sha256.Sum256([]byte(s.Data.Challenge))
	d.LastChallenge = h[:]
	data, err := json.Marshal(d)
	if err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: WebAuthn credential")
	}
	c := *u.rows[i]
	c.Data = data
	c.LastUsedAt = w.clock.Now().UTC().Truncate(time.Microsecond)
	return &c, nil
}
