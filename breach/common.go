package breach

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/mamoru-id/mamoru/password"
)

// commonGz is data/common-passwords.txt.gz: one password a line, already in
// CommonForm, deduplicated, in the upstream order (most common first).
// data/SOURCE.md says where it comes from; data/update-common.sh makes it.
//
//go:embed data/common-passwords.txt.gz
var commonGz []byte

var (
	commonOnce sync.Once
	commonList []string // sorted; the strings share one backing array
)

// loadCommon decompresses and sorts the embedded list. The list is part of
// the binary, so a failure is a build defect: it panics.
func loadCommon() []string {
	zr, err := gzip.NewReader(bytes.NewReader(commonGz))
	if err != nil {
		panic("breach: embedded common-password list: " + err.Error())
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		panic("breach: embedded common-password list: " + err.Error())
	}
	text := strings.TrimSuffix(string(data), "\n")
	list := strings.Split(text, "\n")
	slices.Sort(list)
	return slices.Compact(list)
}

// common returns the loaded list, loading it on first use.
func common() []string {
	commonOnce.Do(func() { commonList = loadCommon() })
	return commonList
}

// CommonForm returns the form in which a password is compared with the
// common-password list: NFKC-normalized (password.Normalize), then
// lower-cased. The list itself is stored in this form.
func CommonForm(pw string) string {
	return strings.ToLower(password.Normalize(pw))
}

// Common reports whether pw, in CommonForm, is in the list of the most
// common passwords (@zxcvbn-ts/language-common 4.1.3, see
// data/SOURCE.md). Only an exact match counts: "P@ssword" is not
// "password". The list is loaded on the first call (tens of
// milliseconds, about 1 MB); Common is safe for concurrent use and fits
// password.Policy.Check.
func Common(pw string) bool {
	_, found := slices.BinarySearch(common(), CommonForm(pw))
	return found
}

// CommonCount returns the number of distinct passwords in the list.
func CommonCount() int { return len(common()) }
