package password

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// b64 is the base64 of PHC strings: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

// argon2Hash is a parsed argon2id PHC string.
type argon2Hash struct {
	params Params
	salt   []byte
	key    []byte
}

// encode returns the PHC string
// $argon2id$v=19$m=<KiB>,t=<time>,p=<threads>$<salt>$<key>.
func (a *argon2Hash) encode() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, a.params.MemoryKiB, a.params.Time, a.params.Threads,
		b64.EncodeToString(a.salt), b64.EncodeToString(a.key))
}

// parseArgon2id parses an argon2id PHC string (version 19 only; the
// parameters m, t, p in that order, without keyid or data).
func parseArgon2id(s string) (*argon2Hash, error) {
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return nil, malformed("argon2id: wrong number of fields")
	}
	if parts[2] != "v=19" {
		return nil, malformed("argon2id: unsupported version %q", parts[2])
	}
	var m, t, p uint64
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return nil, malformed("argon2id: want parameters m,t,p")
	}
	for i, dst := range []*uint64{&m, &t, &p} {
		name := "mtp"[i : i+1]
		v, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok {
			return nil, malformed("argon2id: want parameter %s", name)
		}
		n, err := parseDecimal(v, 32)
		if err != nil {
			return nil, malformed("argon2id: parameter %s: %v", name, err)
		}
		*dst = n
	}
	if p < 1 || p > 255 || t < 1 {
		return nil, malformed("argon2id: parameters out of range")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return nil, malformed("argon2id: salt: %v", err)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return nil, malformed("argon2id: hash: %v", err)
	}
	h := &argon2Hash{
		params: Params{MemoryKiB: uint32(m), Time: uint32(t), Threads: uint8(p),
			SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))},
		salt: salt,
		key:  key,
	}
	if err := h.params.validate(); err != nil {
		return nil, malformed("argon2id: %v", err)
	}
	return h, nil
}

// verify reports whether pw hashes to a.key, in constant time.
func (a *argon2Hash) verify(pw string) bool {
	got := argon2.IDKey([]byte(pw), a.salt, a.params.Time, a.params.MemoryKiB, a.params.Threads, uint32(len(a.key)))
	return subtle.ConstantTimeCompare(got, a.key) == 1
}

// parseDecimal parses a canonical unsigned decimal (no sign, no leading
// zeros) of at most bits bits.
func parseDecimal(s string, bits int) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("not a canonical decimal: %q", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("not a canonical decimal: %q", s)
		}
	}
	return strconv.ParseUint(s, 10, bits)
}
