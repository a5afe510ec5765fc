package webhook

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
)

// MaxResponseBytes is how much of a receiver's answer is read (and
// discarded); the rest is not read, and the connection is closed.
const MaxResponseBytes = 64 << 10

// Request headers of a delivery.
const (
	HeaderEventID    = "Mamoru-Event-Id"
	HeaderEventType  = "Mamoru-Event-Type"
	HeaderDeliveryID = "Mamoru-Delivery-Id"
	HeaderTimestamp  = "Mamoru-Timestamp"
	HeaderSignature  = "Mamoru-Signature"
)

// Content types of the two formats.
const (
	ContentTypeJSON = "application/json"
	ContentTypeSET  = "application/secevent+jwt" // RFC 8935
)

// PermanentError is a delivery failure that retrying cannot cure (an
// unknown endpoint, 410 Gone, a SET the receiver rejected): the outbox
// should park the message at once. It implements
// interface{ Permanent() bool }.
type PermanentError struct {
	Err error
}

// Error implements error.
func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent reports true: do not retry.
func (e *PermanentError) Permanent() bool { return true }

func permanent(format string, args ...any) error {
	return &PermanentError{Err: fmt.Errorf(format, args...)}
}

// Sender delivers ChannelWebhook messages (implements notify.Sender). It
// keeps one HTTP client with reusable connections for every endpoint, and
// connects only to the hosts of the configured endpoint URLs: no proxy, no
// redirects. It is safe for concurrent use.
type Sender struct {
	endpoints map[string]Endpoint
	client    *http.Client
	clock     mamoru.Clock
}

// NewSender returns a Sender for the endpoints of cfg.
func NewSender(cfg Config, clock mamoru.Clock) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if clock == nil {
		clock = mamoru.SystemClock{}
	}
	eps := make(map[string]Endpoint, len(cfg.Endpoints))
	allowed := make(map[string]bool, len(cfg.Endpoints))
	for _, ep := range cfg.Endpoints {
		eps[ep.Name] = ep
		u, _ := url.Parse(ep.URL) // valid: checked by Validate
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		allowed[net.JoinHostPort(u.Hostname(), port)] = true
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy: nil, // connect to the endpoint itself, never through HTTP(S)_PROXY
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if !allowed[addr] {
				return nil, fmt.Errorf("webhook: refusing to connect to %s: not a configured endpoint", addr)
			}
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    8,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	client := &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a 3xx is an answer, and a failure
		},
	}
	return &Sender{endpoints: eps, client: client, clock: clock}, nil
}

// Close releases idle connections.
func (s *Sender) Close() { s.client.CloseIdleConnections() }

// Send POSTs one delivery to its endpoint, signed now. nil means delivered
// (a 2xx answer). A *PermanentError means it never will be (unknown
// endpoint, 410 Gone, a SET rejected with 400 and an RFC 8935 error); any
// other error means try again later (network errors, timeouts, 3xx, other
// 4xx and 5xx), so that a receiver can recover from its own mistakes.
// Errors never contain the secret or the endpoint URL (which may hold a
// token): they name the endpoint.
func (s *Sender) Send(ctx context.Context, m *mamoru.Message) error {
	if m.Channel != mamoru.ChannelWebhook {
		return permanent("webhook: message %s is on channel %q, not webhook", m.ID, m.Channel)
	}
	ep, ok := s.endpoints[m.To]
	if !ok {
		return permanent("webhook: no endpoint named %q is configured", m.To)
	}
	ctx, cancel := context.WithTimeout(ctx, ep.timeout())
	defer cancel()

	body := []byte(m.Text)
	// The format is the stored body's, not the endpoint's current one: a
	// JSON payload is an object, a SET a compact JWS.
	set := !strings.HasPrefix(m.Text, "{")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, strings.NewReader(m.Text))
	if err != nil {
		return permanent("webhook: endpoint %s: cannot build the request", ep.Name)
	}
	now := s.clock.Now()
	h := req.Header
	if set {
		h.Set("Content-Type", ContentTypeSET)
	} else {
		h.Set("Content-Type", ContentTypeJSON)
	}
	h.Set("Accept", "application/json")
	h.Set("User-Agent", "mamoru-webhook/1")
	h.Set(HeaderEventID, m.Subject)
	h.Set(HeaderEventType, m.Template)
	h.Set(HeaderDeliveryID, m.ID)
	h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(HeaderSignature, SignatureHeader([]byte(ep.Secret), now, body))

	resp, err := s.client.Do(req)
	if err != nil {
		return s.transportError(ctx, ep, err)
	}
	defer resp.Body.Close()
	limited := io.LimitReader(resp.Body, MaxResponseBytes)

	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		_, _ = io.Copy(io.Discard, limited) // lets a small answer's connection be reused
		return nil
	case resp.StatusCode == http.StatusGone:
		_, _ = io.Copy(io.Discard, limited)
		return permanent("webhook: endpoint %s answered 410 Gone", ep.Name)
	case set && resp.StatusCode == http.StatusBadRequest:
		// RFC 8935 §2.3: 400 with {"err": ..., "description": ...} means
		// the receiver rejected this SET; sending it again cannot help.
		b, _ := io.ReadAll(limited)
		var e struct {
			Err string `json:"err"`
		}
		if json.Unmarshal(b, &e) == nil && e.Err != "" {
			return permanent("webhook: endpoint %s rejected the SET: %s", ep.Name, errorCode(e.Err))
		}
		return fmt.Errorf("webhook: endpoint %s answered 400 Bad Request", ep.Name)
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		_, _ = io.Copy(io.Discard, limited)
		return fmt.Errorf("webhook: endpoint %s answered %d %s (redirects are not followed)",
			ep.Name, resp.StatusCode, http.StatusText(resp.StatusCode))
	default:
		_, _ = io.Copy(io.Discard, limited)
		return fmt.Errorf("webhook: endpoint %s answered %d %s", ep.Name, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
}

// transportError describes a failure to get an answer without the URL,
// which *url.Error quotes.
func (s *Sender) transportError(ctx context.Context, ep Endpoint, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("webhook: endpoint %s: no answer within %s", ep.Name, ep.timeout())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("webhook: endpoint %s: %v", ep.Name, err)
}

// errorCode keeps an RFC 8935 error code printable and short: it ends up
// in the outbox's last error, which operators read.
func errorCode(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 64 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' {
			b.WriteRune(r)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}
