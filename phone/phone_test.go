package phone_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/phone"
)

func TestNormalizeValid(t *testing.T) {
	tests := []struct {
		in, region, want string
	}{
		// Japan: mobile 070/080/090, IP phone 050, typed in every usual way.
		{"090-1234-5678", "JP", "+819012345678"},
		{"09012345678", "JP", "+819012345678"},
		{"090 1234 5678", "jp", "+819012345678"},
		{"(090) 1234-5678", "JP", "+819012345678"},
		{"080-9876-5432", "JP", "+818098765432"},
		{"070-1234-5678", "JP", "+817012345678"},
		{"050-1234-5678", "JP", "+815012345678"},
		{"+81 90-1234-5678", "JP", "+819012345678"},
		{"+81 90 1234 5678", "US", "+819012345678"}, // "+" wins over the default region
		{"+819012345678", "", "+819012345678"},
		{"  090-1234-5678  ", "JP", "+819012345678"},
		// Full-width digits and signs from a Japanese input method (NFKC).
		{"０９０－１２３４－５６７８", "JP", "+819012345678"},
		{"＋８１ ９０ １２３４ ５６７８", "", "+819012345678"},
		// United States and Canada: fixed line or mobile cannot be told apart.
		{"(201) 555-0123", "US", "+12015550123"},
		{"201.555.0123", "US", "+12015550123"},
		{"+1 415 555 2671", "", "+14155552671"},
		{"+1-415-555-2671", "JP", "+14155552671"},
		{"1 (415) 555-2671", "US", "+14155552671"},
		{"+1 604 555 5555", "", "+16045555555"},
		// Elsewhere.
		{"+44 7911 123456", "", "+447911123456"},
		{"07911 123456", "GB", "+447911123456"},
		{"+49 151 23456789", "", "+4915123456789"},
		{"+33 6 12 34 56 78", "", "+33612345678"},
		{"+82 10-1234-5678", "", "+821012345678"},
		{"+61 412 345 678", "", "+61412345678"},
	}
	for _, tt := range tests {
		got, err := phone.Normalize(tt.in, tt.region)
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q, %q) = %q, %v; want %q", tt.in, tt.region, got, err, tt.want)
			continue
		}
		again, err := phone.Normalize(got, "")
		if err != nil || again != got {
			t.Errorf("Normalize(%q) = %q, %v; want it unchanged", got, again, err)
		}
	}
}

