package mfa

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"

	"github.com/mamoru-id/mamoru"
)

// BackupCodeKeySecret is the name of the server secret
// (mamoru.SecretStore) that keys the hashes of backup codes.
const BackupCodeKeySecret = "mfa-backup-code-key"

// The backup code parameters.
const (
	// BackupCodeCount is how many codes a set has.
	BackupCodeCount = 10
	// BackupCodeLength is how many characters a code has (shown as two
	// groups of five: "abcde-fghij").
	BackupCodeLength = 10
	// BackupCodeAlphabet has no character that reads like another (no
	// 0/o, 1/l/i): 31 symbols, so a code carries 10·log2(31) ≈ 49.5 bits.
	BackupCodeAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"
)

const (
	backupDataVersion = 1
	backupHashDomain  = "mamoru backup code v1\x00"
	backupSaltSize    = 16
	maxBackupCodes    = 100
)

// backupData is the Data of a CredentialBackupCodes credential.
type backupData struct {
	V      int      `json:"v"`
	Salt   []byte   `json:"salt"`
	Hashes [][]byte `json:"hashes"`
	Used   []bool   `json:"used"`
}

// NewBackupCodes makes n backup codes (BackupCodeCount unless there is a
// reason) from mamoru.Random. codes, formatted "abcde-fghij", are shown to
// the owner once and then forgotten; data, the credential's Data, keeps
// only their hashes and which are used. A new set replaces the old one
// (regeneration): its salt is new, so no old code matches.
//
// The hash is HMAC-SHA256 keyed with a 32-byte server key
// (BackupCodeKeySecret) over a random per-set salt and the code, not a slow
// password hash: a code is ~49.5 random bits, not a human choice, so there
// is no dictionary to try first, and a slow hash would add cost to every
// use while buying little. The key means a copy of the credentials table
// alone allows no guessing at all; the salt means that even with the key
// each set must be attacked on its own (2^49 HMACs per code on average),
// by which time the owner has been told of the sign-ins that led there.
func NewBackupCodes(key []byte, n int) (codes []string, data []byte, err error) {
	if len(key) < 32 {
		return nil, nil, mamoru.Errorf(mamoru.EInternal, "mfa: the backup code key has %d bytes, want 32", len(key))
	}
	if n < 1 || n > maxBackupCodes {
		return nil, nil, mamoru.Errorf(mamoru.EInvalidRequest, "mfa: %d backup codes; want 1 to %d", n, maxBackupCodes)
	}
	d := backupData{V: backupDataVersion, Salt: mamoru.RandomBytes(backupSaltSize),
		Hashes: make([][]byte, n), Used: make([]bool, n)}
	codes = make([]string, n)
	for i := range n {
		c := randomCode()
		d.Hashes[i] = hashBackupCode(key, d.Salt, c)
		codes[i] = string(c[:5]) + "-" + string(c[5:])
	}
	data, err = json.Marshal(d)
	if err != nil {
		return nil, nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: backup codes")
	}
	return codes, data, nil
}

// UseBackupCode checks code against the unused codes of data and, if it is
// one, returns data with that code marked used and how many remain unused.
// The input is normalized first: ASCII case, spaces and hyphens do not
// matter. The code is compared with every stored hash in constant time. A
// wrong code is an EInvalidCode error; a code already used is too, with
// ErrReplayed as its cause (for the log and a notification). The caller
// writes newData with UpdateCredential, whose version check lets one of
// two concurrent uses of the same code win.
func UseBackupCode(key []byte, data []byte, code string) (newData []byte, remaining int, err error) {
	if len(key) < 32 {
		return nil, 0, mamoru.Errorf(mamoru.EInternal, "mfa: the backup code key has %d bytes, want 32", len(key))
	}
	d, err := parseBackupData(data)
	if err != nil {
		return nil, 0, err
	}
	typed, ok := normalizeBackupCode(code)
	if !ok {
		return nil, 0, mamoru.Errorf(mamoru.EInvalidCode, "a backup code is %d letters and digits", BackupCodeLength)
	}
	h := hashBackupCode(key, d.Salt, typed)
	match := -1
	for i, stored := range d.Hashes {
		match = subtle.ConstantTimeSelect(subtle.ConstantTimeCompare(h, stored), i, match)
	}
	if match < 0 {
		return nil, 0, mamoru.Errorf(mamoru.EInvalidCode, "wrong backup code")
	}
	if d.Used[match] {
		return nil, 0, mamoru.WrapError(mamoru.EInvalidCode, ErrReplayed, "the backup code was already used")
	}
	d.Used[match] = true
	newData, err = json.Marshal(d)
	if err != nil {
		return nil, 0, mamoru.WrapError(mamoru.EInternal, err, "mfa: backup codes")
	}
	return newData, unused(d), nil
}

// BackupCodesRemaining returns how many codes of data are unused.
func BackupCodesRemaining(data []byte) (int, error) {
	d, err := parseBackupData(data)
	if err != nil {
		return 0, err
	}
	return unused(d), nil
}

func unused(d *backupData) int {
	n := 0
	for _, u := range d.Used {
		if !u {
			n++
		}
	}
	return n
}

func parseBackupData(data []byte) (*backupData, error) {
	var d backupData
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: backup code data")
	}
	if d.V != backupDataVersion || len(d.Salt) != backupSaltSize || len(d.Hashes) != len(d.Used) {
		return nil, mamoru.Errorf(mamoru.EInternal, "mfa: backup code data of an unknown form")
	}
	return &d, nil
}

// randomCode returns BackupCodeLength characters of BackupCodeAlphabet,
// uniformly (bytes at or above the largest multiple of the alphabet's size
// are drawn again).
func randomCode() []byte {
	const n = len(BackupCodeAlphabet)
	const limit = 256 - 256%n
	c := make([]byte, 0, BackupCodeLength)
	for len(c) < BackupCodeLength {
		for _, b := range mamoru.RandomBytes(BackupCodeLength) {
			if int(b) < limit && len(c) < BackupCodeLength {
				c = append(c, BackupCodeAlphabet[int(b)%n])
			}
		}
	}
	return c
}

// normalizeBackupCode lowers ASCII letters and drops spaces and hyphens;
// the result must be BackupCodeLength characters of the alphabet.
func normalizeBackupCode(code string) ([]byte, bool) {
	if len(code) > maxCodeInput {
		return nil, false
	}
	out := make([]byte, 0, BackupCodeLength)
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch {
		case c == ' ' || c == '-' || c == '\t':
		case len(out) < BackupCodeLength && inAlphabet(c):
			out = append(out, c)
		default:
			return nil, false
		}
	}
	return out, len(out) == BackupCodeLength
}

func inAlphabet(c byte) bool {
	for i := 0; i < len(BackupCodeAlphabet); i++ {
		if BackupCodeAlphabet[i] == c {
			return true
		}
	}
	return false
}

func hashBackupCode(key, salt, code []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(backupHashDomain))
	m.Write(salt)
	m.Write(code)
	return m.Sum(nil)
}
