package delivery_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/delivery"
	"github.com/mamoru-id/mamoru/notify"
	"github.com/mamoru-id/mamoru/webhook"
)

var (
	_ notify.Sender = (*delivery.TwilioSender)(nil)
	_ notify.Sender = (*delivery.WebhookSMSSender)(nil)
)

const (
	testSID    = "AC0123456789abcdef0123456789abcdef"
	testToken  = "tok_secret_0123456789abcdef0123"
	testSecret = "whsec_0123456789abcdef0123456789abcdef"
)

func smsMessage(to string) *mamoru.Message {
	return &mamoru.Message{
		ID: mamoru.NewID(), Channel: mamoru.ChannelSMS, To: to, Template: "phone_code",
		Text: "mamoru の確認コード: 123456 (10分間有効)", CreatedAt: time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC),
	}
}

// recorder is a test endpoint that records requests and answers with
// the function set.
type recorder struct {
	mu     sync.Mutex
	reqs   []*http.Request
	bodies [][]byte
	hits   atomic.Int32
	answer func(w http.ResponseWriter, r *http.Request)
}

func newRecorder(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) (*recorder, *httptest.Server) {
	rec := &recorder{answer: answer}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r)
		rec.bodies = append(rec.bodies, body)
		rec.mu.Unlock()
		rec.hits.Add(1)
		rec.answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return rec, srv
}