func TestNormalizeInvalid(t *testing.T) {
	tests := []struct {
		name, in, region string
	}{
		{"empty", "", "JP"},
		{"spaces", "   ", "JP"},
		{"plus only", "+", ""},
		{"plus and spaces", "+ - ()", ""},
		{"plus zero", "+0", ""},
		{"country code zero", "+0123456789", ""},
		{"country code zero long", "+00819012345678", ""},
		{"unassigned country code", "+999 1234 5678", ""},
		{"30 digits", strings.Repeat("1234567890", 3), "US"},
		{"30 digits with plus", "+" + strings.Repeat("1234567890", 3), ""},
		{"16 digits", "+8190123456781234", ""},
		{"longer than 64 bytes", "+81 90 1234 5678" + strings.Repeat(" ", 60), ""},
		{"letters", "abc", "JP"},
		{"letters in number", "090-1234-567a", "JP"},
		{"vanity number", "1-800-FLOWERS", "US"},
		{"extension", "+1 415 555 2671 ext. 12", ""},
		{"extension x", "+1 415 555 2671x12", ""},
		{"hash", "+1 415 555 2671#", ""},
		{"tel URI", "tel:+14155552671", ""},
		{"plus in the middle", "090+12345678", "JP"},
		{"two pluses", "++819012345678", ""},
		{"arabic-indic digits", "+٨١٩٠١٢٣٤٥٦٧٨", ""},
		{"devanagari digits", "+८१९०१२३४५६७८", ""},
		{"newline", "+81901234\n5678", ""},
		{"CR LF", "+819012345678\r\n", ""},
		{"NUL", "+81901234\x005678", ""},
		{"tab", "+81\t9012345678", ""},
		{"zero-width space", "+8190\u200b12345678", ""},
		{"right-to-left override", "+8190\u202e12345678", ""},
		{"invalid UTF-8", "+8190\xff12345678", ""},
		{"no region and no plus", "090-1234-5678", ""},
		{"unknown region", "090-1234-5678", "XX"},
		{"too short for Japan", "090-1234-567", "JP"},
		{"too long for Japan", "090-1234-56789", "JP"},
		{"Japanese fixed line", "03-1234-5678", "JP"},
		{"Japanese fixed line intl", "+81 3 1234 5678", ""},
		{"Japanese toll free", "0120-123-456", "JP"},
		{"Japanese navi dial (UAN)", "0570-012-345", "JP"},
		{"US toll free", "+1 800 555 0199", ""},
		{"US premium", "+1 900 555 0199", ""},
		{"US invalid area code", "+1 123 555 0199", ""},
		{"UK fixed line", "+44 20 7183 8750", ""},
		{"just punctuation", "()-./", "JP"},
		{"only zeros", "0000000000", "JP"},
	}
	for _, tt := range tests {
		got, err := phone.Normalize(tt.in, tt.region)
		if err == nil {
			t.Errorf("%s: Normalize(%q, %q) = %q; want an error", tt.name, tt.in, tt.region, got)
			continue
		}
		var me *mamoru.Error
		if !errors.As(err, &me) || me.Code != "invalid_phone" {
			t.Errorf("%s: error %v; want a *mamoru.Error with code invalid_phone", tt.name, err)
		}
		if mamoru.ErrorCode(err) != phone.CodeInvalid || got != "" {
			t.Errorf("%s: code %q, result %q", tt.name, mamoru.ErrorCode(err), got)
		}
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+819012345678", "+81 ••• •••• 5678"},
		{"+14155552671", "+1 ••• •••• 2671"},
		{"+447911123456", "+44 ••• •••• 3456"},
		{"+4915123456789", "+49 ••• •••• 6789"},
		{"+6831234", "+683 ••• •••• 34"}, // Niue: 4-digit national numbers
		{"", "•••"},
		{"+", "•••"},
		{"819012345678", "•••"},
		{"+81 90 1234 5678", "•••"},
		{"+81901234567a", "•••"},
		{"+" + strings.Repeat("9", 20), "•••"},
		{"garbage", "•••"},
	}
	for _, tt := range tests {
		if got := phone.Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"090-1234-5678", "+819012345678", "(201) 555-0123", "+1 415 555 2671", "０９０－１２３４－５６７８",
		"", "+", "+0", "1-800-FLOWERS", "+٨١٩٠", "+81\r\n90", strings.Repeat("9", 30),
	} {
		f.Add(s, "JP")
		f.Add(s, "US")
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, in, region string) {
		got, err := phone.Normalize(in, region)
		mask := phone.Mask(got)
		if err != nil {
			if got != "" || mamoru.ErrorCode(err) != phone.CodeInvalid {
				t.Fatalf("Normalize(%q, %q) = %q, %v", in, region, got, err)
			}
			return
		}
		if len(got) < 3 || got[0] != '+' || strings.Trim(got[1:], "0123456789") != "" || len(got) > 16 {
			t.Fatalf("Normalize(%q, %q) = %q: not E.164", in, region, got)
		}
		for _, r := range []string{"", "JP", "US", region} {
			again, err := phone.Normalize(got, r)
			if err != nil || again != got {
				t.Fatalf("Normalize(%q, %q) = %q, %v; want it unchanged", got, r, again, err)
			}
		}
		if !strings.HasPrefix(mask, "+") || strings.Contains(mask, got[len(got)-6:]) {
			t.Fatalf("Mask(%q) = %q", got, mask)
		}
	})
}

func TestCodeMatchesRoot(t *testing.T) {
	if phone.CodeInvalid != mamoru.EInvalidPhone {
		t.Fatalf("CodeInvalid = %q; mamoru.EInvalidPhone = %q", phone.CodeInvalid, mamoru.EInvalidPhone)
	}
}
