package mfa

import (
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/mamoru-id/mamoru"
)

// BeginRegistration starts adding a security key (passkey false) or a
// passkey (passkey true) to account a, whose credentials so far are
// existing. options is the JSON of the PublicKeyCredentialCreationOptions
// wrapped as {"publicKey": ...} (for PublicKeyCredential.
// parseCreationOptionsFromJSON and navigator.credentials.create); session
// is opaque, to be kept on the server (in the flow) and given to
// FinishRegistration once.
//
// The user handle is UserHandle(a.ID); the user name shown by
// authenticators is the email address. The account's WebAuthn credentials
// are excluded, so an authenticator that already holds one says so instead
// of making a second. A passkey requires a resident (discoverable) key and
// user verification, as it is also used alone (passkey-first sign-in); a
// security key discourages both, as it follows the password. No
// attestation is asked for ("none").
func (w *WebAuthn) BeginRegistration(a *mamoru.Account, existing []*mamoru.Credential, passkey bool) (options, session []byte, err error) {
	u, err := w.newUser(a, existing)
	if err != nil {
		return nil, nil, err
	}
	sel := protocol.AuthenticatorSelection{
		ResidentKey:      protocol.ResidentKeyRequirementDiscouraged,
		UserVerification: protocol.VerificationDiscouraged,
	}
	if passkey {
		sel = protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		}
	}
	creation, data, err := w.w.BeginRegistration(u,
		func(o *protocol.PublicKeyCredentialCreationOptions) error { o.Challenge = challenge(); return nil },
		webauthn.WithAuthenticatorSelection(sel),
		webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()),
	)
	if err != nil {
		return nil, nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: WebAuthn registration")
	}
	if options, err = marshalOptions(creation); err != nil {
		return nil, nil, err
	}
	if session, err = w.newSession(ceremonyRegistration, a.ID, passkey, data, w.registerAfter); err != nil {
		return nil, nil, err
	}
	return options, session, nil
}

// FinishRegistration checks the browser's answer (the JSON of the
// PublicKeyCredential, as its toJSON method makes it) to the registration
// begun with session for account a, and returns the new credential, named
// name by its owner, for CredentialStore.CreateCredential. Its WebAuthnID
// is the credential ID; its Data holds go-webauthn's credential record
// (public key, signature counter, flags, transports, AAGUID) and whether
// it is a passkey.
//
// The refusals, every one a *mamoru.Error:
//   - EInvalidRequest: a response that is not a WebAuthn registration
//     response at all (not JSON, missing fields, bad base64url, an
//     attestation object that is not CBOR, more than 64 KiB), or a name
//     that is too long or has control characters. No person causes these
//     by a mistake: it is a broken or tampering client.
//   - EInvalidCode: a well-formed response that does not verify: another
//     challenge, origin or relying party ID, no user presence, no user
//     verification for a passkey, a bad attestation statement, an
//     unsupported algorithm.
//   - EFlowExpired: the session is older than the registration timeout.
//   - EInternal: a session that does not decode or belongs to another
//     account or ceremony (a mistake of the caller).
//
// The session is good for one registration; the caller deletes it before
// or as it calls this. Used twice, it would make the same credential
// twice, which CreateCredential refuses (EConflict on the WebAuthnID).
func (w *WebAuthn) FinishRegistration(a *mamoru.Account, session, responseJSON []byte, name string) (*mamoru.Credential, error) {
	if a == nil {
		return nil, mamoru.Errorf(mamoru.EInternal, "mfa: WebAuthn without an account")
	}
	s, err := w.openSession(session, ceremonyRegistration, a.ID)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if len(name) > maxWebAuthnName || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return nil, mamoru.Errorf(mamoru.EInvalidRequest, "the name is too long or has control characters")
	}
	if len(responseJSON) > maxWebAuthnResponse {
		return nil, mamoru.Errorf(mamoru.EInvalidRequest, "the WebAuthn response is too large")
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(responseJSON)
	if err != nil {
		return nil, malformed(err, "not a WebAuthn registration response")
	}
	// The account's other credentials do not matter here: go-webauthn
	// compares the user handle only.
	u := &user{handle: w.UserHandle(a.ID), name: a.Email}
	cred, err := w.w.CreateCredential(u, s.Data, parsed)
	if err != nil {
		return nil, refused(err, "the security key's registration was not accepted")
	}
	data, err := json.Marshal(webauthnData{V: webauthnDataVersion, RPID: w.rpID, Passkey: s.Passkey, Credential: *cred})
	if err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: WebAuthn credential")
	}
	return &mamoru.Credential{
		ID:         mamoru.NewID(),
		AccountID:  a.ID,
		Kind:       mamoru.CredentialWebAuthn,
		Name:       name,
		Data:       data,
		WebAuthnID: append([]byte(nil), cred.ID...),
		CreatedAt:  w.clock.Now().UTC().Truncate(time.Microsecond),
	}, nil
}
