package password

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"hash"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// verifyBcrypt checks pw against a $2a$, $2b$ or $2y$ bcrypt hash. Like
// every bcrypt implementation it uses only the first 72 bytes of pw, which
// is how the imported hash was made; the argon2id rehash that follows a
// successful sign-in uses the whole password.
func verifyBcrypt(pw, encoded string) (bool, error) {
	if err := checkBcrypt(encoded); err != nil {
		return false, err
	}
	err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(pw))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, malformed("bcrypt: %v", err)
	}
}

// checkBcrypt parses a bcrypt hash and checks its cost is at most
// maxBcryptCost.
func checkBcrypt(encoded string) error {
	cost, err := bcrypt.Cost([]byte(encoded))
	if err != nil {
		return malformed("bcrypt: %v", err)
	}
	if len(encoded) != 60 {
		return malformed("bcrypt: length %d, want 60", len(encoded))
	}
	if cost > maxBcryptCost {
		return malformed("bcrypt: cost %d above %d", cost, maxBcryptCost)
	}
	return nil
}

// pbkdf2Hash is a parsed PBKDF2 hash in one of the supported formats.
type pbkdf2Hash struct {
	prf   func() hash.Hash
	iter  int
	salt  []byte
	key   []byte
	label string // for error messages
}

// parsePBKDF2 parses the PBKDF2 formats:
//
//   - passlib/PHC style: $pbkdf2$<iter>$<salt>$<hash> (HMAC-SHA-1),
//     $pbkdf2-sha256$... and $pbkdf2-sha512$..., salt and hash in passlib's
//     adapted base64 ("." for "+", no padding); the salt is the decoded
//     bytes. The iteration field may also be PHC's "i=<iter>".
//   - Django style: pbkdf2_sha256$<iter>$<salt>$<hash>, also pbkdf2_sha1
//     and pbkdf2_sha512; the salt is used as its literal text and the hash
//     is standard padded base64.
//
// The key length is that of the stored hash.
func parsePBKDF2(s string) (*pbkdf2Hash, error) {
	var scheme, iter, salt, key string
	django := !strings.HasPrefix(s, "$")
	parts := strings.Split(s, "$")
	if django {
		if len(parts) != 4 {
			return nil, malformed("pbkdf2: wrong number of fields")
		}
		scheme, iter, salt, key = parts[0], parts[1], parts[2], parts[3]
	} else {
		if len(parts) != 5 || parts[0] != "" {
			return nil, malformed("pbkdf2: wrong number of fields")
		}
		scheme, iter, salt, key = parts[1], parts[2], parts[3], parts[4]
		iter = strings.TrimPrefix(iter, "i=")
	}
	h := &pbkdf2Hash{label: scheme}
	switch scheme {
	case "pbkdf2", "pbkdf2-sha1", "pbkdf2_sha1":
		h.prf = sha1.New
	case "pbkdf2-sha256", "pbkdf2_sha256":
		h.prf = sha256.New
	case "pbkdf2-sha512", "pbkdf2_sha512":
		h.prf = sha512.New
	default:
		return nil, unsupported("pbkdf2: scheme %q", scheme)
	}
	n, err := parseDecimal(iter, 32)
	if err != nil || n < 1 || n > maxPBKDF2Iterations {
		return nil, malformed("pbkdf2: iterations %q out of range 1..%d", iter, maxPBKDF2Iterations)
	}
	h.iter = int(n)
	if django {
		if salt == "" {
			return nil, malformed("pbkdf2: empty salt")
		}
		h.salt = []byte(salt)
		h.key, err = base64.StdEncoding.DecodeString(key)
	} else {
		h.salt, err = decodeAB64(salt)
		if err != nil || len(h.salt) == 0 {
			return nil, malformed("pbkdf2: salt: bad encoding")
		}
		h.key, err = decodeAB64(key)
	}
	if err != nil {
		return nil, malformed("pbkdf2: hash: %v", err)
	}
	if len(h.key) < minKeyLen || len(h.key) > maxKeyLen {
		return nil, malformed("pbkdf2: hash length %d out of range %d..%d", len(h.key), minKeyLen, maxKeyLen)
	}
	return h, nil
}

// decodeAB64 decodes passlib's adapted base64 ("." in place of "+", no
// padding); standard unpadded base64 decodes too.
func decodeAB64(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.ReplaceAll(s, ".", "+"))
}

// verify reports whether pw derives h.key, in constant time.
func (h *pbkdf2Hash) verify(pw string) (bool, error) {
	got, err := pbkdf2.Key(h.prf, pw, h.salt, h.iter, len(h.key))
	if err != nil {
		return false, malformed("%s: %v", h.label, err)
	}
	return subtle.ConstantTimeCompare(got, h.key) == 1, nil
}
