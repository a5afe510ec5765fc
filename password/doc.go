// Package password holds everything mamoru does with a password itself:
// Unicode normalization (Normalize), the length and common-password policy
// (Policy), and hashing and verification (Hasher) with argon2id, plus
// verification of imported bcrypt and PBKDF2 hashes so that they can be
// replaced by argon2id on the next sign-in.
//
// It must not store, log or return passwords, decide what happens after a
// failed verification (throttling and lockouts belong to package guard), or
// contain user-facing text: failures are *mamoru.Error values with codes
// that the web layer translates. It imports only the root package, the
// standard library and golang.org/x.
package password
