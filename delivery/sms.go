package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/phone"
	"github.com/mamoru-id/mamoru/webhook"
)

// DefaultTwilioBaseURL is Twilio's API.
const DefaultTwilioBaseURL = "https://api.twilio.com"

// DefaultHTTPTimeout bounds one SMS request, response included, unless
// the configuration says otherwise.
const DefaultHTTPTimeout = 10 * time.Second

// MaxResponseBytes is how much of a provider's response is read; the
// rest is discarded unread (the connection is closed).
const MaxResponseBytes = 64 << 10

// MinWebhookSecretLen is the shortest webhook signing secret accepted.
const MinWebhookSecretLen = 32

// SMSConfig selects and configures the SMS sender.
type SMSConfig struct {
	Provider string           `yaml:"provider" doc:"twilio or webhook; empty: no SMS"`
	Twilio   TwilioConfig     `yaml:"twilio"`
	Webhook  WebhookSMSConfig `yaml:"webhook"`
}

// Validate returns every problem of the selected provider's
// configuration, or nil.
func (c SMSConfig) Validate() error {
	switch c.Provider {
	case "":
		return nil
	case "twilio":
		return prefixErr("twilio.", c.Twilio.Validate())
	case "webhook":
		return prefixErr("webhook.", c.Webhook.Validate())
	}
	return fmt.Errorf("provider: %q is not twilio or webhook", c.Provider)
}

// NewSMSSender returns the configured SMS sender, or nil (and no error)
// when Provider is empty.
func NewSMSSender(c SMSConfig) (Sender, error) {
	switch c.Provider {
	case "":
		return nil, nil
	case "twilio":
		return NewTwilioSender(c.Twilio)
	case "webhook":
		return NewWebhookSMSSender(c.Webhook)
	}
	return nil, c.Validate()
}

// TwilioConfig configures TwilioSender: Twilio's Messages API, or a
// gateway that speaks it.
type TwilioConfig struct {
	BaseURL             string        `yaml:"base_url" doc:"API root (default https://api.twilio.com); https unless loopback"`
	AccountSID          string        `yaml:"account_sid" doc:"account SID (AC…), also the HTTP basic-auth user"`
	AuthToken           string        `yaml:"auth_token" doc:"auth token, the HTTP basic-auth password"`
	From                string        `yaml:"from" doc:"sender: an E.164 number, a short code or an alphanumeric sender ID; or set messaging_service_sid"`
	MessagingServiceSID string        `yaml:"messaging_service_sid" doc:"messaging service (MG…) instead of from"`
	Timeout             time.Duration `yaml:"timeout" doc:"limit of one request, response included (default 10s)"`
}

// Validate returns every problem of the configuration, joined, or nil.
func (c TwilioConfig) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.BaseURL != "" {
		if err := checkURL(c.BaseURL); err != nil {
			bad("base_url", "%v", err)
		}
	}
	if !isSID(c.AccountSID) {
		bad("account_sid", "required: letters and digits")
	}
	if c.AuthToken == "" {
		bad("auth_token", "required")
	} else if hasControl(c.AuthToken) {
		bad("auth_token", "contains a control character")
	}
	switch {
	case c.From == "" && c.MessagingServiceSID == "":
		bad("from", "from or messaging_service_sid is required")
	case c.From != "" && c.MessagingServiceSID != "":
		bad("from", "set from or messaging_service_sid, not both")
	case c.From != "" && !validSMSFrom(c.From):
		bad("from", "%q is not an E.164 number (+…), a short code or an alphanumeric sender ID (up to 11 letters, digits, spaces)", c.From)
	case c.MessagingServiceSID != "" && !isSID(c.MessagingServiceSID):
		bad("messaging_service_sid", "letters and digits only")
	}
	if c.Timeout < 0 {
		bad("timeout", "negative")
	}
	return errors.Join(errs...)
}

// TwilioSender sends SMS with Twilio's Messages API: a form POST of To,
// From (or MessagingServiceSid) and Body to
// {BaseURL}/2010-04-01/Accounts/{AccountSID}/Messages.json with HTTP basic
// authentication. Safe for concurrent use.
type TwilioSender struct {
	cfg      TwilioConfig
	endpoint string
	client   *http.Client
}

