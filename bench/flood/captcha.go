package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// altchaChallenge is what GET challenge_url answers (ALTCHA v1).
type altchaChallenge struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"` // hex(sha256(salt + decimal number))
	MaxNumber int64  `json:"maxnumber"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
}

// defaultMaxNumber is ALTCHA's search space when a challenge names none.
const defaultMaxNumber = 1_000_000

// solveAltcha finds the number in 0..maxnumber whose SHA-256 with the salt
// is the challenge, as a browser would, and returns the answer the sign-in
// body carries: base64(JSON{algorithm, challenge, number, salt,
// signature}).
func solveAltcha(ch altchaChallenge) (string, int64, error) {
	if !strings.EqualFold(ch.Algorithm, "SHA-256") {
		return "", 0, fmt.Errorf("captcha algorithm %q not supported", ch.Algorithm)
	}
	want, err := hex.DecodeString(ch.Challenge)
	if err != nil || len(want) != sha256.Size {
		return "", 0, errors.New("captcha challenge is not a hex SHA-256")
	}
	limit := ch.MaxNumber
	if limit <= 0 {
		limit = defaultMaxNumber
	}
	buf := make([]byte, 0, len(ch.Salt)+20)
	buf = append(buf, ch.Salt...)
	for n := int64(0); n <= limit; n++ {
		b := strconv.AppendInt(buf, n, 10)
		if sum := sha256.Sum256(b); bytes.Equal(sum[:], want) {
			payload, _ := json.Marshal(struct {
				Algorithm string `json:"algorithm"`
				Challenge string `json:"challenge"`
				Number    int64  `json:"number"`
				Salt      string `json:"salt"`
				Signature string `json:"signature"`
			}{ch.Algorithm, ch.Challenge, n, ch.Salt, ch.Signature})
			return base64.StdEncoding.EncodeToString(payload), n, nil
		}
	}
	return "", 0, fmt.Errorf("no number up to %d solves the captcha", limit)
}
