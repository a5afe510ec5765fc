package mfa

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/mamoru-id/mamoru"
)

// The TOTP parameters: the defaults every authenticator app supports
// (RFC 6238 with HMAC-SHA1, 6 digits, 30 seconds).
const (
	TOTPDigits = 6
	TOTPPeriod = 30 * time.Second
	// TOTPSkew is how many steps before and after the current one are
	// accepted (NIST SP 800-63B 5.1.4.2 asks for a small window; one step
	// covers a phone clock up to 30 s off and a code typed at the end of
	// its step).
	TOTPSkew = 1
	// TOTPSecretSize is the size of a new secret in bytes (160 bits, as
	// RFC 4226 recommends).
	TOTPSecretSize = 20
	// TOTPQRSize is the width and height in pixels of the enrollment QR
	// code.
	TOTPQRSize = 256
)

// maxCodeInput bounds the input looked at, so that a huge form field costs
// nothing.
const maxCodeInput = 64

// ErrReplayed is the cause, inside a mamoru.EInvalidCode error, when a
// right code was refused because it (or a later one) was already used:
// someone else may have seen it. Callers can test it with errors.Is to log
// and notify; the person signing in sees the same invalid_code as for a
// wrong code.
var ErrReplayed = errors.New("mfa: the code was already used")

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTPEnrollment is a new authenticator-app secret, shown to the owner once
// to be scanned or typed into the app. Secret must be sealed (Sealer)
// before it is stored and never logged; URL and QRCode contain it too.
type TOTPEnrollment struct {
	Secret    []byte    // the raw secret, TOTPSecretSize random bytes
	Base32    string    // the secret for manual entry (RFC 4648 base32, no padding)
	URL       string    // the otpauth://totp/ URI (Key URI format)
	QRCode    []byte    // PNG of URL, TOTPQRSize pixels square
	CreatedAt time.Time // when it was made (clock): the start of the pending enrollment
}

// NewTOTP makes a new secret from mamoru.Random for the account named
// accountName (as the app shows it, e.g. the email address) at issuer
// (e.g. the service name). The enrollment is confirmed by a first code:
// VerifyTOTP(e.Secret, code, 0, now), whose step becomes the
// credential's LastUsedStep.
func NewTOTP(issuer, accountName string, clock mamoru.Clock) (*TOTPEnrollment, error) {
	if issuer == "" || accountName == "" {
		return nil, mamoru.Errorf(mamoru.EInvalidRequest, "mfa: TOTP needs an issuer and an account name")
	}
	if strings.Contains(issuer, ":") {
		return nil, mamoru.Errorf(mamoru.EInvalidRequest, "mfa: the TOTP issuer must not contain a colon")
	}
	secret := mamoru.RandomBytes(TOTPSecretSize)
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: accountName,
		Period:      uint(TOTPPeriod / time.Second),
		Secret:      secret,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: TOTP key")
	}
	img, err := key.Image(TOTPQRSize, TOTPQRSize)
	if err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: TOTP QR code")
	}
	var qr bytes.Buffer
	if err := png.Encode(&qr, img); err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "mfa: TOTP QR code")
	}
	return &TOTPEnrollment{
		Secret:    secret,
		Base32:    key.Secret(),
		URL:       key.URL(),
		QRCode:    qr.Bytes(),
		CreatedAt: clock.Now(),
	}, nil
}

// TOTPStep returns the RFC 6238 time step of t (Unix time / 30 s, rounded
// down).
func TOTPStep(t time.Time) int64 {
	sec, period := t.Unix(), int64(TOTPPeriod/time.Second)
	step := sec / period
	if sec%period < 0 {
		step--
	}
	return step
}

// VerifyTOTP checks a code typed by the owner against the TOTP secret (the
// raw, opened bytes) at now, and returns the time step it belongs to; the
// caller stores it as the credential's LastUsedStep. It accepts the codes
// of the current step and TOTPSkew steps either side. A right code whose
// step is not after lastUsedStep is refused with ErrReplayed (RFC 6238
// 5.2: a code is accepted once; this also refuses an older code once a
// newer one was used). The input may have spaces around it and inside it
// ("123 456", as apps show it); anything else than TOTPDigits ASCII digits
// is refused. Codes are compared in constant time. Every refusal is an
// EInvalidCode *mamoru.Error.
func VerifyTOTP(secret []byte, code string, lastUsedStep int64, now time.Time) (step int64, err error) {
	typed, ok := normalizeTOTP(code)
	if !ok {
		return 0, mamoru.Errorf(mamoru.EInvalidCode, "a code is %d digits", TOTPDigits)
	}
	if len(secret) == 0 {
		return 0, mamoru.Errorf(mamoru.EInternal, "mfa: empty TOTP secret")
	}
	key := b32.EncodeToString(secret)
	opts := hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	cur := TOTPStep(now)
	matched, found := int64(0), 0
	for s := cur - TOTPSkew; s <= cur+TOTPSkew; s++ {
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(key, uint64(s), opts)
		if err != nil {
			return 0, mamoru.WrapError(mamoru.EInternal, err, "mfa: TOTP code")
		}
		// Every step is computed and compared; the latest match wins.
		if subtle.ConstantTimeCompare([]byte(want), typed) == 1 {
			matched, found = s, 1
		}
	}
	if found == 0 {
		return 0, mamoru.Errorf(mamoru.EInvalidCode, "wrong code")
	}
	if matched <= lastUsedStep {
		return 0, mamoru.WrapError(mamoru.EInvalidCode, ErrReplayed, "the code was already used")
	}
	return matched, nil
}

// normalizeTOTP returns the code without surrounding white space and
// inner ASCII spaces, if what is left is TOTPDigits ASCII digits.
func normalizeTOTP(code string) ([]byte, bool) {
	if len(code) > maxCodeInput {
		return nil, false
	}
	code = strings.TrimSpace(code)
	out := make([]byte, 0, TOTPDigits)
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == ' ':
		case c >= '0' && c <= '9' && len(out) < TOTPDigits:
			out = append(out, c)
		default:
			return nil, false
		}
	}
	return out, len(out) == TOTPDigits
}
