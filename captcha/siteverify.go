package captcha

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
)

// Endpoints and scripts of the providers.
const (
	TurnstileVerifyURL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
	TurnstileScriptURL = "https://challenges.cloudflare.com/turnstile/v0/api.js"
	HCaptchaVerifyURL  = "https://api.hcaptcha.com/siteverify"
	HCaptchaScriptURL  = "https://js.hcaptcha.com/1/api.js"
)

// DefaultSiteVerifyTimeout bounds one siteverify call, connection included.
const DefaultSiteVerifyTimeout = 5 * time.Second

// MaxSiteVerifyResponseBytes is how much of a provider's answer is read;
// a longer answer is an error.
const MaxSiteVerifyResponseBytes = 64 << 10

// SiteVerifyConfig configures Turnstile or HCaptcha.
type SiteVerifyConfig struct {
	// SiteKey is the public key that the page's widget shows.
	SiteKey string
	// Secret is the secret key; it is sent to VerifyURL only.
	Secret string
	// VerifyURL and ScriptURL default to the provider's.
	VerifyURL, ScriptURL string
	// Hostnames, when not empty, are the only hostnames that the
	// provider may report the CAPTCHA was solved on (case-insensitive).
	Hostnames []string
	// Timeout bounds one call (default DefaultSiteVerifyTimeout).
	Timeout time.Duration
	// HTTPClient defaults to a client that follows no redirects.
	HTTPClient *http.Client
}

// Validate reports every problem of c, joined.
func (c SiteVerifyConfig) Validate() error {
	var errs []error
	if c.SiteKey == "" {
		errs = append(errs, errors.New("captcha: site key missing"))
	}
	if c.Secret == "" {
		errs = append(errs, errors.New("captcha: secret missing"))
	}
	if c.VerifyURL != "" {
		u, err := url.Parse(c.VerifyURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, errors.New("captcha: verify URL is not an absolute http(s) URL"))
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("captcha: timeout is negative (%s)", c.Timeout))
	}
	return errors.Join(errs...)
}

// Turnstile verifies Cloudflare Turnstile tokens. It is safe for
// concurrent use.
type Turnstile struct{ sv *siteVerifier }

// HCaptcha verifies hCaptcha tokens. It is safe for concurrent use.
type HCaptcha struct{ sv *siteVerifier }

var (
	_ Provider = (*Turnstile)(nil)
	_ Provider = (*HCaptcha)(nil)
)

// NewTurnstile returns a Turnstile for cfg.
func NewTurnstile(cfg SiteVerifyConfig) (*Turnstile, error) {
	sv, err := newSiteVerifier(cfg, Widget{
		Kind: KindTurnstile, FieldName: "cf-turnstile-response", ScriptURL: TurnstileScriptURL, Class: "cf-turnstile",
	}, TurnstileVerifyURL, 2048, false) // Cloudflare documents 2048 characters at most
	if err != nil {
		return nil, err
	}
	return &Turnstile{sv}, nil
}

// NewHCaptcha returns an HCaptcha for cfg. It sends the site key along,
// so that hCaptcha refuses tokens solved for another site.
func NewHCaptcha(cfg SiteVerifyConfig) (*HCaptcha, error) {
	sv, err := newSiteVerifier(cfg, Widget{
		Kind: KindHCaptcha, FieldName: "h-captcha-response", ScriptURL: HCaptchaScriptURL, Class: "h-captcha",
	}, HCaptchaVerifyURL, 16<<10, true)
	if err != nil {
		return nil, err
	}
	return &HCaptcha{sv}, nil
}

// Verify asks Cloudflare whether token is a fresh, valid answer.
func (t *Turnstile) Verify(ctx context.Context, token, remoteIP string) error {
	return t.sv.verify(ctx, token, remoteIP)
}

// Widget describes the Turnstile widget.
func (t *Turnstile) Widget() Widget { return t.sv.widget }

// Verify asks hCaptcha whether token is a fresh, valid answer.
func (h *HCaptcha) Verify(ctx context.Context, token, remoteIP string) error {
	return h.sv.verify(ctx, token, remoteIP)
}

// Widget describes the hCaptcha widget.
func (h *HCaptcha) Widget() Widget { return h.sv.widget }

