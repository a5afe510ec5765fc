package smtpd_test

import (
	"crypto/tls"
	"errors"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru/internal/smtpd"
)

// send delivers one message with the standard library's client over
// STARTTLS (or implicit TLS) and AUTH PLAIN.
func send(s *smtpd.Server, implicit bool, user, pass, to, body string) error {
	tlsConf := &tls.Config{RootCAs: s.CertPool(), ServerName: "127.0.0.1"}
	var c *smtp.Client
	var err error
	if implicit {
		conn, err := tls.Dial("tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.TLSPort)), tlsConf)
		if err != nil {
			return err
		}
		c, err = smtp.NewClient(conn, s.Host)
		if err != nil {
			return err
		}
	} else {
		c, err = smtp.Dial(s.Addr)
		if err != nil {
			return err
		}
		if err := c.StartTLS(tlsConf); err != nil {
			return err
		}
	}
	defer c.Close()
	if err := c.Auth(smtp.PlainAuth("", user, pass, "127.0.0.1")); err != nil {
		return err
	}
	if err := c.Mail("sender@example.com"); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(body)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func code(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func TestServer(t *testing.T) {
	s := smtpd.Start(t)
	body := "From: sender@example.com\r\nTo: alice@example.com\r\nSubject: =?UTF-8?B?44GT44KT44Gr44Gh44Gv?=\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"=E3=81=93=E3=82=93=E3=81=AB=E3=81=A1=E3=81=AF https://example.com/a?b=3Dc&d=3D=\r\ne\r\n" +
		"--b1\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"PHA+aGk8L3A+\r\n--b1--\r\n"
	if err := send(s, false, s.Username, s.Password, "alice@example.com", body); err != nil {
		t.Fatalf("STARTTLS: %v\n%s", err, s.Log())
	}
	if err := send(s, true, s.Username, s.Password, "bob@example.org", "Subject: second\r\n\r\nhello\r\n"); err != nil {
		t.Fatalf("implicit TLS: %v\n%s", err, s.Log())
	}
	got := s.WaitMessages(t, 2, 10*time.Second)
	if len(got) != 2 {
		t.Fatalf("%d messages", len(got))
	}
	m, second := got[0], got[1]
	if m.Subject == "second" {
		m, second = second, m // delivery order need not be acceptance order
	}
	if m.Subject != "こんにちは" || m.Text != "こんにちは https://example.com/a?b=c&d=e" || m.HTML != "<p>hi</p>" {
		t.Errorf("parsed %q %q %q", m.Subject, m.Text, m.HTML)
	}
	if !strings.Contains(m.Header.Get("Envelope-to"), "alice@example.com") {
		t.Errorf("Envelope-to %q", m.Header.Get("Envelope-to"))
	}
	if second.Subject != "second" || second.Text != "hello\r\n" {
		t.Errorf("second: %q %q", second.Subject, second.Text)
	}

	if err := send(s, false, s.Username, "wrong", "alice@example.com", "Subject: x\r\n\r\nx\r\n"); code(err) != 535 {
		t.Errorf("wrong password: %v; want 535", err)
	}
	if err := send(s, false, s.Username, s.Password, "reject-me@example.com", "Subject: x\r\n\r\nx\r\n"); code(err) != 550 {
		t.Errorf("reject-: %v; want 550", err)
	}
	if err := send(s, false, s.Username, s.Password, "tempfail@example.com", "Subject: x\r\n\r\nx\r\n"); code(err) != 451 {
		t.Errorf("tempfail: %v; want 451", err)
	}
	// AUTH is not offered before STARTTLS.
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hello("localhost"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH offered without TLS")
	}
	c.Close()

	s.Stop()
	// The freed port may be taken at once by another test's listener, so
	// the check is that no mail gets through, not that nothing listens.
	if err := send(s, false, s.Username, s.Password, "dave@example.com", "Subject: dead\r\n\r\nx\r\n"); err == nil {
		t.Fatal("a stopped server accepted mail")
	}
	s.Restart(t)
	if err := send(s, false, s.Username, s.Password, "carol@example.com", "Subject: third\r\n\r\nx\r\n"); err != nil {
		t.Fatalf("after restart: %v\n%s", err, s.Log())
	}
	if got := s.WaitMessages(t, 3, 10*time.Second); len(got) != 3 {
		t.Fatalf("after restart: %d messages", len(got))
	}
}

func TestServersInParallel(t *testing.T) {
	for i := 0; i < 2; i++ {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			s := smtpd.Start(t)
			if err := send(s, false, s.Username, s.Password, "x@example.com", "Subject: p\r\n\r\nx\r\n"); err != nil {
				t.Fatalf("%v\n%s", err, s.Log())
			}
			if got := s.WaitMessages(t, 1, 10*time.Second); len(got) != 1 {
				t.Fatalf("%d messages", len(got))
			}
		})
	}
}
