package mfa_test

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/mfa"
)

var backupKey = bytes.Repeat([]byte{7}, 32)

var backupCodeRE = regexp.MustCompile(`^[` + mfa.BackupCodeAlphabet + `]{5}-[` + mfa.BackupCodeAlphabet + `]{5}$`)

func newBackupCodes(t testing.TB) ([]string, []byte) {
	t.Helper()
	codes, data, err := mfa.NewBackupCodes(backupKey, mfa.BackupCodeCount)
	if err != nil {
		t.Fatal(err)
	}
	return codes, data
}

func TestNewBackupCodes(t *testing.T) {
	codes, data := newBackupCodes(t)
	if len(codes) != mfa.BackupCodeCount {
		t.Fatalf("got %d codes, want %d", len(codes), mfa.BackupCodeCount)
	}
	for _, c := range codes {
		if !backupCodeRE.MatchString(c) {
			t.Errorf("code %q is not two groups of five from the alphabet", c)
		}
		if bytes.Contains(data, []byte(strings.ReplaceAll(c, "-", ""))) || bytes.Contains(data, []byte(c)) {
			t.Errorf("the stored data contains the code %q", c)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(codes)))) != len(codes) {
		t.Errorf("codes repeat: %q", codes)
	}
	if strings.ContainsAny(mfa.BackupCodeAlphabet, "0Oo1lIi") || len(mfa.BackupCodeAlphabet) != 31 {
		t.Errorf("alphabet %q", mfa.BackupCodeAlphabet)
	}
	if n, err := mfa.BackupCodesRemaining(data); err != nil || n != mfa.BackupCodeCount {
		t.Errorf("BackupCodesRemaining: %d, %v", n, err)
	}
	for _, n := range []int{0, -1, 101} {
		if _, _, err := mfa.NewBackupCodes(backupKey, n); mamoru.ErrorCode(err) != mamoru.EInvalidRequest {
			t.Errorf("NewBackupCodes(%d): %v", n, err)
		}
	}
	if _, _, err := mfa.NewBackupCodes(backupKey[:16], 10); err == nil {
		t.Error("NewBackupCodes with a short key succeeded")
	}
}

func TestUseBackupCodeOnce(t *testing.T) {
	codes, data := newBackupCodes(t)
	for i, c := range codes {
		next, remaining, err := mfa.UseBackupCode(backupKey, data, c)
		if err != nil {
			t.Fatalf("code %d: %v", i, err)
		}
		if want := len(codes) - i - 1; remaining != want {
			t.Fatalf("code %d: remaining %d, want %d", i, remaining, want)
		}
		// The old data still has it unused (the caller's UpdateCredential
		// decides which use counts); the new one refuses it.
		_, _, err = mfa.UseBackupCode(backupKey, next, c)
		wantInvalid(t, "a used code", err, true)
		data = next
	}
	for _, c := range codes {
		_, _, err := mfa.UseBackupCode(backupKey, data, c)
		wantInvalid(t, "a used code", err, true)
	}
	if n, err := mfa.BackupCodesRemaining(data); err != nil || n != 0 {
		t.Fatalf("BackupCodesRemaining after all: %d, %v", n, err)
	}
}

func TestUseBackupCodeInput(t *testing.T) {
	codes, data := newBackupCodes(t)
	c := codes[3]
	plain := strings.ReplaceAll(c, "-", "")
	for _, in := range []string{
		c, strings.ToUpper(c), plain, " " + plain[:5] + " " + plain[5:] + " ", strings.ToUpper(plain[:2]) + "-" + plain[2:],
		"-" + plain + "-", "\t" + c,
	} {
		if _, remaining, err := mfa.UseBackupCode(backupKey, data, in); err != nil || remaining != len(codes)-1 {
			t.Errorf("UseBackupCode(%q): remaining %d, %v", in, remaining, err)
		}
	}
	fullWidth := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'ａ'
		}
		return r
	}, c)
	wrongChar := "0" + plain[1:]
	for _, in := range []string{
		"", "-", plain[:9], plain + "a", wrongChar, "o" + plain[1:], "l" + plain[1:], "i" + plain[1:],
		fullWidth, plain[:5] + "\u3000" + plain[5:], plain + "\x00", "\xff" + plain[1:],
		strings.Repeat("-", 100) + plain, strings.Repeat("a", 1<<16),
	} {
		_, _, err := mfa.UseBackupCode(backupKey, data, in)
		wantInvalid(t, "UseBackupCode("+in[:min(len(in), 20)]+")", err, false)
	}
	// A well-formed code that is not in the set.
	other := "aaaaa-aaaaa"
	if !slices.Contains(codes, other) {
		_, _, err := mfa.UseBackupCode(backupKey, data, other)
		wantInvalid(t, "an unknown code", err, false)
	}
	// Another server key.
	_, _, err := mfa.UseBackupCode(bytes.Repeat([]byte{8}, 32), data, c)
	wantInvalid(t, "another key", err, false)
}

func TestBackupCodesRegenerated(t *testing.T) {
	old, _ := newBackupCodes(t)
	_, data := newBackupCodes(t)
	for _, c := range old {
		_, _, err := mfa.UseBackupCode(backupKey, data, c)
		wantInvalid(t, "a code of the previous set", err, false)
	}
}

func TestBackupCodesBadData(t *testing.T) {
	codes, _ := newBackupCodes(t)
	for _, data := range []string{
		"", "null", "{}", `{"v":2}`, `{"v":1,"salt":"AAAAAAAAAAAAAAAAAAAAAA==","hashes":[""],"used":[]}`, "[1,2]",
	} {
		if _, _, err := mfa.UseBackupCode(backupKey, []byte(data), codes[0]); mamoru.ErrorCode(err) != mamoru.EInternal {
			t.Errorf("UseBackupCode with data %q: %v, want an internal error", data, err)
		}
		if _, err := mfa.BackupCodesRemaining([]byte(data)); mamoru.ErrorCode(err) != mamoru.EInternal {
			t.Errorf("BackupCodesRemaining of %q: %v", data, err)
		}
	}
}

func FuzzUseBackupCode(f *testing.F) {
	codes, data := newBackupCodes(f)
	f.Add(codes[0], data)
	f.Add(strings.ToUpper(codes[1]), data)
	f.Add("abcde-fghij", []byte(`{"v":1}`))
	f.Add("\x00", []byte{0xff})
	f.Fuzz(func(t *testing.T, code string, data []byte) {
		next, remaining, err := mfa.UseBackupCode(backupKey, data, code)
		if err != nil {
			if c := mamoru.ErrorCode(err); c != mamoru.EInvalidCode && c != mamoru.EInternal {
				t.Fatalf("UseBackupCode(%q): code %q", code, c)
			}
			return
		}
		before, err := mfa.BackupCodesRemaining(data)
		if err != nil || remaining != before-1 {
			t.Fatalf("UseBackupCode(%q): remaining %d, before %d (%v)", code, remaining, before, err)
		}
		if _, _, err := mfa.UseBackupCode(backupKey, next, code); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
			t.Fatalf("UseBackupCode(%q) worked twice: %v", code, err)
		}
	})
}

func BenchmarkUseBackupCode(b *testing.B) {
	codes, data := newBackupCodes(b)
	code := codes[len(codes)-1]
	for b.Loop() {
		if _, _, err := mfa.UseBackupCode(backupKey, data, code); err != nil {
			b.Fatal(err)
		}
	}
}
