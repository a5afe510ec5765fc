package mfa_test

import (
	"bytes"
	"encoding/base32"
	"errors"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/mfa"
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// codeAt returns the TOTP code of secret at the given step, as an app
// computes it.
func codeAt(t testing.TB, secret []byte, step int64) string {
	t.Helper()
	c, err := hotp.GenerateCode(b32.EncodeToString(secret), uint64(step))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantInvalid fails unless err is an EInvalidCode error, with ErrReplayed
// as its cause exactly when replayed.
func wantInvalid(t testing.TB, what string, err error, replayed bool) {
	t.Helper()
	if code := mamoru.ErrorCode(err); code != mamoru.EInvalidCode {
		t.Fatalf("%s: got %v (code %q), want %q", what, err, code, mamoru.EInvalidCode)
	}
	if errors.Is(err, mfa.ErrReplayed) != replayed {
		t.Fatalf("%s: got %v, want ErrReplayed in the chain: %v", what, err, replayed)
	}
}

// The SHA1 test vectors of RFC 6238 appendix B (the last 6 of the 8 digits
// are the 6-digit code of the same step).
func TestVerifyTOTPRFC6238(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		code string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		now := time.Unix(v.unix, 0)
		step, err := mfa.VerifyTOTP(secret, v.code[2:], 0, now)
		if err != nil {
			t.Fatalf("VerifyTOTP(%s at %d): %v", v.code[2:], v.unix, err)
		}
		if want := v.unix / 30; step != want || mfa.TOTPStep(now) != want {
			t.Fatalf("at %d: step %d, TOTPStep %d; want %d", v.unix, step, mfa.TOTPStep(now), want)
		}
	}
}

func TestTOTPStep(t *testing.T) {
	for _, c := range []struct {
		unix, step int64
	}{{0, 0}, {29, 0}, {30, 1}, {59, 1}, {-1, -1}, {-30, -1}, {-31, -2}} {
		if got := mfa.TOTPStep(time.Unix(c.unix, 999999999)); got != c.step {
			t.Errorf("TOTPStep(%d s): got %d, want %d", c.unix, got, c.step)
		}
	}
}

func TestVerifyTOTPWindow(t *testing.T) {
	secret := bytes.Repeat([]byte{0x5a}, mfa.TOTPSecretSize)
	base := time.Date(2030, 4, 5, 6, 7, 0, 0, time.UTC) // the first instant of a step
	cur := mfa.TOTPStep(base)
	// At the first and at the last instant of the current step.
	for _, now := range []time.Time{base, base.Add(mfa.TOTPPeriod - time.Nanosecond)} {
		if mfa.TOTPStep(now) != cur {
			t.Fatalf("%v is not in step %d", now, cur)
		}
		for d := int64(-3); d <= 3; d++ {
			step, err := mfa.VerifyTOTP(secret, codeAt(t, secret, cur+d), 0, now)
			if d >= -mfa.TOTPSkew && d <= mfa.TOTPSkew {
				if err != nil || step != cur+d {
					t.Errorf("at %v the code of step %+d: step %d, %v; want it accepted", now, d, step, err)
				}
				continue
			}
			wantInvalid(t, "a code outside the window", err, false)
		}
	}
}

func TestVerifyTOTPReplay(t *testing.T) {
	secret := bytes.Repeat([]byte{0xa5}, mfa.TOTPSecretSize)
	now := time.Date(2030, 4, 5, 6, 7, 8, 0, time.UTC)
	cur := mfa.TOTPStep(now)
	code := codeAt(t, secret, cur)
	step, err := mfa.VerifyTOTP(secret, code, 0, now)
	if err != nil || step != cur {
		t.Fatalf("first use: step %d, %v", step, err)
	}
	// The same code again, in its 30 seconds and in the next step.
	_, err = mfa.VerifyTOTP(secret, code, step, now.Add(time.Second))
	wantInvalid(t, "the same code again", err, true)
	_, err = mfa.VerifyTOTP(secret, code, step, now.Add(mfa.TOTPPeriod))
	wantInvalid(t, "the same code in the next step", err, true)
	// An older code, still in the window, after a newer one was used.
	_, err = mfa.VerifyTOTP(secret, codeAt(t, secret, cur-1), step, now)
	wantInvalid(t, "an older code after a newer one", err, true)
	// A newer code is fine.
	if s, err := mfa.VerifyTOTP(secret, codeAt(t, secret, cur+1), step, now); err != nil || s != cur+1 {
		t.Fatalf("the next step's code: step %d, %v", s, err)
	}
	// A wrong code is wrong, not replayed, whatever lastUsedStep says.
	wrong := "000000"
	if wrong == code {
		wrong = "000001"
	}
	_, err = mfa.VerifyTOTP(secret, wrong, cur+5, now)
	wantInvalid(t, "a wrong code", err, false)
}

func TestVerifyTOTPInput(t *testing.T) {
	secret := bytes.Repeat([]byte{0x3c}, mfa.TOTPSecretSize)
	now := time.Date(2030, 4, 5, 6, 7, 8, 0, time.UTC)
	code := codeAt(t, secret, mfa.TOTPStep(now))
	for _, in := range []string{code, " " + code + "\n", code[:3] + " " + code[3:], "\u3000" + code + "\t"} {
		if _, err := mfa.VerifyTOTP(secret, in, 0, now); err != nil {
			t.Errorf("VerifyTOTP(%q): %v", in, err)
		}
	}
	fullWidth := strings.Map(func(r rune) rune { return r - '0' + '０' }, code)
	arabic := strings.Map(func(r rune) rune { return r - '0' + '٠' }, code)
	for _, in := range []string{
		"", " ", code[:5], code + "0", "0" + code, code[:5] + "a", "+" + code[1:], "-" + code[1:],
		code[:3] + "-" + code[3:], code + "\x00", fullWidth, arabic, "\xff\xfe" + code,
		strings.Repeat("1", 10000), strings.Repeat(" ", 100) + code,
	} {
		_, err := mfa.VerifyTOTP(secret, in, 0, now)
		wantInvalid(t, "VerifyTOTP("+in[:min(len(in), 20)]+")", err, false)
	}
	if _, err := mfa.VerifyTOTP(nil, code, 0, now); mamoru.ErrorCode(err) != mamoru.EInternal {
		t.Errorf("VerifyTOTP with no secret: %v, want an internal error", err)
	}
}

func TestNewTOTP(t *testing.T) {
	clock := mamoru.NewFakeClock(time.Date(2030, 4, 5, 6, 7, 8, 0, time.UTC))
	e, err := mfa.NewTOTP("mamoru", "alice@example.com", clock)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Secret) != mfa.TOTPSecretSize || b32.EncodeToString(e.Secret) != e.Base32 {
		t.Fatalf("Secret %x and Base32 %q do not agree", e.Secret, e.Base32)
	}
	if !e.CreatedAt.Equal(clock.Now()) {
		t.Errorf("CreatedAt %v, want the clock's %v", e.CreatedAt, clock.Now())
	}
	key, err := otp.NewKeyFromURL(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	if key.Type() != "totp" || key.Issuer() != "mamoru" || key.AccountName() != "alice@example.com" ||
		key.Secret() != e.Base32 || key.Period() != 30 || key.Digits() != otp.DigitsSix ||
		key.Algorithm() != otp.AlgorithmSHA1 {
		t.Fatalf("URL %s: type %s issuer %q account %q period %d digits %v algorithm %v",
			e.URL, key.Type(), key.Issuer(), key.AccountName(), key.Period(), key.Digits(), key.Algorithm())
	}
	img, err := png.Decode(bytes.NewReader(e.QRCode))
	if err != nil {
		t.Fatalf("QRCode is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != mfa.TOTPQRSize || b.Dy() != mfa.TOTPQRSize {
		t.Errorf("QRCode is %v, want %d px square", b, mfa.TOTPQRSize)
	}
	// The app's first code confirms the enrollment.
	now := clock.Now()
	if step, err := mfa.VerifyTOTP(e.Secret, codeAt(t, e.Secret, mfa.TOTPStep(now)), 0, now); err != nil || step != mfa.TOTPStep(now) {
		t.Fatalf("the first code: step %d, %v", step, err)
	}
	other, err := mfa.NewTOTP("mamoru", "alice@example.com", clock)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other.Secret, e.Secret) {
		t.Fatal("two enrollments share a secret")
	}
	for _, c := range [][2]string{{"", "alice"}, {"mamoru", ""}, {"ma:moru", "alice"}} {
		if _, err := mfa.NewTOTP(c[0], c[1], clock); mamoru.ErrorCode(err) != mamoru.EInvalidRequest {
			t.Errorf("NewTOTP(%q, %q): %v, want invalid_request", c[0], c[1], err)
		}
	}
}

func FuzzVerifyTOTP(f *testing.F) {
	secret := bytes.Repeat([]byte{0x42}, mfa.TOTPSecretSize)
	f.Add("123456", int64(0), int64(1900000000))
	f.Add(" 12 3456 ", int64(-1), int64(0))
	f.Add("１２３４５６", int64(1<<62), int64(-1))
	f.Add("\x00\xff", int64(-1<<63), int64(1<<40))
	f.Fuzz(func(t *testing.T, code string, last, unix int64) {
		now := time.Unix(unix, 0)
		step, err := mfa.VerifyTOTP(secret, code, last, now)
		if err != nil {
			if c := mamoru.ErrorCode(err); c != mamoru.EInvalidCode {
				t.Fatalf("VerifyTOTP(%q): code %q", code, c)
			}
			return
		}
		cur := mfa.TOTPStep(now)
		if step <= last || step < cur-mfa.TOTPSkew || step > cur+mfa.TOTPSkew {
			t.Fatalf("VerifyTOTP(%q, %d, %v) accepted step %d", code, last, now, step)
		}
		if want := codeAt(t, secret, step); strings.ReplaceAll(strings.TrimSpace(code), " ", "") != want {
			t.Fatalf("VerifyTOTP accepted %q for step %d whose code is %s", code, step, want)
		}
	})
}

func BenchmarkVerifyTOTP(b *testing.B) {
	secret := bytes.Repeat([]byte{0x42}, mfa.TOTPSecretSize)
	now := time.Date(2030, 4, 5, 6, 7, 8, 0, time.UTC)
	code := codeAt(b, secret, mfa.TOTPStep(now)) // every step of the window is computed whichever matches
	for b.Loop() {
		if _, err := mfa.VerifyTOTP(secret, code, 0, now); err != nil {
			b.Fatal(err)
		}
	}
}
