package webhook

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	secret := []byte(testSecret)
	body := []byte(`{"id":"ev1","type":"password.changed"}`)
	sent := time.Unix(1_800_000_000, 0)
	header := SignatureHeader(secret, sent, body)
	if !strings.HasPrefix(header, "t=1800000000,v1=") || len(header) != len("t=1800000000,v1=")+64 {
		t.Fatalf("SignatureHeader = %q", header)
	}
	other := SignatureHeader([]byte("another secret of at least 32 bytes!"), sent, body)
	v1 := func(h string) string { return h[strings.Index(h, "v1="):] }

	cases := []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		tol    time.Duration
		want   error
	}{
		{"valid", header, body, sent, 0, nil},
		{"valid a little later", header, body, sent.Add(4 * time.Minute), 0, nil},
		{"valid with skew", header, body, sent.Add(-time.Minute), 0, nil},
		{"spaces", strings.ReplaceAll(header, ",", ", "), body, sent, 0, nil},
		{"two signatures, one right (secret rotation)", header + "," + v1(other), body, sent, 0, nil},
		{"two signatures, right one second", "t=1800000000," + v1(other) + "," + v1(header), body, sent, 0, nil},
		{"unknown scheme ignored", header + ",v0=abc", body, sent, 0, nil},
		{"tampered body", header, []byte(`{"id":"ev1","type":"password.reset"}`), sent, 0, ErrSignature},
		{"empty body", header, nil, sent, 0, ErrSignature},
		{"tampered timestamp", strings.Replace(header, "t=1800000000", "t=1800000001", 1), body, sent, 0, ErrSignature},
		{"wrong secret", other, body, sent, 0, ErrSignature},
		{"replay after the tolerance", header, body, sent.Add(5*time.Minute + time.Second), 0, ErrSignatureTime},
		{"replay after a custom tolerance", header, body, sent.Add(31 * time.Second), 30 * time.Second, ErrSignatureTime},
		{"from the future", header, body, sent.Add(-10 * time.Minute), 0, ErrSignatureTime},
		{"empty", "", body, sent, 0, ErrSignatureHeader},
		{"no timestamp", v1(header), body, sent, 0, ErrSignatureHeader},
		{"no signature", "t=1800000000", body, sent, 0, ErrSignatureHeader},
		{"two timestamps", "t=1800000000,t=1800000000," + v1(header), body, sent, 0, ErrSignatureHeader},
		{"bad timestamp", "t=soon," + v1(header), body, sent, 0, ErrSignatureHeader},
		{"bad hex", "t=1800000000,v1=zz", body, sent, 0, ErrSignatureHeader},
		{"short signature", "t=1800000000,v1=abcd", body, sent, 0, ErrSignatureHeader},
		{"garbage", "hello", body, sent, 0, ErrSignatureHeader},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(secret, c.header, c.body, c.now, c.tol)
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}
