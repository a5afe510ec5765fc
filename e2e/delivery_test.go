package e2e

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru/internal/smtpd"
)

// smtpEnv points the server at the test SMTP server: STARTTLS, AUTH, its
// self-signed certificate trusted as a CA, and quick retries.
func smtpEnv(t *testing.T, srv *smtpd.Server, extra ...string) []string {
	return append([]string{
		"MAMORU_SMTP_HOST=" + srv.Host,
		"MAMORU_SMTP_PORT=" + strconv.Itoa(srv.Port),
		"MAMORU_SMTP_SECURITY=starttls",
		"MAMORU_SMTP_USERNAME=" + srv.Username,
		"MAMORU_SMTP_PASSWORD=" + srv.Password,
		"MAMORU_SMTP_FROM=mamoru <no-reply@id.example.com>",
		"MAMORU_SMTP_CA_FILE=" + srv.CAFile(t),
		"MAMORU_SMTP_TIMEOUT=5s",
		"MAMORU_OUTBOX_BASE_BACKOFF=200ms",
		"MAMORU_OUTBOX_MAX_BACKOFF=400ms",
	}, extra...)
}

var verifyLinkRe = regexp.MustCompile(`(http://127\.0\.0\.1:\d+)(/verify/link\?token=[A-Za-z0-9_\-]+)`)

// TestMailThroughRealSMTPServer: a sign-up's verification mail goes through
// Exim (STARTTLS, AUTH) into a maildir; the test reads it there and follows
// its link in a browser without JavaScript.
func TestMailThroughRealSMTPServer(t *testing.T) {
	t.Parallel()
	mx := smtpd.Start(t)
	s := start(t, sqliteDB(t), smtpEnv(t, mx)...)
	c := newClient(t, s)
	const addr = "ichiro@example.com"
	if r := c.do("POST", "/api/v1/signup", map[string]any{"email": addr, "password": "nara-deer-park-4567", "language": "ja"}); r.Status != 202 {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	got := mx.WaitMessages(t, 1, 30*time.Second)[0]
	if got.Subject != "メールアドレスの確認" && !strings.Contains(got.Subject, "確認") {
		t.Errorf("subject %q", got.Subject)
	}
	if to := got.Header.Get("To"); !strings.Contains(to, addr) {
		t.Errorf("To: %q", to)
	}
	if id := got.Header.Get("Message-Id"); !strings.HasSuffix(id, "@id.example.com>") {
		t.Errorf("Message-ID %q not stable on the sender's domain", id)
	}
	if got.Text == "" || got.HTML == "" {
		t.Fatalf("want text and HTML parts, got %d parts", len(got.Parts))
	}
	m := verifyLinkRe.FindStringSubmatch(got.Text)
	if m == nil || m[1] != s.URL {
		t.Fatalf("no verification link on the base URL in:\n%s", got.Text)
	}
	if !strings.Contains(got.HTML, m[2]) && !strings.Contains(got.HTML, strings.ReplaceAll(m[2], "&", "&amp;")) {
		t.Errorf("the HTML part lacks the link")
	}
	_, form := c.page(m[2])
	form.Set("token", strings.TrimPrefix(m[2], "/verify/link?token="))
	if r := c.submit("/verify/link", form); r.Status >= 400 {
		t.Fatalf("following the link: %d %s", r.Status, r.Body)
	}
	if r := c.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": "nara-deer-park-4567"}); r.Status != 200 {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
}

// TestCrashBeforeDeliveryDeliversOnce: the mail server is down when a
// message is committed; the server is killed with SIGKILL before it could
// deliver; after the mail server and then mamoru restart, the message
// arrives exactly once.
func TestCrashBeforeDeliveryDeliversOnce(t *testing.T) {
	t.Parallel()
	mx := smtpd.Start(t)
	mx.Stop()
	dbPath := filepath.Join(t.TempDir(), "mamoru.db")
	db := database{name: "sqlite", args: []string{"--db", dbPath}}
	env := smtpEnv(t, mx, "MAMORU_OUTBOX_MAX_ATTEMPTS=1000", "MAMORU_OUTBOX_CLAIM_TTL=1s")
	s := start(t, db, env...)
	c := newClient(t, s)
	if r := c.do("POST", "/api/v1/password/forgot", map[string]any{"email": "nobody@example.com"}); r.Status != 202 {
		t.Fatal(r.Status)
	}
	if r := c.do("POST", "/api/v1/signup", map[string]any{"email": "crash@example.com", "password": "miyajima-torii-gate", "language": "en"}); r.Status != 202 {
		t.Fatal(r.Status)
	}
	// Let a few deliveries fail, then kill.
	waitFor(t, "a failed delivery", func() bool {
		out := mamoru(t, "", "outbox", "list", "--db", dbPath)
		return regexp.MustCompile(`verify_email .* [1-9]\d*\s+pending`).MatchString(out)
	})
	s.cmd.Process.Kill()
	<-s.done
	s.done <- nil

	mx.Restart(t)
	start(t, db, env...)
	got := mx.WaitMessages(t, 1, 30*time.Second)
	time.Sleep(3 * time.Second) // a second delivery would have happened by now
	if n := mx.Count(); n != 1 {
		t.Fatalf("%d messages delivered, want exactly 1", n)
	}
	if !strings.Contains(got[0].Header.Get("To"), "crash@example.com") {
		t.Fatalf("delivered to %q", got[0].Header.Get("To"))
	}
}

// TestDeadMailServer: with the mail server down, what the user sees does
// not change (same status and body as with it up); the message is retried
// and then parked, and operators see it with its last error.
func TestDeadMailServer(t *testing.T) {
	t.Parallel()
	mx := smtpd.Start(t)
	dbPath := filepath.Join(t.TempDir(), "mamoru.db")
	db := database{name: "sqlite", args: []string{"--db", dbPath}}
	s := start(t, db, smtpEnv(t, mx, "MAMORU_OUTBOX_MAX_ATTEMPTS=3")...)
	c := newClient(t, s)
	up := c.do("POST", "/api/v1/signup", map[string]any{"email": "alive@example.com", "password": "kinkakuji-golden-1397", "language": "en"})
	mx.WaitMessages(t, 1, 30*time.Second)
	mx.Stop()
	down := c.do("POST", "/api/v1/signup", map[string]any{"email": "dead@example.com", "password": "kinkakuji-golden-1397", "language": "en"})
	if up.Status != down.Status || string(up.Body) != string(down.Body) {
		t.Fatalf("the answer changed with the mail server down: %d %s vs %d %s", up.Status, up.Body, down.Status, down.Body)
	}
	waitFor(t, "the message to be parked", func() bool {
		out := mamoru(t, "", "outbox", "list", "--parked", "--db", dbPath)
		return strings.Contains(out, "verify_email") && strings.Contains(out, "d***@example.com")
	})
	out := mamoru(t, "", "outbox", "list", "--parked", "--db", dbPath)
	if !strings.Contains(out, "3") || !strings.Contains(strings.ToLower(out), "connect") && !strings.Contains(strings.ToLower(out), "refused") && !strings.Contains(strings.ToLower(out), "dial") {
		t.Errorf("parked message without its attempts or last error:\n%s", out)
	}
	if strings.Contains(out, "dead@example.com") {
		t.Errorf("the operator's list shows a full address:\n%s", out)
	}
}

// waitFor polls cond for up to 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestDeadSMSGateway: with the SMS gateway down, adding a phone number
// answers as it does with the gateway up; the code's SMS is retried, then
// parked.
func TestDeadSMSGateway(t *testing.T) {
	t.Parallel()
	var got atomic.Int32
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	dbPath := filepath.Join(t.TempDir(), "mamoru.db")
	db := database{name: "sqlite", args: []string{"--db", dbPath}}
	s := start(t, db, "MAMORU_SMS_PROVIDER=webhook", "MAMORU_SMS_WEBHOOK_URL="+gw.URL,
		"MAMORU_SMS_WEBHOOK_SECRET=0123456789abcdef0123456789abcdef", "MAMORU_SMS_WEBHOOK_TIMEOUT=1s",
		"MAMORU_OUTBOX_MAX_ATTEMPTS=3", "MAMORU_OUTBOX_BASE_BACKOFF=200ms", "MAMORU_OUTBOX_MAX_BACKOFF=400ms")
	c := newClient(t, s)
	const addr, pw = "sms@example.com", "todaiji-great-buddha-752"
	c.do("POST", "/api/v1/signup", map[string]any{"email": addr, "password": pw, "language": "ja"})
	c.do("POST", "/api/v1/verify", map[string]any{"email": addr, "code": code(t, c.mail(addr, nil, "確認"))})
	if r := c.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw}); r.Status != 200 {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	if r := c.do("POST", "/api/v1/account/phone", map[string]any{"phone": "abc", "password": pw}); r.Status != 400 || !strings.Contains(string(r.Body), "invalid_phone") {
		t.Fatalf("invalid phone: %d %s", r.Status, r.Body)
	}
	up := c.do("POST", "/api/v1/account/phone", map[string]any{"phone": "090-1234-5678", "password": pw})
	waitFor(t, "the gateway to get the SMS", func() bool { return got.Load() == 1 })
	gw.Close()
	down := c.do("POST", "/api/v1/account/phone", map[string]any{"phone": "090-1234-5678", "password": pw})
	if up.Status != 202 || up.Status != down.Status || string(up.Body) != string(down.Body) {
		t.Fatalf("the answer changed with the gateway down: %d %s vs %d %s", up.Status, up.Body, down.Status, down.Body)
	}
	waitFor(t, "the SMS to be parked", func() bool {
		return strings.Contains(mamoru(t, "", "outbox", "list", "--parked", "--channel", "sms", "--db", dbPath), "phone_code")
	})
	if out := mamoru(t, "", "outbox", "list", "--parked", "--db", dbPath); strings.Contains(out, "9012345678") {
		t.Errorf("the operator's list shows the full number:\n%s", out)
	}
}

