package delivery_test

import (
	"context"
	"errors"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/delivery"
	"github.com/mamoru-id/mamoru/internal/smtpd"
	"github.com/mamoru-id/mamoru/notify"
)

var _ notify.Sender = (*delivery.SMTPSender)(nil)

// smtpConfig returns a configuration for the test server: STARTTLS, AUTH,
// the server's certificate as the only CA.
func smtpConfig(t testing.TB, s *smtpd.Server) delivery.SMTPConfig {
	return delivery.SMTPConfig{
		Host:     s.Host,
		Port:     s.Port,
		Security: delivery.SecurityStartTLS,
		Username: s.Username,
		Password: s.Password,
		From:     "mamoru <no-reply@mamoru.example>",
		HeloName: "mamoru-test.example",
		Timeout:  10 * time.Second,
		CAFile:   s.CAFile(t),
	}
}

func newSMTP(t testing.TB, cfg delivery.SMTPConfig) *delivery.SMTPSender {
	t.Helper()
	snd, err := delivery.NewSMTPSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return snd
}

// A link longer than a quoted-printable line (76), with "=" and "&", so
// that soft line breaks and =3D escapes must be undone exactly.
const longLink = "https://id.mamoru.example/reset?token=Zm9vYmFyYmF6cXV4LWxvbmctdG9rZW4tdmFsdWUtdGhhdC1uZWVkcy13cmFwcGluZw&lang=ja&next=%2Faccount%2Fsecurity"

func testMessage(to string) *mamoru.Message {
	return &mamoru.Message{
		ID:        mamoru.NewID(),
		Channel:   mamoru.ChannelEmail,
		To:        to,
		Template:  "password_reset",
		Language:  "ja",
		Subject:   "パスワードの再設定 / Reset your password",
		Text:      "パスワードを再設定するには、次のリンクを開いてください。\nTo reset your password, open this link:\n\n" + longLink + "\n\n.\n.hidden dot line\nmamoru\n",
		HTML:      `<p>パスワードを再設定するには、次のリンクを開いてください。</p><p>To reset your password, open this link:</p><p><a href="` + strings.ReplaceAll(longLink, "&", "&amp;") + `">再設定 / Reset</a></p>`,
		CreatedAt: time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC),
	}
}

func TestSMTPEndToEnd(t *testing.T) {
	s := smtpd.Start(t)
	snd := newSMTP(t, smtpConfig(t, s))
	m := testMessage("taro@example.jp")
	if err := snd.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v\n%s", err, s.Log())
	}
	got := s.WaitMessages(t, 1, 10*time.Second)
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	d := got[0]
	checkDelivered(t, d, m)
	// Received proves that the message came over TLS with AUTH.
	if rcv := strings.Join(d.Header["Received"], "\n"); !strings.Contains(rcv, "esmtpsa") || !strings.Contains(rcv, "TLS1.") {
		t.Errorf("Received: %s", rcv)
	}
	if !strings.Contains(s.Log(), "A=plain:"+s.Username) && !strings.Contains(s.Log(), "A=login:"+s.Username) {
		t.Errorf("no AUTH in the server log:\n%s", s.Log())
	}
}

