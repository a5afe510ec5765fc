package mamoru

import (
	"context"
	"time"
)

// CredentialKind names a second sign-in factor (a 2-step method).
type CredentialKind string

// The credential kinds.
const (
	// CredentialTOTP is an authenticator app (RFC 6238 time-based codes).
	CredentialTOTP CredentialKind = "totp"
	// CredentialWebAuthn is a security key or passkey.
	CredentialWebAuthn CredentialKind = "webauthn"
	// CredentialBackupCodes is a set of single-use backup codes.
	CredentialBackupCodes CredentialKind = "backup_codes"
	// CredentialSMS is a code sent by SMS to the phone already on the
	// account (Account.Phone); the credential records that the owner chose
	// it, not the number.
	CredentialSMS CredentialKind = "sms"
	// CredentialRememberedDevice is not a method: it is a device on which
	// the owner passed 2-step verification and asked to be remembered, so
	// that sign-ins from it skip the second step until it expires (its
	// Data, owned by package account, holds a keyed hash of the device
	// cookie and the expiry).
	CredentialRememberedDevice CredentialKind = "remembered_device"
)

// Method names a way to pass the second step of a sign-in or a step-up,
// as the API names it.
type Method string

// The methods.
const (
	MethodTOTP       Method = "totp"        // a code from an authenticator app
	MethodWebAuthn   Method = "webauthn"    // a security key or passkey
	MethodBackupCode Method = "backup_code" // one of the backup codes
	MethodSMS        Method = "sms"         // a code sent by SMS to the account's phone
	MethodEmail      Method = "email"       // a code emailed to the account (accounts without 2-step verification)
	MethodPassword   Method = "password"    // the password again (step-up of accounts without 2-step verification)
)

// SecondFactor reports whether passing m proves a second factor (an
// authenticator the owner enrolled), which makes a session AAL2.
func (m Method) SecondFactor() bool {
	switch m {
	case MethodTOTP, MethodWebAuthn, MethodBackupCode, MethodSMS:
		return true
	}
	return false
}

// MethodOf is the method a credential of kind k gives; "" for a kind that
// is not a method.
func MethodOf(k CredentialKind) Method {
	switch k {
	case CredentialTOTP:
		return MethodTOTP
	case CredentialWebAuthn:
		return MethodWebAuthn
	case CredentialBackupCodes:
		return MethodBackupCode
	case CredentialSMS:
		return MethodSMS
	}
	return ""
}

// Credential is one 2-step method of an account. Its secrets are never
// stored in the clear: Secret is sealed (package mfa) with the credential
// ID as additional data, and Data holds only hashes or public material.
// Version increases with each update so that, of two concurrent uses of
// one code, exactly one can be recorded.
type Credential struct {
	ID        string
	AccountID string
	Kind      CredentialKind
	Name      string // the owner's label, e.g. "iPhone"
	// Secret is the sealed TOTP secret; empty for the other kinds.
	Secret []byte
	// Data is kind-specific JSON owned by package mfa: the WebAuthn
	// credential, or the hashed backup codes and which are used.
	Data []byte
	// WebAuthnID is the WebAuthn credential ID, unique across accounts, for
	// discoverable (username-less) sign-in; nil for the other kinds.
	WebAuthnID []byte
	// LastUsedStep is, for TOTP, the time step of the last accepted code:
	// a code of this step or an earlier one is refused as a replay.
	LastUsedStep int64
	CreatedAt    time.Time
	LastUsedAt   time.Time // zero if never used
	Version      int
}

// CredentialStore persists the 2-step credentials. A credential belongs to
// an existing account and is deleted with it.
type CredentialStore interface {
	// CreateCredential inserts c with Version 1 (and sets c.Version).
	// EConflict if the ID or the WebAuthnID is taken, ENotFound if the
	// account does not exist, EInvalidRequest without an ID, account or
	// kind.
	CreateCredential(ctx context.Context, c *Credential) error
	// CredentialByID returns ENotFound if none.
	CredentialByID(ctx context.Context, id string) (*Credential, error)
	// CredentialByWebAuthnID returns the credential with that WebAuthn
	// credential ID; ENotFound if none.
	CredentialByWebAuthnID(ctx context.Context, id []byte) (*Credential, error)
	// ListCredentials returns the account's credentials, oldest first.
	ListCredentials(ctx context.Context, accountID string) ([]*Credential, error)
	// UpdateCredential writes Name, Secret, Data, LastUsedStep and
	// LastUsedAt if the stored Version equals c.Version, and increments
	// c.Version. Otherwise it returns EConflict (another use or change
	// won) or ENotFound. ID, AccountID, Kind, WebAuthnID and CreatedAt
	// never change.
	UpdateCredential(ctx context.Context, c *Credential) error
	// DeleteCredential deletes the credential id of the account;
	// ENotFound if there is none or it belongs to another account.
	DeleteCredential(ctx context.Context, accountID, id string) error
}