// NewTwilioSender validates cfg and returns a sender.
func NewTwilioSender(cfg TwilioConfig) (*TwilioSender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("twilio: %w", err)
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultTwilioBaseURL
	}
	return &TwilioSender{
		cfg:      cfg,
		endpoint: strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + cfg.AccountSID + "/Messages.json",
		client:   newHTTPClient(cfg.Timeout),
	}, nil
}

// Send implements notify.Sender. Message.Text is the SMS body.
func (s *TwilioSender) Send(ctx context.Context, m *mamoru.Message) error {
	to, body, err := smsParts(m)
	if err != nil {
		return fmt.Errorf("twilio: %w", err)
	}
	form := url.Values{"To": {to}, "Body": {body}}
	if s.cfg.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", s.cfg.MessagingServiceSID)
	} else {
		form.Set("From", s.cfg.From)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("twilio: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "mamoru")
	req.SetBasicAuth(s.cfg.AccountSID, s.cfg.AuthToken)
	return post(s.client, req, "twilio", twilioReason, s.cfg.AuthToken)
}

// twilioReason extracts Twilio's error code and message from a response.
func twilioReason(body []byte) string {
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil || (e.Code == 0 && e.Message == "") {
		return snippet(body)
	}
	return fmt.Sprintf("code %d: %s", e.Code, snippet([]byte(e.Message)))
}

// WebhookSMSConfig configures WebhookSMSSender.
type WebhookSMSConfig struct {
	URL     string        `yaml:"url" doc:"endpoint that sends the SMS; https unless loopback"`
	Secret  string        `yaml:"secret" doc:"HMAC-SHA256 key of the Mamoru-Signature header; at least 32 characters (openssl rand -hex 32)"`
	Timeout time.Duration `yaml:"timeout" doc:"limit of one request, response included (default 10s)"`
}

// Validate returns every problem of the configuration, joined, or nil.
func (c WebhookSMSConfig) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.URL == "" {
		bad("url", "required")
	} else if err := checkURL(c.URL); err != nil {
		bad("url", "%v", err)
	}
	if len(c.Secret) < MinWebhookSecretLen {
		bad("secret", "at least %d characters required", MinWebhookSecretLen)
	}
	if c.Timeout < 0 {
		bad("timeout", "negative")
	}
	return errors.Join(errs...)
}

// WebhookSMSSender sends SMS through a gateway of your own: it POSTs
//
//	{"id": message ID, "to": E.164, "body": text, "created_at": RFC 3339}
//
// with the headers Idempotency-Key (the message ID, the same for every
// attempt) and Mamoru-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
// "<t>.<body>" keyed with the secret> — the scheme of mamoru's webhooks, which
// webhook.Verify checks.
// Safe for concurrent use.
type WebhookSMSSender struct {
	cfg    WebhookSMSConfig
	client *http.Client
	now    func() time.Time
}

// NewWebhookSMSSender validates cfg and returns a sender.
func NewWebhookSMSSender(cfg WebhookSMSConfig) (*WebhookSMSSender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sms webhook: %w", err)
	}
	return &WebhookSMSSender{cfg: cfg, client: newHTTPClient(cfg.Timeout), now: time.Now}, nil
}

// webhookSMS is the JSON body.
type webhookSMS struct {
	ID        string `json:"id"`
	To        string `json:"to"`
	Body      string `json:"body"`
	CreatedAt string `json:"created_at"`
}