// checkDelivered checks a delivered copy of m.
func checkDelivered(t *testing.T, d smtpd.Delivered, m *mamoru.Message) {
	t.Helper()
	if d.Subject != m.Subject {
		t.Errorf("Subject %q; want %q", d.Subject, m.Subject)
	}
	if raw := d.Header.Get("Subject"); !strings.HasPrefix(raw, "=?UTF-8?") && !strings.HasPrefix(raw, "=?utf-8?") {
		t.Errorf("raw Subject %q is not RFC 2047 encoded", raw)
	}
	from, err := mail.ParseAddress(d.Header.Get("From"))
	if err != nil || from.Address != "no-reply@mamoru.example" || from.Name != "mamoru" {
		t.Errorf("From %q: %v", d.Header.Get("From"), err)
	}
	to, err := mail.ParseAddress(d.Header.Get("To"))
	if err != nil || to.Address != m.To {
		t.Errorf("To %q: %v", d.Header.Get("To"), err)
	}
	if got, want := d.Header.Get("Message-Id"), "<"+m.ID+"@mamoru.example>"; got != want {
		t.Errorf("Message-ID %q; want %q", got, want)
	}
	if date, err := d.Header.Date(); err != nil || !date.Equal(m.CreatedAt) {
		t.Errorf("Date %q: %v", d.Header.Get("Date"), err)
	}
	if got := d.Header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted %q", got)
	}
	if ct := d.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type %q", ct)
	}
	if len(d.Parts) != 2 || d.Parts[0].ContentType != "text/plain" || d.Parts[1].ContentType != "text/html" {
		t.Fatalf("parts %+v", d.Parts)
	}
	for _, p := range d.Parts {
		if !strings.EqualFold(p.Params["charset"], "utf-8") {
			t.Errorf("%s charset %q", p.ContentType, p.Params["charset"])
		}
	}
	wantText := strings.ReplaceAll(m.Text, "\n", "\r\n")
	if d.Text != wantText {
		t.Errorf("text:\n%q\nwant\n%q", d.Text, wantText)
	}
	if d.HTML != m.HTML {
		t.Errorf("HTML:\n%q\nwant\n%q", d.HTML, m.HTML)
	}
	if !strings.Contains(d.Text, longLink+"\r\n") || !strings.Contains(d.HTML, strings.ReplaceAll(longLink, "&", "&amp;")) {
		t.Errorf("the link did not survive")
	}
	// Every line on the wire fits SMTP's limit of 998 octets.
	for _, line := range strings.Split(string(d.Raw), "\n") {
		if len(line) > 998 {
			t.Errorf("line of %d octets", len(line))
		}
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	s := smtpd.Start(t)
	cfg := smtpConfig(t, s)
	cfg.Security, cfg.Port = delivery.SecurityTLS, s.TLSPort
	m := testMessage("hanako@example.jp")
	if err := newSMTP(t, cfg).Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v\n%s", err, s.Log())
	}
	checkDelivered(t, s.WaitMessages(t, 1, 10*time.Second)[0], m)
}