// TestTwoInstancesDeliverOnce: two servers on one PostgreSQL database
// share the outbox; every message is delivered exactly once.
func TestTwoInstancesDeliverOnce(t *testing.T) {
	t.Parallel()
	mx := smtpd.Start(t)
	db := postgresDB(t)
	env := smtpEnv(t, mx, "MAMORU_OUTBOX_BATCH=3")
	a, b := start(t, db, env...), start(t, db, env...)
	ca, cb := newClient(t, a), newClient(t, b)
	const n = 24
	for i := range n {
		c := ca
		if i%2 == 1 {
			c = cb
		}
		addr := "user" + strconv.Itoa(i) + "@example.com"
		if r := c.do("POST", "/api/v1/signup", map[string]any{"email": addr, "password": "shirakawa-go-village", "language": "en"}); r.Status != 202 {
			t.Fatalf("signup %d: %d %s", i, r.Status, r.Body)
		}
	}
	mx.WaitMessages(t, n, 60*time.Second)
	time.Sleep(2 * time.Second)
	got := mx.Messages(t)
	ids := map[string]bool{}
	for _, m := range got {
		ids[m.Header.Get("Message-Id")] = true
	}
	if len(got) != n || len(ids) != n {
		t.Fatalf("%d messages with %d distinct Message-IDs delivered, want %d of each", len(got), len(ids), n)
	}
}
