package password

import "golang.org/x/text/unicode/norm"

// Normalize returns s in Unicode Normalization Form KC, so that the same
// password typed with different input methods (full-width and half-width
// forms, composed and decomposed accents) is the same string. It does
// nothing else: no trimming, no case change, no replacement of invalid
// UTF-8. Both Policy.Check and Hasher apply it; callers pass the password
// as typed.
func Normalize(s string) string {
	return norm.NFKC.String(s)
}
