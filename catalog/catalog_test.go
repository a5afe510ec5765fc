package catalog

import (
	"strings"
	"testing"

	"github.com/mamoru-id/mamoru"
)

func TestEveryIDInEveryLanguage(t *testing.T) {
	c := MustNew()
	for _, a := range mamoru.Languages {
		for _, b := range mamoru.Languages {
			for _, id := range c.IDs(a) {
				if !c.Has(b, id) {
					t.Errorf("%s has %q but %s does not", a, id, b)
				}
			}
		}
	}
}

func TestErrorCodesHaveTexts(t *testing.T) {
	c := MustNew()
	for _, code := range []string{mamoru.EInvalidRequest, mamoru.EInvalidJSON, mamoru.EPayloadTooLarge,
		mamoru.EUnsupportedMediaType, mamoru.EInvalidEmail, mamoru.EInvalidLanguage, mamoru.EPasswordTooShort,
		mamoru.EPasswordTooLong, mamoru.EPasswordCommon, mamoru.EPasswordIncorrect, mamoru.EInvalidCode,
		mamoru.EFlowExpired, mamoru.EUnauthorized, mamoru.EForbidden, mamoru.ENotFound, mamoru.EMethodNotAllowed,
		mamoru.EConflict, mamoru.ERateLimited, mamoru.EUnavailable, mamoru.EInternal} {
		for _, lang := range mamoru.Languages {
			if !c.Has(lang, "error."+code) {
				t.Errorf("no text for error.%s in %s", code, lang)
			}
		}
	}
}

func TestTemplateData(t *testing.T) {
	c := MustNew()
	got := c.T(mamoru.English, "error.password_too_short", map[string]any{"Min": 8})
	if !strings.Contains(got, "8") {
		t.Errorf("got %q", got)
	}
	if got := c.T(mamoru.Japanese, "no.such.id", nil); got != "[no.such.id]" {
		t.Errorf("missing ID rendered as %q", got)
	}
}

func TestJapanese(t *testing.T) {
	c := MustNew()
	if got := c.T(mamoru.Japanese, "error.not_found", nil); got != "見つかりません。" {
		t.Errorf("ja not_found = %q", got)
	}
}