// Send implements notify.Sender. Message.Text is the SMS body.
func (s *WebhookSMSSender) Send(ctx context.Context, m *mamoru.Message) error {
	to, text, err := smsParts(m)
	if err != nil {
		return fmt.Errorf("sms webhook: %w", err)
	}
	created := m.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	body, err := json.Marshal(webhookSMS{ID: m.ID, To: to, Body: text, CreatedAt: created.UTC().Format(time.RFC3339)})
	if err != nil {
		return permanent(fmt.Errorf("sms webhook: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "mamoru")
	req.Header.Set("Idempotency-Key", m.ID)
	req.Header.Set("Mamoru-Signature", webhook.SignatureHeader([]byte(s.cfg.Secret), s.now(), body))
	return post(s.client, req, "sms webhook", snippet, s.cfg.Secret)
}

// smsParts returns the E.164 recipient and the body of an SMS, or a
// permanent error.
func smsParts(m *mamoru.Message) (to, body string, err error) {
	if m == nil {
		return "", "", permanent(errors.New("nil message"))
	}
	if m.ID == "" {
		return "", "", permanent(errors.New("message has no ID"))
	}
	to, err = phone.Normalize(m.To, "")
	if err != nil {
		return "", "", permanent(fmt.Errorf("recipient %s: %w", phone.Mask(m.To), err))
	}
	if m.Text == "" {
		return "", "", permanent(errors.New("empty SMS body (Message.Text)"))
	}
	return to, strings.ToValidUTF8(m.Text, "\uFFFD"), nil
}

// newHTTPClient returns a client with a timeout that does not follow
// redirects.
func newHTTPClient(timeout time.Duration) *http.Client {
	if timeout == 0 {
		timeout = DefaultHTTPTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxResponseHeaderBytes = MaxResponseBytes
	return &http.Client{
		Timeout:   timeout,
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// post sends req and classifies the outcome: 2xx is delivered; 4xx but
// 408 and 429 is permanent; everything else (5xx, 408, 429, 3xx, network
// errors, timeouts) is temporary. At most MaxResponseBytes of the body are
// read. No secret appears in the error.
func post(client *http.Client, req *http.Request, name string, reason func([]byte) string, secrets ...string) error {
	where := safeURL(req.URL)
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text has the whole URL, which may carry a secret
		}
		return errors.New(redact(fmt.Sprintf("%s: POST %s: %v", name, where, err), secrets...))
	}
	defer resp.Body.Close() // without draining: what is left is dropped with the connection
	data, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	code := resp.StatusCode
	if code >= 200 && code <= 299 {
		return nil
	}
	msg := fmt.Sprintf("%s: POST %s: HTTP %d", name, where, code)
	if loc := resp.Header.Get("Location"); code >= 300 && code <= 399 && loc != "" {
		msg += " (redirect not followed)"
	} else if r := reason(data); r != "" {
		msg += ": " + r
	}
	err = errors.New(redact(msg, secrets...))
	if code >= 400 && code <= 499 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests {
		return permanent(err)
	}
	return err
}

// snippet returns the start of a response body as one line of printable
// text.
func snippet(body []byte) string {
	s := strings.ToValidUTF8(string(body), "")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }), " ")
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// redact replaces every secret in s.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// safeURL is u without user information, query or fragment, for errors.
func safeURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// checkURL accepts an absolute http(s) URL; http only for a loopback host.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("not an absolute http(s) URL")
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return errors.New("must be https (http only for a loopback host)")
	}
	if u.Fragment != "" {
		return errors.New("has a fragment")
	}
	return nil
}

// isSID reports whether s is a plausible account or service SID.
func isSID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// validSMSFrom accepts an E.164 number, a short code (3 to 8 digits) or
// an alphanumeric sender ID (1 to 11 letters, digits and spaces, with a
// letter).
func validSMSFrom(s string) bool {
	digits := func(d string) bool { return d != "" && strings.Trim(d, "0123456789") == "" }
	switch {
	case strings.HasPrefix(s, "+"):
		return digits(s[1:]) && len(s) >= 8 && len(s) <= 16 && s[1] != '0'
	case digits(s):
		return len(s) >= 3 && len(s) <= 8
	}
	if len(s) > 11 || strings.TrimSpace(s) != s {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			letter = true
		case '0' <= c && c <= '9' || c == ' ':
		default:
			return false
		}
	}
	return letter
}

// prefixErr prefixes every joined error's text with prefix.
func prefixErr(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			errs = append(errs, fmt.Errorf("%s%w", prefix, e))
		}
		return errors.Join(errs...)
	}
	return fmt.Errorf("%s%w", prefix, err)
}
