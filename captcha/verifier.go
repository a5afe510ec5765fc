package captcha

import (
	"context"
	"errors"
)

// Verifier checks the answer of a CAPTCHA that a form submitted: token is
// the value of the Widget's form field, remoteIP the client's address (""
// when unknown; the proof of work ignores it).
//
// A nil error means the answer is right and has not been used before. A
// wrong, expired, reused, missing or malformed answer is a *mamoru.Error
// with code mamoru.EInvalidRequest that wraps ErrRequired or ErrInvalid;
// a provider or counter store that cannot be reached gives
// mamoru.EUnavailable, and a misconfiguration mamoru.EInternal.
type Verifier interface {
	Verify(ctx context.Context, token, remoteIP string) error
}

// Provider is a Verifier that also describes what the page must show.
type Provider interface {
	Verifier
	Widget() Widget
}

// Sentinel errors, wrapped by the *mamoru.Error that Verify returns, so
// that callers can tell "no answer" from "a wrong answer" with errors.Is.
//
// They stand in for error codes of their own (captcha_required,
// captcha_invalid) that the root package does not have yet.
var (
	// ErrRequired: the form carried no answer at all.
	ErrRequired = errors.New("captcha required")
	// ErrInvalid: the answer is malformed, wrong, expired or already used.
	ErrInvalid = errors.New("captcha invalid")
)

// Kinds of Widget.
const (
	KindPoW       = "altcha"    // our proof of work (ALTCHA v1 format)
	KindTurnstile = "turnstile" // Cloudflare Turnstile
	KindHCaptcha  = "hcaptcha"  // hCaptcha
)

// Widget is what a page needs to show a CAPTCHA and submit its answer. It
// holds no secret. How each kind is marked up:
//
//	altcha:    <div data-mamoru-pow data-challenge-url="{ChallengeURL}"
//	                data-text-working="…" data-text-done="…" data-text-error="…"></div>
//	           inside the form, and <script src="{ScriptURL}" defer></script>
//	turnstile: <div class="cf-turnstile" data-sitekey="{SiteKey}"></div>
//	           inside the form, and <script src="{ScriptURL}" async defer></script>
//	hcaptcha:  <div class="h-captcha" data-sitekey="{SiteKey}"></div>
//	           inside the form, and <script src="{ScriptURL}" async defer></script>
//
// In every case the script adds a form field named FieldName whose value
// is the token for Verifier.Verify.
type Widget struct {
	Kind         string // KindPoW, KindTurnstile or KindHCaptcha
	FieldName    string // the form field that carries the answer
	ScriptURL    string // the script the page loads
	Class        string // the class of the widget's element ("" for altcha)
	SiteKey      string // the public site key (turnstile, hcaptcha)
	ChallengeURL string // where the script GETs a challenge (altcha)
}
