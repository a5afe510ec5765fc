// Package emailaddr normalizes and validates the email addresses that
// identify accounts, so that one mailbox maps to one account however it is
// typed, and masks addresses for display.
//
// It works on the text of an address only: it must not look up DNS or MX
// records, send mail, or contain user-facing text (a rejected address is a
// *mamoru.Error with code mamoru.EInvalidEmail).
package emailaddr

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"

	"github.com/mamoru-id/mamoru"
)

// Limits from RFC 5321 (section 4.5.3.1) and RFC 3696 errata.
const (
	MaxLocalLen   = 64  // octets in the local part
	MaxDomainLen  = 253 // octets in the ASCII domain
	MaxAddressLen = 254 // octets in the whole address
	maxLabelLen   = 63
)

// Normalize returns the canonical form of the email address s, or a
// *mamoru.Error with code mamoru.EInvalidEmail.
//
// Steps: trim white space; Unicode NFKC (full-width and other
// compatibility forms become ASCII, e.g. "ＡＢＣ＠ＥＸＡＭＰＬＥ．ＣＯＭ"
// becomes "abc@example.com"); lower-case the whole address; convert the
// domain to ASCII with IDNA (UTS #46, the Lookup profile), so "例え.jp"
// is stored as "xn--r8jz45g.jp".
//
// The local part is lower-cased too. RFC 5321 lets a server treat it as
// case-sensitive, but practically none does, and an account is one per
// mailbox: "Foo@" and "foo@" must not become two accounts. Mail is sent to
// the lower-cased address.
//
// Accepted: exactly one "@"; a local part of 1 to 64 octets made of ASCII
// letters, digits, the RFC 5322 atext symbols !#$%&'*+-/=?^_`{|}~ and
// dots, not starting with a dot (consecutive dots and a dot before "@"
// are allowed, because Japanese mobile carriers issued such addresses and
// they receive mail); a domain of at most 253 octets with at least two
// labels, each 1 to 63 letters, digits or hyphens, not starting or ending
// with a hyphen, and a top-level label that is not all digits; at most 254
// octets in all. Rejected: display names and angle brackets ("Foo
// <foo@example.com>"), quoted local parts, comments, IP literals, white
// space, control characters, and non-ASCII local parts (RFC 6531 mailboxes,
// which need SMTPUTF8 end to end and invite look-alike addresses).
func Normalize(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", invalid("not valid UTF-8")
	}
	s = strings.ToLower(norm.NFKC.String(s))
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar {
			return "", invalid("contains white space or a control character")
		}
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || strings.Contains(domain, "@") {
		return "", invalid("want exactly one @")
	}
	if err := checkLocal(local); err != nil {
		return "", err
	}
	var err error
	ascii := domain
	if !plainLDH(domain) {
		if ascii, err = idna.Lookup.ToASCII(domain); err != nil {
			return "", &mamoru.Error{Code: mamoru.EInvalidEmail, Message: "invalid domain", Err: err}
		}
		ascii = strings.ToLower(ascii)
	}
	if err := checkDomain(ascii); err != nil {
		return "", err
	}
	addr := local + "@" + ascii
	if len(addr) > MaxAddressLen {
		return "", invalid("address longer than 254 octets")
	}
	return addr, nil
}

// plainLDH reports a domain of lower-case ASCII letters, digits, dots and
// single hyphens: IDNA's mapping leaves it as it is, so the (costly)
// conversion is skipped; checkDomain still validates it.
func plainLDH(domain string) bool {
	for i := 0; i < len(domain); i++ {
		c := domain[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return !strings.Contains(domain, "--")
}

// invalid returns an EInvalidEmail error with a developer-facing reason.
func invalid(reason string) *mamoru.Error {
	return &mamoru.Error{Code: mamoru.EInvalidEmail, Message: reason}
}

// checkLocal validates the (lower-cased, NFKC) local part.
func checkLocal(local string) error {
	switch {
	case local == "":
		return invalid("empty local part")
	case len(local) > MaxLocalLen:
		return invalid("local part longer than 64 octets")
	case local[0] == '.':
		return invalid("local part starts with a dot")
	}
	for i := 0; i < len(local); i++ {
		if !isAtext(local[i]) && local[i] != '.' {
			return invalid("local part has a character outside RFC 5322 atext")
		}
	}
	return nil
}

// isAtext reports whether c is an RFC 5322 atext character.
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// checkDomain validates the ASCII (IDNA-encoded) domain.
func checkDomain(domain string) error {
	if domain == "" || len(domain) > MaxDomainLen {
		return invalid("domain empty or longer than 253 octets")
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return invalid("domain has no dot")
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabelLen {
			return invalid("domain label empty or longer than 63 octets")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return invalid("domain label starts or ends with a hyphen")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return invalid("domain label has a character other than a letter, digit or hyphen")
			}
		}
	}
	tld := labels[len(labels)-1]
	if strings.Trim(tld, "0123456789") == "" {
		return invalid("top-level domain is numeric")
	}
	return nil
}

// Mask returns addr with its local part hidden but for the first
// character, for showing whom a message went to: "m***@example.com". An
// address without "@" (or with an empty local part) becomes "***".
func Mask(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "***"
	}
	_, n := utf8.DecodeRuneInString(local)
	return local[:n] + "***@" + domain
}
