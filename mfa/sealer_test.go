package mfa_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/mfa"
)

func newSealer(t *testing.T, fill byte) *mfa.Sealer {
	t.Helper()
	s, err := mfa.NewSealer(bytes.Repeat([]byte{fill}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func wantUnsealable(t *testing.T, what string, plain []byte, err error) {
	t.Helper()
	if !errors.Is(err, mfa.ErrUnsealable) || mamoru.ErrorCode(err) != mamoru.EInternal || plain != nil {
		t.Fatalf("%s: got %q, %v; want an internal error wrapping ErrUnsealable", what, plain, err)
	}
}

func TestSealer(t *testing.T) {
	s := newSealer(t, 1)
	secret := []byte("12345678901234567890")
	sealed, err := s.Seal("cred1", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatal("the sealed value contains the secret")
	}
	got, err := s.Open("cred1", sealed)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open: %q, %v; want the secret back", got, err)
	}
	again, err := s.Seal("cred1", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again, sealed) {
		t.Fatal("two seals of the same secret are equal (nonce reused)")
	}
	// Empty plaintext round-trips too.
	empty, err := s.Seal("cred1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Open("cred1", empty); err != nil || len(got) != 0 {
		t.Fatalf("Open of an empty secret: %q, %v", got, err)
	}

	// Every single-bit change is refused.
	for i := range sealed {
		for bit := range 8 {
			bad := bytes.Clone(sealed)
			bad[i] ^= 1 << bit
			got, err := s.Open("cred1", bad)
			wantUnsealable(t, "a changed byte", got, err)
		}
	}
	got, err = s.Open("cred2", sealed)
	wantUnsealable(t, "another credential's ID", got, err)
	got, err = s.Open("", sealed)
	wantUnsealable(t, "no ID", got, err)
	got, err = newSealer(t, 2).Open("cred1", sealed)
	wantUnsealable(t, "another key", got, err)
	for _, bad := range [][]byte{nil, {}, sealed[:1], sealed[:13], sealed[:len(sealed)-1], append(bytes.Clone(sealed), 0)} {
		got, err := s.Open("cred1", bad)
		wantUnsealable(t, "a truncated or extended value", got, err)
	}

	if _, err := s.Seal("", secret); err == nil {
		t.Fatal("Seal without an ID succeeded")
	}
	for _, n := range []int{0, 16, 24, 31, 33} {
		if _, err := mfa.NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer with a %d-byte key succeeded", n)
		}
	}
}