func status(code int, body string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

func newTwilio(t *testing.T, base string, mod func(*delivery.TwilioConfig)) *delivery.TwilioSender {
	cfg := delivery.TwilioConfig{BaseURL: base, AccountSID: testSID, AuthToken: testToken, From: "+15005550006", Timeout: 2 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	s, err := delivery.NewTwilioSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newWebhook(t *testing.T, url string, timeout time.Duration) *delivery.WebhookSMSSender {
	s, err := delivery.NewWebhookSMSSender(delivery.WebhookSMSConfig{URL: url, Secret: testSecret, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTwilioRequest(t *testing.T) {
	rec, srv := newRecorder(t, status(201, `{"sid":"SM0123","status":"queued"}`))
	m := smsMessage("+81 90-1234-5678")
	if err := newTwilio(t, srv.URL, nil).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r, body := rec.reqs[0], rec.bodies[0]
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+testSID+"/Messages.json" {
		t.Errorf("%s %s", r.Method, r.URL.Path)
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != testSID || pass != testToken {
		t.Errorf("basic auth %q %q %v", user, pass, ok)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", ct)
	}
	form := parseForm(t, body)
	if form.Get("To") != "+819012345678" || form.Get("From") != "+15005550006" || form.Get("Body") != m.Text || form.Has("MessagingServiceSid") {
		t.Errorf("form %v", form)
	}

	// A messaging service instead of a number.
	s := newTwilio(t, srv.URL+"/", func(c *delivery.TwilioConfig) { c.From, c.MessagingServiceSID = "", "MG0123456789abcdef" })
	if err := s.Send(context.Background(), smsMessage("+14155552671")); err != nil {
		t.Fatal(err)
	}
	form = parseForm(t, rec.bodies[1])
	if form.Get("MessagingServiceSid") != "MG0123456789abcdef" || form.Has("From") || rec.reqs[1].URL.Path != rec.reqs[0].URL.Path {
		t.Errorf("form %v, path %s", form, rec.reqs[1].URL.Path)
	}
}

func parseForm(t *testing.T, body []byte) interface {
	Get(string) string
	Has(string) bool
} {
	t.Helper()
	r, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	return r.PostForm
}

// TestSMSStatuses: 2xx sent; 4xx permanent except 408 and 429; 5xx,
// 408, 429 and 3xx temporary; the secret never in the error.
func TestSMSStatuses(t *testing.T) {
	tests := []struct {
		code      int
		body      string
		permanent bool
		contains  string
	}{
		{200, `{}`, false, ""},
		{201, `{"sid":"SM1"}`, false, ""},
		{202, ``, false, ""},
		{400, `{"code":21211,"message":"The 'To' number is not a valid phone number.","status":400}`, true, "21211"},
		{401, `{"code":20003,"message":"Authenticate"}`, true, "20003"},
		{403, `forbidden`, true, "forbidden"},
		{404, `not found`, true, "404"},
		{410, ``, true, "410"},
		{422, `bad token ` + testToken + ` and secret ` + testSecret, true, "422"},
		{408, ``, false, "408"},
		{429, `{"code":20429,"message":"Too Many Requests"}`, false, "429"},
		{500, "internal\nerror", false, "500"},
		{502, ``, false, "502"},
		{503, `unavailable`, false, "503"},
		{304, ``, false, "304"},
	}
	for _, tt := range tests {
		_, srv := newRecorder(t, status(tt.code, tt.body))
		senders := map[string]delivery.Sender{
			"twilio":  newTwilio(t, srv.URL, nil),
			"webhook": newWebhook(t, srv.URL, 2*time.Second),
		}
		for name, s := range senders {
			err := s.Send(context.Background(), smsMessage("+819012345678"))
			if tt.code < 300 {
				if err != nil {
					t.Errorf("%s %d: %v", name, tt.code, err)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s %d: no error", name, tt.code)
				continue
			}
			if delivery.IsPermanent(err) != tt.permanent || notify.Permanent(err) != tt.permanent {
				t.Errorf("%s %d: %v; permanent = %v, want %v", name, tt.code, err, delivery.IsPermanent(err), tt.permanent)
			}
			if !strings.Contains(err.Error(), tt.contains) || !strings.Contains(err.Error(), strconv.Itoa(tt.code)) {
				t.Errorf("%s %d: %q does not say %q", name, tt.code, err, tt.contains)
			}
			own := map[string]string{"twilio": testToken, "webhook": testSecret}[name]
			if strings.Contains(err.Error(), own) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s %d: error shows a secret or a newline: %q", name, tt.code, err)
			}
		}
	}
}

func TestSMSRedirectNotFollowed(t *testing.T) {
	target, targetSrv := newRecorder(t, status(200, `{}`))
	_, srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, targetSrv.URL+"/elsewhere", http.StatusTemporaryRedirect)
	})
	for name, s := range map[string]delivery.Sender{"twilio": newTwilio(t, srv.URL, nil), "webhook": newWebhook(t, srv.URL, time.Second)} {
		err := s.Send(context.Background(), smsMessage("+819012345678"))
		if err == nil || delivery.IsPermanent(err) || !strings.Contains(err.Error(), "redirect not followed") {
			t.Errorf("%s: %v; want a temporary error about the redirect", name, err)
		}
	}
	if n := target.hits.Load(); n != 0 {
		t.Errorf("redirect followed %d times", n)
	}
}

func TestSMSTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	_, srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	for name, s := range map[string]delivery.Sender{
		"twilio":  newTwilio(t, srv.URL, func(c *delivery.TwilioConfig) { c.Timeout = 300 * time.Millisecond }),
		"webhook": newWebhook(t, srv.URL, 300*time.Millisecond),
	} {
		start := time.Now()
		err := s.Send(context.Background(), smsMessage("+819012345678"))
		if d := time.Since(start); err == nil || delivery.IsPermanent(err) || d > 2*time.Second {
			t.Errorf("%s: %v after %v; want a temporary error after 300ms", name, err, d)
		}
	}
	// The caller's context counts too.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := newWebhook(t, srv.URL, time.Minute).Send(ctx, smsMessage("+819012345678")); err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("context: %v after %v", err, time.Since(start))
	}
}

// TestSMSOversizedResponse: a 10 MiB answer is not read into memory.
func TestSMSOversizedResponse(t *testing.T) {
	const size = 10 << 20
	var written atomic.Int64
	chunk := []byte(strings.Repeat("x", 32<<10))
	for _, code := range []int{200, 400, 500} {
		_, srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(size))
			w.WriteHeader(code)
			for n := 0; n < size; n += len(chunk) {
				k, err := w.Write(chunk)
				written.Add(int64(k))
				if err != nil {
					return
				}
			}
		})
		for name, s := range map[string]delivery.Sender{"twilio": newTwilio(t, srv.URL, nil), "webhook": newWebhook(t, srv.URL, 5*time.Second)} {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			err := s.Send(context.Background(), smsMessage("+819012345678"))
			runtime.ReadMemStats(&after)
			if (code == 200) != (err == nil) {
				t.Errorf("%s %d: %v", name, code, err)
			}
			if err != nil && len(err.Error()) > 1000 {
				t.Errorf("%s %d: error of %d bytes", name, code, len(err.Error()))
			}
			// The body is capped at 64 KiB; allocations of the whole
			// exchange (server side included) stay far below 10 MiB.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
				t.Errorf("%s %d: %d bytes allocated for a 10 MiB answer", name, code, alloc)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("%s %d: took %v", name, code, d)
			}
		}
	}
}