// siteVerifier is the siteverify protocol that Turnstile and hCaptcha
// share (and reCAPTCHA before them).
type siteVerifier struct {
	cfg         SiteVerifyConfig
	widget      Widget
	maxToken    int
	sendSiteKey bool
	client      *http.Client
}

func newSiteVerifier(cfg SiteVerifyConfig, w Widget, verifyURL string, maxToken int, sendSiteKey bool) (*siteVerifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", w.Kind, err)
	}
	if cfg.VerifyURL == "" {
		cfg.VerifyURL = verifyURL
	}
	if cfg.ScriptURL != "" {
		w.ScriptURL = cfg.ScriptURL
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultSiteVerifyTimeout
	}
	w.SiteKey = cfg.SiteKey
	client := cfg.HTTPClient
	if client == nil {
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.MaxResponseHeaderBytes = 64 << 10
		client = &http.Client{
			Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse // a 3xx is an answer, and a failure
			},
		}
	}
	return &siteVerifier{cfg: cfg, widget: w, maxToken: maxToken, sendSiteKey: sendSiteKey, client: client}, nil
}

// siteVerifyResponse holds the fields of the answer that matter here.
type siteVerifyResponse struct {
	Success    bool     `json:"success"`
	ErrorCodes []string `json:"error-codes"`
	Hostname   string   `json:"hostname"`
}

// Error codes that say our configuration or request is wrong, not the
// user's answer.
var configErrorCodes = []string{
	"missing-input-secret", "invalid-input-secret", "sitekey-secret-mismatch", "invalid-sitekey", "bad-request",
}

func (s *siteVerifier) verify(ctx context.Context, token, remoteIP string) error {
	name := s.widget.Kind
	if token == "" {
		return mamoru.WrapError(mamoru.EInvalidRequest, ErrRequired, "captcha answer missing")
	}
	if len(token) > s.maxToken {
		return invalid("captcha answer too long")
	}
	form := url.Values{"secret": {s.cfg.Secret}, "response": {token}}
	if remoteIP != "" {
		form.Set("remoteip", remoteIP)
	}
	if s.sendSiteKey {
		form.Set("sitekey", s.cfg.SiteKey)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.VerifyURL, strings.NewReader(form.Encode()))
	if err != nil {
		return mamoru.WrapError(mamoru.EInternal, err, name+": cannot build the siteverify request")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "mamoru-captcha/1")

	resp, err := s.client.Do(req)
	if err != nil {
		// The error names the URL, never the form: no secret in it.
		return mamoru.WrapError(mamoru.EUnavailable, err, name+": siteverify unreachable")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxSiteVerifyResponseBytes+1))
	switch {
	case err != nil:
		return mamoru.WrapError(mamoru.EUnavailable, err, name+": siteverify answer unreadable")
	case resp.StatusCode != http.StatusOK:
		return mamoru.WrapError(mamoru.EUnavailable, fmt.Errorf("status %d", resp.StatusCode), name+": siteverify failed")
	case len(body) > MaxSiteVerifyResponseBytes:
		return mamoru.WrapError(mamoru.EUnavailable, errors.New("answer too large"), name+": siteverify failed")
	}
	var r siteVerifyResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return mamoru.WrapError(mamoru.EUnavailable, err, name+": siteverify answer not JSON")
	}
	if !r.Success {
		codes := strings.Join(r.ErrorCodes, ",")
		for _, c := range r.ErrorCodes {
			if slices.Contains(configErrorCodes, c) {
				return mamoru.WrapError(mamoru.EInternal, fmt.Errorf("%s siteverify error codes: %s", name, codes),
					name+": the provider refuses our configuration")
			}
			if c == "internal-error" {
				return mamoru.WrapError(mamoru.EUnavailable, fmt.Errorf("%s siteverify error codes: %s", name, codes),
					name+": siteverify failed")
			}
		}
		return invalid(fmt.Sprintf("captcha rejected by %s (%s)", name, codes))
	}
	if len(s.cfg.Hostnames) > 0 && !slices.ContainsFunc(s.cfg.Hostnames, func(h string) bool {
		return strings.EqualFold(h, r.Hostname)
	}) {
		return invalid(fmt.Sprintf("captcha solved on another host (%q)", r.Hostname))
	}
	return nil
}
