package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
)

// Payload formats (Endpoint.Format).
const (
	FormatJSON = "json" // the mamoru JSON payload (the default)
	FormatSET  = "set"  // a Security Event Token (RFC 8417), SSF 1.0 event types
)

// Defaults and limits.
const (
	DefaultTimeout = 10 * time.Second // Endpoint.Timeout when zero
	MaxTimeout     = 5 * time.Minute  // the longest Endpoint.Timeout accepted
	MinSecretBytes = 32               // the shortest Endpoint.Secret accepted
)

// Endpoint is one receiver of webhooks.
type Endpoint struct {
	// Name identifies the endpoint in the outbox (Message.To) and in the
	// order key: [a-z0-9_-]{1,64}, unique. Renaming an endpoint orphans
	// its pending deliveries (they fail permanently as unknown).
	Name string `yaml:"name" doc:"unique name of the endpoint, [a-z0-9_-]{1,64}"`
	// URL receives the POSTs. https, unless the host is loopback.
	URL string `yaml:"url" doc:"https URL that receives the events (http only for localhost)"`
	// Secret is the HMAC-SHA256 key of the Mamoru-Signature header, at
	// least 32 bytes (e.g. openssl rand -base64 32). It is used as the
	// bytes of the string, not decoded.
	Secret string `yaml:"secret" doc:"HMAC-SHA256 key of the Mamoru-Signature header, at least 32 bytes"`
	// Format is "json" (default) or "set".
	Format string `yaml:"format" doc:"payload format: json (default) or set (Security Event Token, RFC 8417)"`
	// Audience is the "aud" claim of SETs; empty means the URL.
	Audience string `yaml:"audience" doc:"aud claim of SETs (format set only; default: the url)"`
	// Events lists the event types delivered: exact types such as
	// "password.changed", prefixes such as "sign_in.*", or "*". Empty
	// means all.
	Events []string `yaml:"events" doc:"event types to deliver: types, prefixes such as sign_in.*, or * (default: all)"`
	// Timeout bounds one delivery attempt (connect, send, answer);
	// 0 means 10s.
	Timeout time.Duration `yaml:"timeout" doc:"time allowed for one delivery attempt (default 10s)"`
}

// Config is the webhook configuration.
type Config struct {
	Endpoints []Endpoint `yaml:"endpoints" doc:"webhook endpoints"`
}

var nameRE = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// Validate reports every problem of the configuration at once, one error
// per problem joined with errors.Join, each prefixed with its key such as
// "endpoints[0].url" (the caller may prefix its own section name).
func (c Config) Validate() error {
	var errs []error
	seen := map[string]int{}
	for i, ep := range c.Endpoints {
		bad := func(field, format string, args ...any) {
			errs = append(errs, fmt.Errorf("endpoints[%d].%s: %s", i, field, fmt.Sprintf(format, args...)))
		}
		switch {
		case !nameRE.MatchString(ep.Name):
			bad("name", "must be 1 to 64 characters of a-z, 0-9, _ and -")
		default:
			if j, dup := seen[ep.Name]; dup {
				bad("name", "%q is also the name of endpoints[%d]", ep.Name, j)
			} else {
				seen[ep.Name] = i
			}
		}
		if err := checkURL(ep.URL); err != nil {
			bad("url", "%v", err)
		}
		if len(ep.Secret) < MinSecretBytes {
			// Never echo the secret.
			bad("secret", "must be at least %d bytes (got %d)", MinSecretBytes, len(ep.Secret))
		}
		switch ep.Format {
		case "", FormatJSON, FormatSET:
		default:
			bad("format", "must be json or set")
		}
		if ep.Audience != "" && strings.TrimSpace(ep.Audience) != ep.Audience {
			bad("audience", "must not begin or end with spaces")
		}
		for k, ev := range ep.Events {
			if !validFilter(ev) {
				bad(fmt.Sprintf("events[%d]", k), "%q is neither an event type, a prefix such as sign_in.*, nor *", ev)
			}
		}
		if ep.Timeout < 0 || ep.Timeout > MaxTimeout {
			bad("timeout", "must be between 0 (default %s) and %s", DefaultTimeout, MaxTimeout)
		}
	}
	return errors.Join(errs...)
}

// checkURL accepts an absolute https URL, or http to a loopback host.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return errors.New("required")
	case err != nil:
		return errors.New("not a URL") // url errors quote the URL, which may hold a token
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "", u.Opaque != "":
		return errors.New("must be an absolute https URL")
	case u.User != nil:
		return errors.New("must not carry a user or password")
	case u.Fragment != "":
		return errors.New("must not have a fragment")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return errors.New("must be https unless the host is loopback (localhost, 127.0.0.1, ::1)")
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validFilter accepts "*", a known event type, or "<prefix>.*" where some
// known type begins with "<prefix>.".
func validFilter(f string) bool {
	if f == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(f, ".*"); ok {
		if prefix == "" {
			return false
		}
		for _, t := range mamoru.EventTypes {
			if strings.HasPrefix(string(t), prefix+".") {
				return true
			}
		}
		return false
	}
	for _, t := range mamoru.EventTypes {
		if string(t) == f {
			return true
		}
	}
	return false
}

// subscribed reports whether an endpoint with these filters takes events
// of type t.
func subscribed(filters []string, t mamoru.EventType) bool {
	if len(filters) == 0 {
		return true
	}
	for _, f := range filters {
		if f == "*" || f == string(t) {
			return true
		}
		if prefix, ok := strings.CutSuffix(f, "*"); ok && strings.HasSuffix(prefix, ".") && strings.HasPrefix(string(t), prefix) {
			return true
		}
	}
	return false
}

func (ep Endpoint) format() string {
	if ep.Format == "" {
		return FormatJSON
	}
	return ep.Format
}

func (ep Endpoint) timeout() time.Duration {
	if ep.Timeout <= 0 {
		return DefaultTimeout
	}
	return ep.Timeout
}

func (ep Endpoint) audience() string {
	if ep.Audience == "" {
		return ep.URL
	}
	return ep.Audience
}