// TestSMSInvalidPhone: no request for a number that is not valid.
func TestSMSInvalidPhone(t *testing.T) {
	rec, srv := newRecorder(t, status(201, `{}`))
	for name, s := range map[string]delivery.Sender{"twilio": newTwilio(t, srv.URL, nil), "webhook": newWebhook(t, srv.URL, time.Second)} {
		for _, to := range []string{"", "090-1234-5678", "+81 3 1234 5678", "+1 800 555 0199", "+0123", "abc", "+81901234\n5678", "+8190123456789012345"} {
			err := s.Send(context.Background(), smsMessage(to))
			if !delivery.IsPermanent(err) {
				t.Errorf("%s %q: %v; want permanent", name, to, err)
			}
		}
		m := smsMessage("+819012345678")
		m.Text = ""
		if err := s.Send(context.Background(), m); !delivery.IsPermanent(err) {
			t.Errorf("%s: empty body: %v; want permanent", name, err)
		}
	}
	if n := rec.hits.Load(); n != 0 {
		t.Errorf("%d requests for invalid messages", n)
	}
}

func TestSMSNetworkErrorHidesURLSecrets(t *testing.T) {
	_, srv := newRecorder(t, status(200, `{}`))
	url := srv.URL
	srv.Close() // connection refused from now on
	s := newWebhook(t, url+"/sms?key=query-secret-value", time.Second)
	err := s.Send(context.Background(), smsMessage("+819012345678"))
	if err == nil || delivery.IsPermanent(err) {
		t.Fatalf("refused: %v; want temporary", err)
	}
	if strings.Contains(err.Error(), "query-secret-value") {
		t.Errorf("error shows the URL's query: %v", err)
	}
	tw := newTwilio(t, url, nil)
	if err := tw.Send(context.Background(), smsMessage("+819012345678")); err == nil || delivery.IsPermanent(err) || strings.Contains(err.Error(), testToken) {
		t.Errorf("twilio refused: %v", err)
	}
}

func TestWebhookSMSRequest(t *testing.T) {
	rec, srv := newRecorder(t, status(204, ``))
	s := newWebhook(t, srv.URL+"/sms", time.Second)
	m := smsMessage("090-1234-5678")
	m.To = "+819012345678"
	before := time.Now().Unix()
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r, body := rec.reqs[0], rec.bodies[0]
	if r.Method != http.MethodPost || r.URL.Path != "/sms" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	if r.Header.Get("Idempotency-Key") != m.ID {
		t.Errorf("Idempotency-Key %q", r.Header.Get("Idempotency-Key"))
	}
	var got map[string]string
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"id": m.ID, "to": "+819012345678", "body": m.Text, "created_at": "2026-11-21T09:30:00Z"}
	if len(got) != len(want) {
		t.Errorf("body %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q; want %q", k, got[k], v)
		}
	}
	// The signature, checked by hand as a receiver in another language would.
	sig := r.Header.Get("Mamoru-Signature")
	ts, v1, ok := strings.Cut(sig, ",v1=")
	ts = strings.TrimPrefix(ts, "t=")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || sec < before || sec > time.Now().Unix() {
		t.Fatalf("Mamoru-Signature %q", sig)
	}
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte(ts + "." + string(body)))
	if v1 != hex.EncodeToString(mac.Sum(nil)) {
		t.Errorf("v1 %s is not HMAC-SHA256(secret, t.body)", v1)
	}
	if err := webhook.Verify([]byte(testSecret), sig, body, time.Now(), 5*time.Minute); err != nil {
		t.Errorf("webhook.Verify: %v", err)
	}
	// A retry carries the same idempotency key.
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if rec.reqs[1].Header.Get("Idempotency-Key") != m.ID {
		t.Errorf("retry Idempotency-Key %q", rec.reqs[1].Header.Get("Idempotency-Key"))
	}
}

