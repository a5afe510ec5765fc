package password

import "strings"

// Recognize returns nil if Verify can check passwords against encoded (an
// argon2id, bcrypt or PBKDF2 hash in a supported format with parameters
// in range), and otherwise the error Verify would return, wrapping
// ErrMalformedHash or ErrUnsupportedHash. It does no hashing, so it suits
// checking hashes being imported.
func Recognize(encoded string) error {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		_, err := parseArgon2id(encoded)
		return err
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return checkBcrypt(encoded)
	case strings.HasPrefix(encoded, "$pbkdf2"), strings.HasPrefix(encoded, "pbkdf2_"):
		_, err := parsePBKDF2(encoded)
		return err
	case encoded == "":
		return malformed("empty hash")
	default:
		return unsupported("unknown prefix")
	}
}
