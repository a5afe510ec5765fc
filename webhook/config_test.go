package webhook

import (
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"gopkg.in/yaml.v3"
)

func TestValidate(t *testing.T) {
	ok := endpoint("app", "https://app.example.com/hooks/mamoru", "")
	with := func(f func(*Endpoint)) Config {
		ep := ok
		f(&ep)
		return Config{Endpoints: []Endpoint{ep}}
	}
	cases := []struct {
		name string
		cfg  Config
		want []string // substrings of the errors, one per problem; none: valid
	}{
		{"no endpoints", Config{}, nil},
		{"minimal", with(func(*Endpoint) {}), nil},
		{"everything set", with(func(e *Endpoint) {
			e.Format, e.Audience, e.Timeout = "set", "https://app.example.com", 30*time.Second
			e.Events = []string{"sign_in.*", "password.changed", "*"}
		}), nil},
		{"json format", with(func(e *Endpoint) { e.Format = "json" }), nil},
		{"http to localhost", with(func(e *Endpoint) { e.URL = "http://localhost:9000/hook" }), nil},
		{"http to 127.0.0.1", with(func(e *Endpoint) { e.URL = "http://127.0.0.1:9000/hook" }), nil},
		{"http to ::1", with(func(e *Endpoint) { e.URL = "http://[::1]:9000/hook" }), nil},
		{"query allowed", with(func(e *Endpoint) { e.URL = "https://hooks.example.com/x?token=abc" }), nil},

		{"empty name", with(func(e *Endpoint) { e.Name = "" }), []string{"endpoints[0].name"}},
		{"upper-case name", with(func(e *Endpoint) { e.Name = "App" }), []string{"endpoints[0].name"}},
		{"name with a colon", with(func(e *Endpoint) { e.Name = "a:b" }), []string{"endpoints[0].name"}},
		{"long name", with(func(e *Endpoint) { e.Name = strings.Repeat("a", 65) }), []string{"endpoints[0].name"}},
		{"duplicate names", Config{Endpoints: []Endpoint{ok, ok}}, []string{"endpoints[1].name: \"app\" is also the name of endpoints[0]"}},
		{"no URL", with(func(e *Endpoint) { e.URL = "" }), []string{"endpoints[0].url: required"}},
		{"relative URL", with(func(e *Endpoint) { e.URL = "/hook" }), []string{"endpoints[0].url"}},
		{"http elsewhere", with(func(e *Endpoint) { e.URL = "http://app.example.com/hook" }), []string{"must be https"}},
		{"ftp", with(func(e *Endpoint) { e.URL = "ftp://app.example.com/hook" }), []string{"endpoints[0].url"}},
		{"user in URL", with(func(e *Endpoint) { e.URL = "https://u:p@app.example.com/" }), []string{"user"}},
		{"fragment", with(func(e *Endpoint) { e.URL = "https://app.example.com/#x" }), []string{"fragment"}},
		{"short secret", with(func(e *Endpoint) { e.Secret = "short-secret" }), []string{"endpoints[0].secret: must be at least 32 bytes (got 12)"}},
		{"unknown format", with(func(e *Endpoint) { e.Format = "xml" }), []string{"endpoints[0].format"}},
		{"unknown event", with(func(e *Endpoint) { e.Events = []string{"sign_in.succeeded", "sign_in.maybe"} }), []string{"endpoints[0].events[1]"}},
		{"unknown prefix", with(func(e *Endpoint) { e.Events = []string{"login.*"} }), []string{"endpoints[0].events[0]"}},
		{"bare prefix", with(func(e *Endpoint) { e.Events = []string{"sign_in"} }), []string{"endpoints[0].events[0]"}},
		{"empty prefix", with(func(e *Endpoint) { e.Events = []string{".*"} }), []string{"endpoints[0].events[0]"}},
		{"negative timeout", with(func(e *Endpoint) { e.Timeout = -time.Second }), []string{"endpoints[0].timeout"}},
		{"huge timeout", with(func(e *Endpoint) { e.Timeout = time.Hour }), []string{"endpoints[0].timeout"}},
		{"every problem at once", Config{Endpoints: []Endpoint{{Name: "Bad Name", URL: "http://example.com", Secret: "hush-7f3a", Format: "xml",
			Events: []string{"nope"}, Timeout: -1}}},
			[]string{".name", ".url", ".secret", ".format", ".events[0]", ".timeout"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want errors %q", c.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(c.want) {
				t.Errorf("Validate reported %d problems, want %d:\n%v", len(lines), len(c.want), err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: %v\nwant it to mention %q", err, w)
				}
			}
			for _, ep := range c.cfg.Endpoints {
				if len(ep.Secret) > 0 && strings.Contains(err.Error(), ep.Secret) {
					t.Errorf("Validate echoes the secret: %v", err)
				}
			}
		})
	}
}

func TestSubscribed(t *testing.T) {
	cases := []struct {
		filters []string
		typ     mamoru.EventType
		want    bool
	}{
		{nil, mamoru.EventSignInFailed, true},
		{[]string{"*"}, mamoru.EventNotificationSent, true},
		{[]string{"sign_in.*"}, mamoru.EventSignInFailed, true},
		{[]string{"sign_in.*"}, mamoru.EventSessionEnded, false},
		{[]string{"password.*"}, mamoru.EventPasswordResetRequired, true},
		{[]string{"password.changed"}, mamoru.EventPasswordChanged, true},
		{[]string{"password.changed"}, mamoru.EventPasswordReset, false},
		{[]string{"email.*", "account.locked"}, mamoru.EventAccountLocked, true},
		{[]string{"email.*", "account.locked"}, mamoru.EventAccountUnlocked, false},
	}
	for _, c := range cases {
		if got := subscribed(c.filters, c.typ); got != c.want {
			t.Errorf("subscribed(%q, %s) = %v, want %v", c.filters, c.typ, got, c.want)
		}
	}
}

func TestConfigYAML(t *testing.T) {
	src := `
endpoints:
  - name: crm
    url: https://crm.example.com/hooks/mamoru
    secret: 0123456789abcdef0123456789abcdef
    format: set
    audience: https://crm.example.com
    events: ["sign_in.*", password.changed]
    timeout: 5s
`
	var cfg Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	want := Endpoint{Name: "crm", URL: "https://crm.example.com/hooks/mamoru", Secret: "0123456789abcdef0123456789abcdef",
		Format: "set", Audience: "https://crm.example.com", Events: []string{"sign_in.*", "password.changed"}, Timeout: 5 * time.Second}
	if len(cfg.Endpoints) != 1 || cfg.Endpoints[0].Name != want.Name || cfg.Endpoints[0].Timeout != want.Timeout ||
		cfg.Endpoints[0].Audience != want.Audience || len(cfg.Endpoints[0].Events) != 2 || cfg.Endpoints[0].Format != "set" {
		t.Fatalf("decoded %+v, want %+v", cfg.Endpoints, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}