// TestWebhookSignature: the SMS webhook signs as mamoru's webhooks do.
func TestWebhookSignature(t *testing.T) {
	body := []byte(`{"id":"x","to":"+819012345678","body":"123456","created_at":"2026-11-21T09:30:00Z"}`)
	now := time.Unix(1_800_000_000, 0)
	sig := webhook.SignatureHeader([]byte(testSecret), now, body)
	if sig != "t=1800000000,v1="+hexMAC(testSecret, "1800000000."+string(body)) {
		t.Fatalf("SignatureHeader = %q", sig)
	}
	ok := func(secret, header string, body []byte, at time.Time) bool {
		return webhook.Verify([]byte(secret), header, body, at, 5*time.Minute) == nil
	}
	if !ok(testSecret, sig, body, now) || !ok(testSecret, sig, body, now.Add(4*time.Minute)) || !ok(testSecret, sig, body, now.Add(-4*time.Minute)) {
		t.Error("a good signature is refused")
	}
	// Secret rotation: several v1 values, one matches.
	if !ok(testSecret, "t=1800000000,v1=00ff,v1="+hexMAC(testSecret, "1800000000."+string(body)), body, now) {
		t.Error("a good second v1 is refused")
	}
	tampered := append([]byte{}, body...)
	tampered[10] ^= 1
	for name, bad := range map[string]bool{
		"wrong secret":  ok("another-secret-0123456789abcdef0123", sig, body, now),
		"tampered body": ok(testSecret, sig, tampered, now),
		"too old":       ok(testSecret, sig, body, now.Add(6*time.Minute)),
		"from future":   ok(testSecret, sig, body, now.Add(-6*time.Minute)),
		"no v1":         ok(testSecret, "t=1800000000", body, now),
		"no t":          ok(testSecret, strings.Split(sig, ",")[1], body, now),
		"other t":       ok(testSecret, strings.Replace(sig, "t=1800000000", "t=1800000001", 1), body, now),
		"empty":         ok(testSecret, "", body, now),
		"garbage":       ok(testSecret, "t=x,v1=zz", body, now),
	} {
		if bad {
			t.Errorf("%s: accepted", name)
		}
	}
}

func hexMAC(secret, msg string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(msg))
	return hex.EncodeToString(mac.Sum(nil))
}

