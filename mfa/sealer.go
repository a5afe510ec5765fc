package mfa

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"

	"github.com/mamoru-id/mamoru"
)

// SealKeySecret is the name of the server secret (mamoru.SecretStore)
// that holds the 32-byte key of the Sealer.
const SealKeySecret = "mfa-seal-key"

// sealVersion is the first byte of a sealed value. Key rotation is out of
// scope; when it comes, a new version byte can name the key.
const sealVersion = 1

// sealAD prefixes the additional data of every seal, so that a value
// sealed for another purpose with the same key does not open here.
const sealAD = "mamoru mfa credential v1\x00"

// ErrUnsealable is the cause of every Open failure: the value was changed,
// belongs to another credential, or was sealed with another key.
var ErrUnsealable = errors.New("mfa: the sealed secret does not open")

// Sealer encrypts credential secrets at rest with AES-256-GCM. The
// credential ID is the additional data, so a sealed secret copied to
// another row (another account's credential) does not open there.
//
// A sealed value is: version (1 byte) | nonce (12 random bytes) |
// ciphertext and tag. Random nonces are safe for far more seals than a
// server makes with one key (NIST SP 800-38D: 2^32). One key, no
// rotation: rotating it would need a key ID in the version byte and a
// re-seal of every row, which is not done yet.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer with a 32-byte (AES-256) key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, mamoru.Errorf(mamoru.EInternal, "mfa: the seal key has %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: seal key")
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: seal key")
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plain for the credential id. id must not be empty.
func (s *Sealer) Seal(id string, plain []byte) ([]byte, error) {
	if id == "" {
		return nil, mamoru.Errorf(mamoru.EInternal, "mfa: seal needs the credential ID")
	}
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+s.aead.Overhead())
	out[0] = sealVersion
	copy(out[1:], mamoru.RandomBytes(ns))
	return s.aead.Seal(out, out[1:1+ns], plain, additionalData(id)), nil
}

// Open decrypts a value sealed for the credential id. Any change to it, a
// different id or a different key gives an EInternal error wrapping
// ErrUnsealable.
func (s *Sealer) Open(id string, sealed []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < 1+ns+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, mamoru.WrapError(mamoru.EInternal, ErrUnsealable, "mfa: malformed sealed secret")
	}
	plain, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], additionalData(id))
	if err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, ErrUnsealable, "mfa: open sealed secret of credential "+id)
	}
	return plain, nil
}

func additionalData(id string) []byte {
	return append([]byte(sealAD), id...)
}
