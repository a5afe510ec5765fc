package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/clientip"
)

// ipRecorder remembers the client address the services were given.
type ipRecorder struct {
	mamoru.SignInService
	ip string
}

func (r *ipRecorder) SubmitPassword(ctx context.Context, in mamoru.PasswordStep, req mamoru.Request) (*mamoru.SignInResult, error) {
	r.ip = req.IP
	return r.SignInService.SubmitPassword(ctx, in, req)
}

func TestClientIPBehindTrustedProxy(t *testing.T) {
	proxies, err := clientip.New([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, clientip.XForwardedFor)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		resolver *clientip.Resolver
		remote   string
		xff      []string
		want     string
	}{
		{"no resolver: the peer", nil, "10.0.0.1:80", []string{"198.51.100.7"}, "10.0.0.1"},
		{"no resolver, IPv6 peer", nil, "[2001:db8::5]:443", nil, "2001:db8::5"},
		{"trusted proxy", proxies, "10.0.0.1:80", []string{"198.51.100.7"}, "198.51.100.7"},
		{"trusted proxy, client-sent header", proxies, "10.0.0.1:80", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"trusted proxies", proxies, "10.0.0.1:80", []string{"6.6.6.6", "198.51.100.7, 10.0.0.2"}, "198.51.100.7"},
		{"untrusted peer's header ignored", proxies, "203.0.113.9:5555", []string{"198.51.100.7"}, "203.0.113.9"},
		{"garbage from the proxy: the proxy", proxies, "10.0.0.1:80", []string{"<b>x</b>"}, "10.0.0.1"},
		{"v4-mapped peer", proxies, "[::ffff:10.0.0.1]:80", []string{"[2001:db8::7]:4711"}, "2001:db8::7"},
		{"not an IP peer", proxies, "@", []string{"198.51.100.7"}, "@"},
	}
	for _, tt := range tests {
		e := newEnv(t, false)
		e.srv.cfg.ClientIP = tt.resolver
		rec := &ipRecorder{SignInService: e.srv.signIn}
		e.srv.signIn = rec

		req := httptest.NewRequest(http.MethodPost, "https://id.example.com/api/v1/signin",
			strings.NewReader(`{"email":"user@example.com","password":"`+goodPassword+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = tt.remote
		for _, v := range tt.xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Errorf("%s: status %d %s", tt.name, w.Code, w.Body)
		}
		if rec.ip != tt.want {
			t.Errorf("%s: the service saw IP %q, want %q", tt.name, rec.ip, tt.want)
		}
		if got := e.srv.request(req).IP; got != tt.want {
			t.Errorf("%s: request().IP = %q, want %q", tt.name, got, tt.want)
		}
	}
}