func TestSMSConfigValidate(t *testing.T) {
	goodTwilio := []delivery.TwilioConfig{
		{AccountSID: testSID, AuthToken: testToken, From: "+15005550006"},
		{AccountSID: testSID, AuthToken: testToken, From: "MAMORU"},
		{AccountSID: testSID, AuthToken: testToken, From: "12345"},
		{AccountSID: testSID, AuthToken: testToken, MessagingServiceSID: "MG0123"},
		{BaseURL: "https://sms-gateway.example.com/twilio/", AccountSID: testSID, AuthToken: testToken, From: "+15005550006"},
		{BaseURL: "http://127.0.0.1:8080", AccountSID: testSID, AuthToken: testToken, From: "+15005550006", Timeout: time.Second},
	}
	for _, c := range goodTwilio {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	badTwilio := []struct {
		cfg  delivery.TwilioConfig
		want []string
	}{
		{delivery.TwilioConfig{}, []string{"account_sid", "auth_token", "from"}},
		{delivery.TwilioConfig{BaseURL: "http://api.example.com", AccountSID: testSID, AuthToken: testToken, From: "+15005550006"}, []string{"base_url", "https"}},
		{delivery.TwilioConfig{BaseURL: "ftp://x", AccountSID: "AC/../x", AuthToken: "a\nb", From: "+15005550006", MessagingServiceSID: "MG1", Timeout: -1},
			[]string{"base_url", "account_sid", "auth_token", "not both", "timeout"}},
		{delivery.TwilioConfig{AccountSID: testSID, AuthToken: testToken, From: "TOO LONG SENDER"}, []string{"from"}},
		{delivery.TwilioConfig{AccountSID: testSID, AuthToken: testToken, From: "+0123456789"}, []string{"from"}},
		{delivery.TwilioConfig{AccountSID: testSID, AuthToken: testToken, MessagingServiceSID: "MG-1"}, []string{"messaging_service_sid"}},
	}
	for _, tt := range badTwilio {
		err := tt.cfg.Validate()
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: %v; want it to mention %q", tt.cfg, err, w)
			}
		}
		if err != nil && strings.Contains(err.Error(), testToken) {
			t.Errorf("error shows the token: %v", err)
		}
		if _, nerr := delivery.NewTwilioSender(tt.cfg); nerr == nil {
			t.Errorf("NewTwilioSender accepted %+v", tt.cfg)
		}
	}

	if err := (delivery.WebhookSMSConfig{URL: "https://sms.example.com/send", Secret: testSecret}).Validate(); err != nil {
		t.Error(err)
	}
	if err := (delivery.WebhookSMSConfig{URL: "http://localhost:9000/send", Secret: testSecret}).Validate(); err != nil {
		t.Error(err)
	}
	badHook := []struct {
		cfg  delivery.WebhookSMSConfig
		want []string
	}{
		{delivery.WebhookSMSConfig{}, []string{"url: required", "secret"}},
		{delivery.WebhookSMSConfig{URL: "http://sms.example.com/send", Secret: "short", Timeout: -1}, []string{"url:", "https", "secret", "timeout"}},
		{delivery.WebhookSMSConfig{URL: "/relative", Secret: testSecret}, []string{"url:"}},
		{delivery.WebhookSMSConfig{URL: "https://sms.example.com/#x", Secret: testSecret}, []string{"fragment"}},
	}
	for _, tt := range badHook {
		err := tt.cfg.Validate()
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: %v; want it to mention %q", tt.cfg, err, w)
			}
		}
		if _, nerr := delivery.NewWebhookSMSSender(tt.cfg); nerr == nil {
			t.Errorf("NewWebhookSMSSender accepted %+v", tt.cfg)
		}
	}

	// SMSConfig picks one.
	if err := (delivery.SMSConfig{}).Validate(); err != nil {
		t.Error(err)
	}
	if s, err := delivery.NewSMSSender(delivery.SMSConfig{}); s != nil || err != nil {
		t.Errorf("no provider: %v, %v", s, err)
	}
	if err := (delivery.SMSConfig{Provider: "carrier-pigeon"}).Validate(); err == nil {
		t.Error("unknown provider accepted")
	}
	err := (delivery.SMSConfig{Provider: "twilio"}).Validate()
	if err == nil || !strings.Contains(err.Error(), "twilio.account_sid") {
		t.Errorf("twilio provider: %v", err)
	}
	s, err := delivery.NewSMSSender(delivery.SMSConfig{Provider: "webhook", Webhook: delivery.WebhookSMSConfig{URL: "https://sms.example.com", Secret: testSecret}})
	if _, ok := s.(*delivery.WebhookSMSSender); !ok || err != nil {
		t.Errorf("webhook provider: %T, %v", s, err)
	}
}