// TestSMTPRetrySameMessageID: a retry carries the Message-ID of the first
// attempt, so that a receiver can drop the duplicate.
func TestSMTPRetrySameMessageID(t *testing.T) {
	s := smtpd.Start(t)
	snd := newSMTP(t, smtpConfig(t, s))
	m := testMessage("taro@example.jp")
	for i := 0; i < 2; i++ {
		if err := snd.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	got := s.WaitMessages(t, 2, 10*time.Second)
	if a, b := got[0].Header.Get("Message-Id"), got[1].Header.Get("Message-Id"); a != b || a != "<"+m.ID+"@mamoru.example>" {
		t.Fatalf("Message-IDs %q and %q", a, b)
	}
}

func TestSMTPWrongPassword(t *testing.T) {
	s := smtpd.Start(t)
	cfg := smtpConfig(t, s)
	cfg.Password = "wrong-password-1234"
	err := newSMTP(t, cfg).Send(context.Background(), testMessage("taro@example.jp"))
	if err == nil {
		t.Fatal("sent with a wrong password")
	}
	// A wrong password is the configuration's fault, not the message's:
	// temporary, so that fixing the password delivers the backlog.
	if delivery.IsPermanent(err) || notify.Permanent(err) {
		t.Errorf("wrong password is permanent: %v", err)
	}
	if !strings.Contains(err.Error(), "535") {
		t.Errorf("error %q does not show the server's 535", err)
	}
	if strings.Contains(err.Error(), cfg.Password) {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestSMTPUntrustedCertificate(t *testing.T) {
	s := smtpd.Start(t)
	cfg := smtpConfig(t, s)
	cfg.CAFile = "" // the system's CAs do not know the test certificate
	err := newSMTP(t, cfg).Send(context.Background(), testMessage("taro@example.jp"))
	if err == nil || delivery.IsPermanent(err) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v; want a temporary certificate error", err)
	}
	cfg.InsecureSkipVerify = true // loopback only
	if err := newSMTP(t, cfg).Send(context.Background(), testMessage("taro@example.jp")); err != nil {
		t.Fatalf("InsecureSkipVerify: %v", err)
	}
}

func TestSMTPRecipientRefused(t *testing.T) {
	s := smtpd.Start(t)
	snd := newSMTP(t, smtpConfig(t, s))
	err := snd.Send(context.Background(), testMessage("reject-me@example.jp"))
	if !errors.Is(err, delivery.ErrPermanent) || !notify.Permanent(err) || !strings.Contains(err.Error(), "550") {
		t.Errorf("550: %v; want permanent", err)
	}
	err = snd.Send(context.Background(), testMessage("tempfail@example.jp"))
	if err == nil || delivery.IsPermanent(err) || !strings.Contains(err.Error(), "451") {
		t.Errorf("451: %v; want temporary", err)
	}
	if n := s.Count(); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}

func TestSMTPInvalidRecipient(t *testing.T) {
	snd := newSMTP(t, delivery.SMTPConfig{Host: "127.0.0.1", Port: 1, Security: delivery.SecurityNone, From: "x@mamoru.example"})
	for _, to := range []string{
		"", "taro", "taro@", "@example.jp", "a@example.jp, b@example.jp", "a@example.jp\r\nBcc: b@example.jp",
		"a\n@example.jp", "\"a b\"@example.jp", "たろう@example.jp", "a@example.jp>", "<a@example.jp", "Taro <a@example.jp",
		strings.Repeat("a", 250) + "@example.jp",
	} {
		m := testMessage(to)
		err := snd.Send(context.Background(), m)
		if !delivery.IsPermanent(err) || !strings.Contains(err.Error(), "recipient") {
			t.Errorf("To %q: %v; want a permanent recipient error", to, err)
		}
	}
}

func TestSMTPDeadServer(t *testing.T) {
	s := smtpd.Start(t)
	cfg := smtpConfig(t, s)
	snd := newSMTP(t, cfg)
	if err := snd.Send(context.Background(), testMessage("taro@example.jp")); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	start := time.Now()
	err := snd.Send(context.Background(), testMessage("taro@example.jp"))
	if err == nil || delivery.IsPermanent(err) {
		t.Fatalf("dead server: %v; want a temporary error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v to notice a refused connection", d)
	}
}

// TestSMTPTimeout: a server that accepts connections and says nothing.
func TestSMTPTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	snd := newSMTP(t, delivery.SMTPConfig{Host: "127.0.0.1", Port: port, From: "x@mamoru.example", Timeout: 500 * time.Millisecond})
	start := time.Now()
	err = snd.Send(context.Background(), testMessage("taro@example.jp"))
	if d := time.Since(start); err == nil || delivery.IsPermanent(err) || d > 3*time.Second || d < 400*time.Millisecond {
		t.Errorf("silent server: %v after %v; want a temporary error after the 500ms timeout", err, d)
	}
	// The context's deadline cuts a longer timeout short.
	snd = newSMTP(t, delivery.SMTPConfig{Host: "127.0.0.1", Port: port, From: "x@mamoru.example", Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	err = snd.Send(ctx, testMessage("taro@example.jp"))
	if d := time.Since(start); err == nil || delivery.IsPermanent(err) || d > 3*time.Second {
		t.Errorf("context deadline: %v after %v", err, d)
	}
}

func TestSMTPBatch(t *testing.T) {
	s := smtpd.Start(t)
	snd := newSMTP(t, smtpConfig(t, s))
	ms := []*mamoru.Message{
		testMessage("a@example.jp"),
		testMessage("reject-b@example.jp"),
		testMessage("not an address"),
		testMessage("tempfail-c@example.jp"),
		testMessage("d@example.jp"),
	}
	errs := snd.SendBatch(context.Background(), ms)
	if len(errs) != len(ms) {
		t.Fatalf("%d errors for %d messages", len(errs), len(ms))
	}
	if errs[0] != nil || errs[4] != nil {
		t.Errorf("good messages: %v, %v", errs[0], errs[4])
	}
	if !delivery.IsPermanent(errs[1]) || !delivery.IsPermanent(errs[2]) {
		t.Errorf("refused and invalid: %v, %v; want permanent", errs[1], errs[2])
	}
	if errs[3] == nil || delivery.IsPermanent(errs[3]) {
		t.Errorf("tempfail: %v; want temporary", errs[3])
	}
	got := s.WaitMessages(t, 2, 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	if n := s.Count(); n != 2 {
		t.Fatalf("%d messages delivered; want 2", n)
	}
	ids := map[string]bool{}
	for _, d := range got {
		ids[d.Header.Get("Message-Id")] = true
	}
	if !ids["<"+ms[0].ID+"@mamoru.example>"] || !ids["<"+ms[4].ID+"@mamoru.example>"] {
		t.Errorf("delivered %v", ids)
	}
	// One connection for the batch.
	if n := strings.Count(s.Log(), "closed by QUIT"); n != 1 {
		t.Errorf("%d connections closed by QUIT; want 1\n%s", n, s.Log())
	}

	// A dead server fails every message of a batch, temporarily.
	s.Stop()
	for i, err := range snd.SendBatch(context.Background(), ms) {
		if err == nil || (i != 1 && i != 2 && delivery.IsPermanent(err)) {
			t.Errorf("dead server, message %d: %v", i, err)
		}
	}
}

func TestSMTPConfigValidate(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, []byte("not a certificate"), 0o644)
	good := delivery.SMTPConfig{Host: "smtp.example.com", From: "mamoru <no-reply@example.com>"}
	if err := good.Validate(); err != nil {
		t.Fatalf("good: %v", err)
	}
	for _, ok := range []delivery.SMTPConfig{
		{Host: "smtp.example.com", Port: 465, Security: "tls", Username: "u", Password: "p", From: "no-reply@example.com", Timeout: time.Second},
		{Host: "127.0.0.1", Port: 2525, Security: "none", From: "no-reply@example.com", InsecureSkipVerify: true},
		{Host: "localhost", Security: "none", From: "\"mamoru ID\" <no-reply@example.com>", HeloName: "[192.0.2.1]"},
		{Host: "::1", Security: "none", From: "=?UTF-8?B?44G+44KC44KL?= <no-reply@example.com>"},
	} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	tests := []struct {
		cfg  delivery.SMTPConfig
		want []string // every one must be reported
	}{
		{delivery.SMTPConfig{}, []string{"host: required", "from: required"}},
		{delivery.SMTPConfig{Host: "smtp.example.com", Security: "none", From: "a@example.com"}, []string{"security: none"}},
		{delivery.SMTPConfig{Host: "smtp.example.com", Security: "ssl", From: "a@example.com"}, []string{"security: \"ssl\""}},
		{delivery.SMTPConfig{Host: "smtp.example.com", InsecureSkipVerify: true, From: "a@example.com"}, []string{"insecure_skip_verify"}},
		{delivery.SMTPConfig{Host: "smtp example.com", Port: 70000, From: "a@example.com", Username: "u", Timeout: -1, CAFile: ca, HeloName: "a b"},
			[]string{"host:", "port:", "username:", "timeout:", "ca_file:", "helo_name:"}},
		{delivery.SMTPConfig{Host: "smtp.example.com", From: "a@example.com, b@example.com"}, []string{"from:"}},
		{delivery.SMTPConfig{Host: "smtp.example.com", From: "mamoru\r\nBcc: x@example.com <a@example.com>"}, []string{"from:"}},
		{delivery.SMTPConfig{Host: "smtp.example.com", From: "a@[127.0.0.1]"}, []string{"from:"}},
		{delivery.SMTPConfig{Host: "unix:///var/run/smtp.sock", From: "a@example.com"}, []string{"host:"}},
		{delivery.SMTPConfig{Host: "smtp.example.com", From: "a@example.com", CAFile: "/nonexistent/ca.pem"}, []string{"ca_file:"}},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if err == nil {
			t.Errorf("%+v: valid", tt.cfg)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: %v; want it to mention %q", tt.cfg, err, w)
			}
		}
		if _, nerr := delivery.NewSMTPSender(tt.cfg); nerr == nil {
			t.Errorf("NewSMTPSender accepted %+v", tt.cfg)
		}
	}
}
