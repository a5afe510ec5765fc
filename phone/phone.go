// Package phone validates phone numbers that receive SMS and normalizes
// them to E.164 ("+819012345678"), and masks them for display.
//
// It works on the text of a number only (with the metadata of
// github.com/nyaruka/phonenumbers, a port of Google's libphonenumber): it
// does not look up carriers or send anything. A rejected number is a
// *mamoru.Error with code "invalid_phone".
package phone

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"

	"github.com/mamoru-id/mamoru"
)

// CodeInvalid is the error code of a rejected number; the same value as
// mamoru.EInvalidPhone.
const CodeInvalid = "invalid_phone"

// MaxInputLen is the longest input accepted, in bytes, before any
// normalization. E.164 numbers have at most 15 digits; 64 bytes leave room
// for spaces, hyphens and parentheses.
const MaxInputLen = 64

// Normalize returns the E.164 form of the phone number input, or a
// *mamoru.Error with code "invalid_phone".
//
// defaultRegion (an ISO 3166-1 alpha-2 code such as "JP" or "US",
// case-insensitive) is the country of a number written without a leading
// "+": "090-1234-5678" with "JP" is "+819012345678". A number with "+"
// ignores it. An empty defaultRegion requires the "+".
//
// Steps and rules: at most 64 bytes of valid UTF-8; Unicode NFKC, so that
// full-width digits and signs typed with a Japanese input method
// ("０９０－１２３４－５６７８") become ASCII; then only ASCII digits,
// spaces, the separators - . ( ) / and one leading "+" are allowed —
// letters (vanity numbers such as 1-800-FLOWERS, extensions "ext. 12"),
// other scripts' digits and control characters are rejected rather than
// guessed at. The number must be valid for its region according to the
// library's metadata (length and prefixes), and of a type that can receive
// SMS: numbers the metadata knows to be fixed-line only, toll-free,
// premium-rate, shared-cost, UAN, pager or voicemail numbers are rejected;
// mobile, "fixed line or mobile" (the US and Canada cannot tell), VoIP and
// personal numbers are accepted.
func Normalize(input, defaultRegion string) (string, error) {
	if len(input) > MaxInputLen {
		return "", invalid("longer than 64 bytes")
	}
	if !utf8.ValidString(input) {
		return "", invalid("not valid UTF-8")
	}
	for _, r := range input {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", invalid("contains a control character")
		}
	}
	s := strings.TrimSpace(norm.NFKC.String(input))
	if s == "" {
		return "", invalid("empty")
	}
	digits := 0
	for i, r := range s {
		switch {
		case '0' <= r && r <= '9':
			digits++
		case r == '+':
			if i != 0 {
				return "", invalid(`"+" other than at the start`)
			}
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/':
		default:
			return "", invalid("contains a character other than digits, spaces, + - . ( ) /")
		}
	}
	if digits == 0 {
		return "", invalid("no digits")
	}
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))
	if s[0] != '+' && region == "" {
		return "", invalid(`no country: start with "+" and the country code`)
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", &mamoru.Error{Code: CodeInvalid, Message: "cannot parse", Err: err}
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", invalid("not a valid number for its country")
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE, phonenumbers.VOIP,
		phonenumbers.PERSONAL_NUMBER:
	default:
		return "", invalid("not a number that can receive SMS (fixed line, toll-free, premium rate or similar)")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// invalid returns an "invalid_phone" error with a developer-facing reason.
func invalid(reason string) *mamoru.Error {
	return mamoru.Errorf(CodeInvalid, "%s", reason)
}

// Mask returns an E.164 number with all but the country code and the last
// digits hidden, for showing where a code was sent:
// "+819012345678" becomes "+81 ••• •••• 5678". Four digits are shown of a
// national number of eight or more digits, two of a shorter one. The
// bullets do not reveal the length. Input that is not an E.164 number
// becomes "•••".
func Mask(e164 string) string {
	if len(e164) < 2 || len(e164) > 16 || e164[0] != '+' {
		return "•••"
	}
	for i := 1; i < len(e164); i++ {
		if e164[i] < '0' || e164[i] > '9' {
			return "•••"
		}
	}
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return "•••"
	}
	cc := num.GetCountryCode()
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	show := 4
	if len(nsn) < 8 {
		show = 2
	}
	if len(nsn) <= show {
		return "•••"
	}
	var b strings.Builder
	b.WriteString("+")
	b.WriteString(strconv.Itoa(int(cc)))
	b.WriteString(" ••• •••• ")
	b.WriteString(nsn[len(nsn)-show:])
	return b.String()
}
