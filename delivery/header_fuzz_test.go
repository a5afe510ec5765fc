package delivery

import (
	"bytes"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// render builds m as SMTPSender would send it and returns the bytes.
func render(t *testing.T, s *SMTPSender, m *mamoru.Message) ([]byte, error) {
	gm, err := s.build(m)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := gm.WriteTo(&buf); err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	return buf.Bytes(), nil
}

// allowedHeaders are the only header fields a message may have, once each.
var allowedHeaders = map[string]bool{
	"Date": true, "From": true, "To": true, "Subject": true, "Message-Id": true, "Mime-Version": true,
	"Auto-Submitted": true, "Content-Type": true, "Content-Transfer-Encoding": true,
}

func fields(s string) string { return strings.Join(strings.Fields(s), " ") }

// FuzzHeaderInjection feeds arbitrary subjects, display names, addresses
// and bodies and checks that the bytes on the wire parse, carry exactly
// the expected header fields once each, and that what they say is what
// was given (cleaned of control characters), never an extra header.
func FuzzHeaderInjection(f *testing.F) {
	s, err := NewSMTPSender(SMTPConfig{Host: "127.0.0.1", Security: SecurityNone, From: "\"mamoru ID\" <no-reply@mamoru.example>"})
	if err != nil {
		f.Fatal(err)
	}
	seeds := []struct{ subject, name, addr, text string }{
		{"Reset your password", "", "taro@example.jp", "hello"},
		{"パスワードの再設定", "山田 太郎", "taro@example.jp", "こんにちは"},
		{"hi\r\nBcc: victim@example.com", "", "taro@example.jp", "x"},
		{"hi\nBcc: victim@example.com", "Taro\r\nBcc: victim@example.com", "taro@example.jp", "x"},
		{"hi\rX-Evil: 1", "Taro", "taro@example.jp\r\nBcc: victim@example.com", "x"},
		{"\r\n\r\nbody", "\"quoted\" name", "a@b.c", "\r\n\r\nContent-Type: text/html\r\n\r\n<script>"},
		{strings.Repeat("長い件名 ", 40), strings.Repeat("x", 200), "a@example.com", strings.Repeat("y", 2000)},
		{"=?utf-8?q?encoded=0D=0ABcc:_x?=", "=?utf-8?q?n=0D=0A?=", "a@example.com", "x"},
		{"tab\there", "a,b;c:d", "a@example.com", ".\r\n.\r\n"},
		{"\u2028line\u2029para\u0085nel", "\x00nul", "a@example.com", "\x00"},
		{"\xff\xfe invalid", "\xc3", "a@example.com", "\xff"},
		{"", "", "a@example.com, b@example.com", "x"},
		{"x", "", "Taro <a@example.com>", "x"},
	}
	for _, s := range seeds {
		f.Add(s.subject, s.name, s.addr, s.text)
	}
	f.Fuzz(func(t *testing.T, subject, name, addr, text string) {
		to := addr
		if name != "" {
			to = name + " <" + addr + ">"
		}
		m := &mamoru.Message{
			ID: "abcdefghijklmnop", Channel: mamoru.ChannelEmail, To: to, Subject: subject,
			Text: text, HTML: "<p>" + text + "</p>", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		}
		raw, err := render(t, s, m)
		if err != nil {
			if !IsPermanent(err) {
				t.Fatalf("build error is not permanent: %v", err)
			}
			return
		}
		head, _, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
		if !ok {
			t.Fatalf("no end of header:\n%q", raw)
		}
		for _, line := range strings.Split(string(head), "\r\n") {
			if len(line) > 998 {
				t.Fatalf("header line of %d octets", len(line))
			}
			if strings.ContainsAny(line, "\r\n\x00") {
				t.Fatalf("bare CR, LF or NUL in header line %q", line)
			}
			if line != "" && line[0] != ' ' && line[0] != '\t' {
				key, _, ok := strings.Cut(line, ":")
				if !ok || !allowedHeaders[textproto.CanonicalMIMEHeaderKey(key)] {
					t.Fatalf("unexpected header line %q in\n%s", line, head)
				}
			}
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("net/mail cannot parse: %v\n%q", err, raw)
		}
		for k, v := range msg.Header {
			if !allowedHeaders[k] {
				t.Fatalf("extra header %q: %q", k, v)
			}
			if len(v) != 1 {
				t.Fatalf("header %q %d times: %q", k, len(v), v)
			}
		}
		if got := msg.Header.Get("Message-Id"); got != "<abcdefghijklmnop@mamoru.example>" {
			t.Fatalf("Message-ID %q", got)
		}
		from, err := mail.ParseAddress(msg.Header.Get("From"))
		if err != nil || from.Address != "no-reply@mamoru.example" || from.Name != "mamoru ID" {
			t.Fatalf("From %q: %v", msg.Header.Get("From"), err)
		}
		want, err := parseRecipient(to)
		if err != nil {
			t.Fatalf("built a message for a recipient parseRecipient refuses: %v", err)
		}
		gotTo, err := mail.ParseAddress(msg.Header.Get("To"))
		if err != nil {
			t.Fatalf("To %q does not parse: %v", msg.Header.Get("To"), err)
		}
		if gotTo.Address != want.Address {
			t.Fatalf("To address %q; want %q", gotTo.Address, want.Address)
		}
		if fields(gotTo.Name) != fields(want.Name) {
			t.Fatalf("To name %q; want %q", gotTo.Name, want.Name)
		}
		dec := new(mime.WordDecoder)
		gotSubject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Fatalf("Subject %q: %v", msg.Header.Get("Subject"), err)
		}
		if fields(gotSubject) != fields(headerText(subject)) {
			t.Fatalf("Subject %q; want %q", gotSubject, headerText(subject))
		}
	})
}
