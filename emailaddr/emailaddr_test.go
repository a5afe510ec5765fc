package emailaddr

import (
	"net/mail"
	"strings"
	"testing"

	"github.com/mamoru-id/mamoru"
)

func TestNormalizeValid(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc@example.com", "abc@example.com"},
		{"Foo@Example.COM", "foo@example.com"},
		{"ＡＢＣ@ＥＸＡＭＰＬＥ.ＣＯＭ", "abc@example.com"},
		{"ａｂｃ＠ｅｘａｍｐｌｅ．ｃｏｍ", "abc@example.com"}, // full-width @ and dot
		{"  abc@example.com\t\n", "abc@example.com"},
		{"\u3000abc@example.com\u3000", "abc@example.com"}, // ideographic spaces trimmed
		{"first.last+tag@example.co.jp", "first.last+tag@example.co.jp"},
		{"o'brien@example.ie", "o'brien@example.ie"},
		{"x!#$%&'*+-/=?^_`{|}~@example.com", "x!#$%&'*+-/=?^_`{|}~@example.com"},
		{"taro..yamada.@docomo.ne.jp", "taro..yamada.@docomo.ne.jp"}, // legacy carrier form
		{"user@例え.jp", "user@xn--r8jz45g.jp"},
		{"user@ＥＸＡＭＰＬＥ．ｃｏｍ", "user@example.com"},
		{"user@bücher.de", "user@xn--bcher-kva.de"},
		{"user@BÜCHER.de", "user@xn--bcher-kva.de"},
		{"user@xn--bcher-kva.de", "user@xn--bcher-kva.de"},
		{"user@sub-domain.example.com", "user@sub-domain.example.com"},
		{"1@2.io", "1@2.io"},
		{strings.Repeat("a", 64) + "@example.com", strings.Repeat("a", 64) + "@example.com"},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			continue
		}
		if again, err := Normalize(got); again != got || err != nil {
			t.Errorf("Normalize(%q) not idempotent: %q, %v", got, again, err)
		}
	}
}

func TestNormalizeVariantsAgree(t *testing.T) {
	variants := []string{
		"abc@example.com", "ABC@EXAMPLE.COM", "Abc@Example.Com", "ＡＢＣ@ＥＸＡＭＰＬＥ.ＣＯＭ",
		"ａｂｃ＠ｅｘａｍｐｌｅ．ｃｏｍ", " abc@example.com ", "abc@ＥＸＡＭＰＬＥ.com",
	}
	for _, v := range variants {
		if got, err := Normalize(v); got != "abc@example.com" || err != nil {
			t.Errorf("Normalize(%q) = %q, %v", v, got, err)
		}
	}
}

func TestNormalizeInvalid(t *testing.T) {
	long := strings.Repeat("a", 63)
	tests := []string{
		"",
		"   ",
		"abc",
		"abc@",
		"@example.com",
		"a@b@example.com",
		"abc@example",
		"abc@localhost",
		"abc@example.com.",
		"abc@.example.com",
		"abc@example..com",
		"abc@-example.com",
		"abc@example-.com",
		"abc@exa_mple.com",
		"abc@[127.0.0.1]",
		"abc@127.0.0.1",
		"ab c@example.com",
		"abc@exam ple.com",
		"abc\x00@example.com",
		"abc\x7f@example.com",
		"abc\u200b@example.com", // zero width space: not atext
		"abc@example.com\r\nBcc: x@example.com",
		"Foo <foo@example.com>",
		"<foo@example.com>",
		"foo@example.com>",
		`"foo bar"@example.com`,
		`"foo"@example.com`,
		"foo(comment)@example.com",
		"foo@example.com (comment)",
		"foo,bar@example.com",
		"foo;bar@example.com",
		"foo\\bar@example.com",
		".foo@example.com",
		"ユーザー@example.jp", // non-ASCII local part
		"müller@example.de",
		strings.Repeat("a", 65) + "@example.com",
		"a@" + long + "." + long + "." + long + "." + long + ".com", // domain > 253
		"a@" + strings.Repeat("a", 64) + ".com",                     // label > 63
		strings.Repeat("a", 64) + "@" + long + "." + long + "." + long + ".abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvw.com",
		"abc@example.com\xff",
		"abc@exa\u0301mple.com\u0000",
	}
	for _, in := range tests {
		got, err := Normalize(in)
		if err == nil {
			t.Errorf("Normalize(%q) = %q, want an error", in, got)
			continue
		}
		if code := mamoru.ErrorCode(err); code != mamoru.EInvalidEmail {
			t.Errorf("Normalize(%q): code %q", in, code)
		}
	}
}

// TestNoNameForms checks that whatever net/mail would read as an address
// with a display name is rejected.
func TestNoNameForms(t *testing.T) {
	for _, in := range []string{
		"Foo <foo@example.com>",
		"\"Foo\" <foo@example.com>",
		"=?utf-8?q?Foo?= <foo@example.com>",
		"foo@example.com (Foo)",
		"Foo<foo@example.com>",
	} {
		a, err := mail.ParseAddress(in)
		if err != nil || a.Name == "" {
			t.Fatalf("test input %q is not a name form for net/mail: %v %+v", in, err, a)
		}
		if got, err := Normalize(in); err == nil {
			t.Errorf("Normalize(%q) = %q, want an error", in, got)
		}
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mamoru@example.com", "m***@example.com"},
		{"m@example.com", "m***@example.com"},
		{"ユーザー@example.jp", "ユ***@example.jp"},
		{"no-at-sign", "***"},
		{"@example.com", "***"},
		{"", "***"},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"abc@example.com", "ＡＢＣ@ＥＸＡＭＰＬＥ.ＣＯＭ", "user@例え.jp", "Foo <foo@example.com>", "a@b", "@", "\xff@x.y", "a@xn--.com", "a@ß.de", "a@ＦＯＯ。com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Normalize(s)
		if err != nil {
			if code := mamoru.ErrorCode(err); code != mamoru.EInvalidEmail {
				t.Fatalf("Normalize(%q): code %q", s, code)
			}
			return
		}
		again, err := Normalize(got)
		if err != nil || again != got {
			t.Fatalf("Normalize(%q) = %q, then %q, %v", s, got, again, err)
		}
		if len(got) > MaxAddressLen || strings.Count(got, "@") != 1 {
			t.Fatalf("Normalize(%q) = %q breaks the limits", s, got)
		}
		for i := 0; i < len(got); i++ {
			if got[i] < 0x21 || got[i] > 0x7e {
				t.Fatalf("Normalize(%q) = %q is not printable ASCII", s, got)
			}
		}
		_ = Mask(got)
	})
}
