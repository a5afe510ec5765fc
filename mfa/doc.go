// Package mfa holds the logic of the 2-step methods (mamoru.Credential):
// sealing of stored secrets (Sealer), authenticator apps (RFC 6238 TOTP:
// enrollment with an otpauth:// URL and a QR code, verification with a
// ±1 step window and replay refusal), backup codes (generation, hashed
// storage, single use), and security keys and passkeys (WebAuthn, with
// go-webauthn: registration, second-factor and passkey-first sign-in,
// the user handle, sign-counter and replay refusals).
//
// It is pure: no HTTP, no storage, no sending, no logging. The caller
// loads the credential, calls these functions with the opened secret or
// the stored data, the server keys (kept in the secrets table under
// SealKeySecret, BackupCodeKeySecret and WebAuthnUserHandleKeySecret) and
// the time, and writes the result back with
// CredentialStore.UpdateCredential, whose version check lets exactly one
// of two concurrent uses of a code win. A WebAuthn
// ceremony's session is opaque bytes that the caller keeps in its flow
// between Begin and Finish and uses once. Randomness comes from
// mamoru.Random and time from the caller (or the clock given to
// NewWebAuthn), so tests are exact.
//
// Not here yet: SMS codes, and the sign-in step and pages that use these
// methods (docs/mfa.md).
package mfa
