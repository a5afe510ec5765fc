package captcha

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// fakeSiteVerify stands in for Cloudflare's and hCaptcha's siteverify
// endpoints on 127.0.0.1: it records each form and answers with answer.
type fakeSiteVerify struct {
	*httptest.Server
	mu     sync.Mutex
	forms  []map[string]string
	status int
	answer string
	delay  time.Duration
}

func newFakeSiteVerify(t *testing.T) *fakeSiteVerify {
	f := &fakeSiteVerify{status: http.StatusOK, answer: `{"success":true,"hostname":"id.example.jp","error-codes":[]}`}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "want a form POST", http.StatusBadRequest)
			return
		}
		_ = r.ParseForm()
		form := map[string]string{}
		for k := range r.PostForm {
			form[k] = r.PostForm.Get(k)
		}
		f.mu.Lock()
		f.forms = append(f.forms, form)
		status, answer, delay := f.status, f.answer, f.delay
		f.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSiteVerify) set(status int, answer string) {
	f.mu.Lock()
	f.status, f.answer = status, answer
	f.mu.Unlock()
}

func (f *fakeSiteVerify) lastForm() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.forms) == 0 {
		return nil
	}
	return f.forms[len(f.forms)-1]
}

func (f *fakeSiteVerify) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.forms)
}

func TestSiteVerifyProviders(t *testing.T) {
	for _, tc := range []struct {
		kind, field, script, class string
		sendsSiteKey               bool
		make                       func(SiteVerifyConfig) (Provider, error)
	}{
		{KindTurnstile, "cf-turnstile-response", TurnstileScriptURL, "cf-turnstile", false,
			func(c SiteVerifyConfig) (Provider, error) { return NewTurnstile(c) }},
		{KindHCaptcha, "h-captcha-response", HCaptchaScriptURL, "h-captcha", true,
			func(c SiteVerifyConfig) (Provider, error) { return NewHCaptcha(c) }},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			ctx := context.Background()
			fake := newFakeSiteVerify(t)
			v, err := tc.make(SiteVerifyConfig{SiteKey: "site-key", Secret: "s3cret", VerifyURL: fake.URL})
			if err != nil {
				t.Fatal(err)
			}
			want := Widget{Kind: tc.kind, FieldName: tc.field, ScriptURL: tc.script, Class: tc.class, SiteKey: "site-key"}
			if w := v.Widget(); w != want {
				t.Fatalf("Widget %+v, want %+v", w, want)
			}

			if err := v.Verify(ctx, "tok", "198.51.100.7"); err != nil {
				t.Fatalf("success refused: %v", err)
			}
			form := fake.lastForm()
			if form["secret"] != "s3cret" || form["response"] != "tok" || form["remoteip"] != "198.51.100.7" {
				t.Fatalf("form %v", form)
			}
			if _, sent := form["sitekey"]; sent != tc.sendsSiteKey || (sent && form["sitekey"] != "site-key") {
				t.Fatalf("form %v: sitekey sent %v, want %v", form, sent, tc.sendsSiteKey)
			}
			if err := v.Verify(ctx, "tok", ""); err != nil {
				t.Fatal(err)
			}
			if _, sent := fake.lastForm()["remoteip"]; sent {
				t.Fatal("remoteip sent though unknown")
			}

			// Missing and oversized tokens never reach the provider.
			calls := fake.calls()
			wantCode(t, v.Verify(ctx, "", "198.51.100.7"), mamoru.EInvalidRequest, ErrRequired)
			wantCode(t, v.Verify(ctx, strings.Repeat("x", 16<<10+1), ""), mamoru.EInvalidRequest, ErrInvalid)
			if fake.calls() != calls {
				t.Fatal("the provider was called for a missing or oversized token")
			}

			for _, c := range []struct {
				name, answer string
				status       int
				code         string
				sentinel     error
			}{
				{"wrong answer", `{"success":false,"error-codes":["invalid-input-response"]}`, 200, mamoru.EInvalidRequest, ErrInvalid},
				{"duplicate", `{"success":false,"error-codes":["timeout-or-duplicate"]}`, 200, mamoru.EInvalidRequest, ErrInvalid},
				{"no codes", `{"success":false}`, 200, mamoru.EInvalidRequest, ErrInvalid},
				{"bad secret", `{"success":false,"error-codes":["invalid-input-secret"]}`, 200, mamoru.EInternal, nil},
				{"site key mismatch", `{"success":false,"error-codes":["sitekey-secret-mismatch"]}`, 200, mamoru.EInternal, nil},
				{"provider error", `{"success":false,"error-codes":["internal-error"]}`, 200, mamoru.EUnavailable, nil},
				{"status 500", `oops`, 500, mamoru.EUnavailable, nil},
				{"status 302", ``, 302, mamoru.EUnavailable, nil},
				{"not JSON", `<html>`, 200, mamoru.EUnavailable, nil},
				{"too large", `{"success":true,"x":"` + strings.Repeat("a", MaxSiteVerifyResponseBytes) + `"}`, 200, mamoru.EUnavailable, nil},
			} {
				fake.set(c.status, c.answer)
				err := v.Verify(ctx, "tok", "")
				wantCode(t, err, c.code, c.sentinel)
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("%s: the error shows the secret: %v", c.name, err)
				}
				if c.sentinel == nil && (errors.Is(err, ErrInvalid) || errors.Is(err, ErrRequired)) {
					t.Fatalf("%s: blamed on the user: %v", c.name, err)
				}
			}
		})
	}
}

