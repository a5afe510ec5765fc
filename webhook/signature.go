package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is the replay window Verify uses when given 0: a
// signature whose timestamp is further than this from now is refused.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrSignatureHeader = errors.New("webhook: malformed Mamoru-Signature header")
	ErrSignatureTime   = errors.New("webhook: Mamoru-Signature timestamp outside the tolerance")
	ErrSignature       = errors.New("webhook: Mamoru-Signature does not match")
)

// signature returns the hex HMAC-SHA256 of "<unix>.<body>" under secret.
func signature(secret []byte, unix int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	var ts [20]byte
	mac.Write(strconv.AppendInt(ts[:0], unix, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// SignatureHeader returns the Mamoru-Signature header value of body sent at
// t: "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<unix>.<body>")>".
func SignatureHeader(secret []byte, t time.Time, body []byte) string {
	unix := t.Unix()
	return "t=" + strconv.FormatInt(unix, 10) + ",v1=" + signature(secret, unix, body)
}

// Verify checks a Mamoru-Signature header against the raw request body, for
// receivers: the header must carry a timestamp within tolerance of now (0
// means DefaultTolerance; both directions, for clock skew) and a v1
// signature that matches, compared in constant time. Several v1 values are
// allowed (any one matching is enough); unknown keys are ignored, so that
// later schemes can be added. Verify only proves that the body came from a
// holder of the secret recently: receivers should still drop deliveries
// they have seen (Mamoru-Delivery-Id).
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var (
		unix       int64
		haveT      bool
		candidates [][]byte
	)
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrSignatureHeader
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || haveT {
				return ErrSignatureHeader
			}
			unix, haveT = n, true
		case "v1":
			// A malformed value is skipped like an unknown scheme, so that
			// a sender rotating secrets may list a value a receiver can't
			// read; a header without one well-formed value is refused.
			b, err := hex.DecodeString(v)
			if err == nil && len(b) == sha256.Size {
				candidates = append(candidates, b)
			}
		}
	}
	if !haveT || len(candidates) == 0 {
		return ErrSignatureHeader
	}
	sent := time.Unix(unix, 0)
	if d := now.Sub(sent); d > tolerance || d < -tolerance {
		return ErrSignatureTime
	}
	want, _ := hex.DecodeString(signature(secret, unix, body))
	match := 0
	for _, c := range candidates {
		match |= subtle.ConstantTimeCompare(c, want)
	}
	if match == 0 {
		return ErrSignature
	}
	return nil
}
