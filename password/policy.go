package password

import (
	"unicode/utf8"

	"github.com/mamoru-id/mamoru"
)

// Default policy limits.
const (
	DefaultMinLength = 8   // NIST SP 800-63B minimum for a memorized secret
	DefaultMaxLength = 128 // generous; the hash input is not truncated
	// MaxLengthFloor is the smallest maximum a policy may have: NIST SP
	// 800-63B requires accepting at least 64 characters.
	MaxLengthFloor = 64
)

// Policy is what a new password must satisfy: a length in Unicode code
// points after normalization, and not being a common password. There are
// deliberately no composition rules (NIST SP 800-63B) and no truncation.
// The zero value is the default policy.
type Policy struct {
	// MinLength is the least number of code points; 0 means DefaultMinLength.
	MinLength int
	// MaxLength is the greatest number of code points; 0 means
	// DefaultMaxLength. A value below MaxLengthFloor is raised to it.
	MaxLength int
}

// Validate reports a configuration error: a negative minimum, a maximum
// below MaxLengthFloor, or a minimum above the maximum.
func (p Policy) Validate() error {
	if p.MinLength < 0 {
		return mamoru.Errorf(mamoru.EInvalidRequest, "password policy: negative minimum length %d", p.MinLength)
	}
	if p.MaxLength != 0 && p.MaxLength < MaxLengthFloor {
		return mamoru.Errorf(mamoru.EInvalidRequest, "password policy: maximum length %d is below %d", p.MaxLength, MaxLengthFloor)
	}
	if min, max := p.limits(); min > max {
		return mamoru.Errorf(mamoru.EInvalidRequest, "password policy: minimum length %d exceeds maximum %d", min, max)
	}
	return nil
}

// limits returns the effective minimum and maximum.
func (p Policy) limits() (min, max int) {
	min, max = p.MinLength, p.MaxLength
	if min <= 0 {
		min = DefaultMinLength
	}
	if max == 0 {
		max = DefaultMaxLength
	}
	if max < MaxLengthFloor {
		max = MaxLengthFloor
	}
	return min, max
}

// Check normalizes pw (see Normalize) and returns nil if it satisfies the
// policy, or a *mamoru.Error with code mamoru.EPasswordTooShort,
// mamoru.EPasswordTooLong or mamoru.EPasswordCommon. Length is counted in
// Unicode code points of the normalized password (an invalid UTF-8 byte
// counts as one). common, if not nil, is asked about the normalized
// password (breach.Common fits); it is not called for a password of the
// wrong length.
func (p Policy) Check(pw string, common func(string) bool) error {
	min, max := p.limits()
	n := Normalize(pw)
	count := utf8.RuneCountInString(n)
	switch {
	case count < min:
		return mamoru.Errorf(mamoru.EPasswordTooShort, "password has %d characters, fewer than %d", count, min)
	case count > max:
		return mamoru.Errorf(mamoru.EPasswordTooLong, "password has %d characters, more than %d", count, max)
	case common != nil && common(n):
		return mamoru.Errorf(mamoru.EPasswordCommon, "password is in the list of common passwords")
	}
	return nil
}