func TestSiteVerifyHostnames(t *testing.T) {
	ctx := context.Background()
	fake := newFakeSiteVerify(t)
	v, err := NewTurnstile(SiteVerifyConfig{SiteKey: "k", Secret: "s", VerifyURL: fake.URL, Hostnames: []string{"login.example.jp", "ID.Example.JP"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(ctx, "tok", ""); err != nil {
		t.Fatalf("hostname id.example.jp refused: %v", err)
	}
	fake.set(200, `{"success":true,"hostname":"evil.example"}`)
	err = v.Verify(ctx, "tok", "")
	wantCode(t, err, mamoru.EInvalidRequest, ErrInvalid)
	if !strings.Contains(err.Error(), "another host") {
		t.Fatalf("got %v", err)
	}
}

func TestSiteVerifyTimeout(t *testing.T) {
	fake := newFakeSiteVerify(t)
	fake.delay = 2 * time.Second
	v, err := NewHCaptcha(SiteVerifyConfig{SiteKey: "k", Secret: "s", VerifyURL: fake.URL, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	wantCode(t, v.Verify(context.Background(), "tok", ""), mamoru.EUnavailable, nil)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Verify took %v with a 50ms timeout", d)
	}
}

func TestSiteVerifyConfig(t *testing.T) {
	err := SiteVerifyConfig{VerifyURL: "/relative", Timeout: -1}.Validate()
	for _, want := range []string{"site key", "secret", "verify URL", "timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Validate: %v; want it to mention %q", err, want)
		}
	}
	if _, err := NewTurnstile(SiteVerifyConfig{SiteKey: "k"}); err == nil || !strings.Contains(err.Error(), "turnstile") {
		t.Fatalf("NewTurnstile without a secret: %v", err)
	}
	h, err := NewHCaptcha(SiteVerifyConfig{SiteKey: "k", Secret: "s", ScriptURL: "https://js.hcaptcha.com/1/api.js?hl=ja"})
	if err != nil {
		t.Fatal(err)
	}
	if h.sv.cfg.VerifyURL != HCaptchaVerifyURL || h.Widget().ScriptURL != "https://js.hcaptcha.com/1/api.js?hl=ja" || h.sv.cfg.Timeout != DefaultSiteVerifyTimeout {
		t.Fatalf("defaults: %+v %+v", h.sv.cfg, h.Widget())
	}
}
