package mamoru

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"io"
)

// Random is the source of randomness of the server. Tests may swap in a
// deterministic reader; production uses crypto/rand.Reader.
var Random io.Reader = rand.Reader

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a random identifier of 128 bits (26 lower-case base32
// characters), for database rows. It is not secret.
func NewID() string {
	return idEncoding.EncodeToString(RandomBytes(16))
}

// NewSecret returns a random secret of 256 bits, base64url without padding,
// for session tokens, flow bindings and link tokens.
func NewSecret() string {
	return base64.RawURLEncoding.EncodeToString(RandomBytes(32))
}

// RandomBytes returns n random bytes from Random. It panics if the source
// fails, as there is no safe way on without randomness.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(Random, b); err != nil {
		panic("mamoru: random source failed: " + err.Error())
	}
	return b
}

// HashSecret returns the SHA-256 of a high-entropy secret (a session token,
// a flow binding, a link token): what is stored in place of the secret.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
