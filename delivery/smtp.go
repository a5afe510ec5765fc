package delivery

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"

	"github.com/mamoru-id/mamoru"
)

// SMTP security modes.
const (
	SecurityStartTLS = "starttls" // plain connection, then STARTTLS, which is required (the default; port 587)
	SecurityTLS      = "tls"      // TLS from the first byte, "implicit TLS" (port 465)
	SecurityNone     = "none"     // no TLS at all: only to a server on this machine (loopback)
)

// DefaultSMTPTimeout bounds each step of an SMTP conversation (connect,
// TLS, AUTH, and each message) unless SMTPConfig.Timeout says otherwise.
const DefaultSMTPTimeout = 30 * time.Second

// SMTPConfig configures SMTPSender. It is meant to be embedded in the
// server's configuration (YAML keys in the tags).
type SMTPConfig struct {
	Host               string        `yaml:"host" doc:"SMTP server (submission) host name or IP address"`
	Port               int           `yaml:"port" doc:"port; 0 means 587 for starttls, 465 for tls, 25 for none"`
	Security           string        `yaml:"security" doc:"starttls (default; STARTTLS required), tls (implicit TLS, port 465) or none (loopback hosts only)"`
	Username           string        `yaml:"username" doc:"SMTP AUTH user (PLAIN or LOGIN, over TLS only); empty for no AUTH"`
	Password           string        `yaml:"password" doc:"SMTP AUTH password"`
	From               string        `yaml:"from" doc:"sender, e.g. \"mamoru <no-reply@example.com>\"; its domain ends every Message-ID"`
	HeloName           string        `yaml:"helo_name" doc:"name sent in EHLO (default: the host name of this machine)"`
	Timeout            time.Duration `yaml:"timeout" doc:"limit of each step: connect, TLS, AUTH, each message (default 30s)"`
	InsecureSkipVerify bool          `yaml:"insecure_skip_verify" doc:"do not verify the server's certificate; tests only, refused unless the host is loopback"`
	CAFile             string        `yaml:"ca_file" doc:"PEM file of CA certificates to trust instead of the system's"`
}

// Validate returns every problem of the configuration, joined, or nil.
func (c SMTPConfig) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	switch {
	case c.Host == "":
		bad("host", "required")
	case !validHost(c.Host):
		bad("host", "%q is not a host name or IP address", c.Host)
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("port", "%d is not a TCP port", c.Port)
	}
	loopback := isLoopbackHost(c.Host)
	switch c.Security {
	case "", SecurityStartTLS, SecurityTLS:
	case SecurityNone:
		if !loopback {
			bad("security", "none (no TLS) is allowed only for a loopback host (localhost, 127.0.0.1, ::1)")
		}
	default:
		bad("security", "%q is not starttls, tls or none", c.Security)
	}
	if c.InsecureSkipVerify && !loopback {
		bad("insecure_skip_verify", "allowed only for a loopback host (tests)")
	}
	if (c.Username == "") != (c.Password == "") {
		bad("username", "username and password go together")
	}
	if hasControl(c.Username) || hasControl(c.Password) {
		bad("username", "username or password contains a control character")
	}
	if c.From == "" {
		bad("from", "required")
	} else if _, _, err := parseFrom(c.From); err != nil {
		bad("from", "%v", err)
	}
	if c.HeloName != "" && !validHost(strings.Trim(c.HeloName, "[]")) {
		bad("helo_name", "%q is not a host name or address literal", c.HeloName)
	}
	if c.Timeout < 0 {
		bad("timeout", "negative")
	}
	if c.CAFile != "" {
		if _, err := loadCAFile(c.CAFile); err != nil {
			bad("ca_file", "%v", err)
		}
	}
	return errors.Join(errs...)
}

// SMTPSender sends email through one SMTP server. It dials once per Send
// and once per SendBatch, so it keeps no connection between calls. Safe
// for concurrent use.
type SMTPSender struct {
	cfg      SMTPConfig
	port     int
	from     *mail.Address
	domain   string // of From, for Message-IDs
	tlsConf  *tls.Config
	helo     string
	timeout  time.Duration
	security string
}

var (
	_ Sender      = (*SMTPSender)(nil)
	_ BatchSender = (*SMTPSender)(nil)
)

// NewSMTPSender validates cfg and returns a sender.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	s := &SMTPSender{cfg: cfg, security: cfg.Security, timeout: cfg.Timeout, helo: cfg.HeloName, port: cfg.Port}
	if s.security == "" {
		s.security = SecurityStartTLS
	}
	if s.timeout == 0 {
		s.timeout = DefaultSMTPTimeout
	}
	if s.port == 0 {
		s.port = map[string]int{SecurityStartTLS: 587, SecurityTLS: 465, SecurityNone: 25}[s.security]
	}
	if s.helo == "" {
		if h, err := os.Hostname(); err == nil && validHost(h) {
			s.helo = h
		} else {
			s.helo = "localhost"
		}
	}
	s.from, s.domain, _ = parseFrom(cfg.From)
	s.tlsConf = &tls.Config{
		ServerName:         cfg.Host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: cfg.InsecureSkipVerify,
	}
	if cfg.CAFile != "" {
		pool, err := loadCAFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("smtp: ca_file: %w", err)
		}
		s.tlsConf.RootCAs = pool
	}
	return s, nil
}

// Send implements notify.Sender: one connection, one message.
func (s *SMTPSender) Send(ctx context.Context, m *mamoru.Message) error {
	return s.SendBatch(ctx, []*mamoru.Message{m})[0]
}

// SendBatch implements BatchSender: it sends every message over one
// connection (one TLS handshake and one AUTH for all), and returns one
// error per message. A message the server refuses with a 5xx reply gets a
// permanent error and the others still go; when the connection fails,
// the message under way and those after it get temporary errors.
func (s *SMTPSender) SendBatch(ctx context.Context, ms []*mamoru.Message) []error {
	errs := make([]error, len(ms))
	msgs := make([]*gomail.Msg, len(ms))
	pending := 0
	for i, m := range ms {
		msgs[i], errs[i] = s.build(m)
		if errs[i] == nil {
			pending++
		}
	}
	if pending == 0 {
		return errs
	}
	fail := func(err error) {
		for i := range ms {
			if errs[i] == nil && msgs[i] != nil {
				errs[i] = err
				msgs[i] = nil
			}
		}
	}

	// The dialer keeps the raw connection so that the end of ctx can cut
	// it: go-mail bounds each step by its timeout but does not watch ctx.
	var (
		mu   sync.Mutex
		conn net.Conn
	)
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if conn != nil {
			conn.Close()
		}
	})
	defer stop()
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		conn = c
		mu.Unlock()
		if s.security == SecurityTLS {
			tc := tls.Client(c, s.tlsConf)
			if err := tc.HandshakeContext(ctx); err != nil {
				c.Close()
				return nil, err
			}
			return tc, nil
		}
		return c, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithHELO(s.helo),
		gomail.WithDialContextFunc(dial),
		gomail.WithTLSConfig(s.tlsConf),
		gomail.WithoutNoop(), // RSET after each message already checks the connection
	}
	if s.security == SecurityStartTLS {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	} else {
		// tls: the dialer did the handshake; none: no TLS at all.
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.cfg.Username != "" {
		// PLAIN, else LOGIN; go-mail refuses both without TLS except to
		// localhost.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		fail(fmt.Errorf("smtp: %w", err))
		return errs
	}
	closeConn := func() {
		mu.Lock()
		if conn != nil {
			conn.Close()
		}
		mu.Unlock()
	}
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		closeConn() // go-mail leaves it open when STARTTLS or AUTH fails
		// Connect, TLS, EHLO or AUTH: a problem of the server or of the
		// configuration, never of the message, so temporary (even a 5xx
		// to AUTH: a wrong password must not park every message).
		fail(fmt.Errorf("smtp: connect to %s: %w", net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.port)), s.ctxErr(ctx, err)))
		return errs
	}
	defer func() {
		// The messages are accepted or not by now; a failed QUIT changes
		// nothing.
		_ = client.CloseWithSMTPClient(sc)
		closeConn()
	}()
	for i, gm := range msgs {
		if gm == nil {
			continue
		}
		if ctx.Err() != nil {
			fail(fmt.Errorf("smtp: not sent: %w", ctx.Err()))
			break
		}
		err := client.SendWithSMTPClient(sc, gm)
		if err == nil {
			msgs[i] = nil
			continue
		}
		code := 0
		var se *gomail.SendError
		if errors.As(err, &se) {
			code = se.ErrorCode()
		}
		switch {
		case code >= 500 && code <= 599:
			errs[i] = permanent(fmt.Errorf("smtp: %w", err))
			msgs[i] = nil
		case code >= 400 && code <= 499:
			errs[i] = fmt.Errorf("smtp: %w", err)
			msgs[i] = nil
		default:
			// No reply from the server: the connection is broken (or
			// timed out) and the outcome of this message is unknown;
			// it is retried with the same Message-ID.
			errs[i] = fmt.Errorf("smtp: %w", s.ctxErr(ctx, err))
			msgs[i] = nil
			fail(fmt.Errorf("smtp: not sent: connection failed during an earlier message: %w", s.ctxErr(ctx, err)))
			return errs
		}
	}
	return errs
}

// ctxErr adds the end of ctx to err, whose text may only say that the
// connection was closed.
func (s *SMTPSender) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	return err
}

// build turns m into a go-mail message, or returns a permanent error if
// it cannot be sent at all.
func (s *SMTPSender) build(m *mamoru.Message) (*gomail.Msg, error) {
	if m == nil {
		return nil, permanent(errors.New("smtp: nil message"))
	}
	to, err := parseRecipient(m.To)
	if err != nil {
		return nil, permanent(fmt.Errorf("smtp: recipient: %w", err))
	}
	if m.ID == "" {
		return nil, permanent(errors.New("smtp: message has no ID"))
	}
	if m.Text == "" && m.HTML == "" {
		return nil, permanent(errors.New("smtp: message has no body"))
	}
	gm := gomail.NewMsg(gomail.WithNoDefaultUserAgent(), gomail.WithCharset(gomail.CharsetUTF8),
		gomail.WithEncoding(gomail.EncodingQP))
	gm.FromMailAddress(s.from)
	gm.ToMailAddress(to)
	if subject := headerText(m.Subject); strings.Contains(subject, "=?") {
		// Text that looks like an RFC 2047 encoded word would be decoded
		// by the receiver; encode all of it so that it shows as written.
		gm.SetGenHeaderPreformatted(gomail.HeaderSubject, encodeWords(subject))
	} else {
		gm.Subject(subject) // go-mail encodes non-ASCII text and folds
	}
	gm.SetMessageIDWithValue(MessageID(m.ID, s.domain))
	date := m.CreatedAt
	if date.IsZero() {
		date = time.Now()
	}
	gm.SetDateWithValue(date)
	gm.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated") // RFC 3834: no auto-replies
	text, html := toValidUTF8(m.Text), toValidUTF8(m.HTML)
	switch {
	case text != "" && html != "":
		gm.SetBodyString(gomail.TypeTextPlain, text)
		gm.AddAlternativeString(gomail.TypeTextHTML, html)
	case text != "":
		gm.SetBodyString(gomail.TypeTextPlain, text)
	default:
		gm.SetBodyString(gomail.TypeTextHTML, html)
	}
	return gm, nil
}

// MessageID returns the Message-ID, without angle brackets, of the
// message with the given outbox ID sent from domain: "ID@domain". It is
// the same for every attempt, so a receiver can drop the copy of a retry
// whose first attempt did arrive. An ID with characters that a
// Message-ID cannot carry is replaced by its SHA-256, in hex.
func MessageID(id, domain string) string {
	ok := id != "" && len(id) <= 128
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	if !ok || strings.HasPrefix(id, ".") || strings.HasSuffix(id, ".") || strings.Contains(id, "..") {
		sum := sha256.Sum256([]byte(id))
		id = hex.EncodeToString(sum[:16])
	}
	return id + "@" + domain
}

// parseFrom parses the configured sender and returns it and its domain.
func parseFrom(from string) (*mail.Address, string, error) {
	if hasControl(from) {
		return nil, "", errors.New("contains a control character")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, "", fmt.Errorf("%q is not one address: %v", from, err)
	}
	if err := checkAddr(a.Address); err != nil {
		return nil, "", err
	}
	_, domain, _ := strings.Cut(a.Address, "@")
	if strings.HasPrefix(domain, "[") || !validHost(domain) {
		return nil, "", fmt.Errorf("domain %q is not a host name", domain)
	}
	return &mail.Address{Name: headerText(a.Name), Address: a.Address}, strings.ToLower(domain), nil
}

// parseRecipient parses Message.To: one address, bare or with a display
// name.
func parseRecipient(to string) (*mail.Address, error) {
	if to == "" {
		return nil, errors.New("empty")
	}
	if hasControl(to) || !utf8.ValidString(to) {
		return nil, errors.New("contains a control character or invalid UTF-8")
	}
	a, err := mail.ParseAddress(to)
	if err != nil {
		return nil, fmt.Errorf("not one address: %v", err)
	}
	if err := checkAddr(a.Address); err != nil {
		return nil, err
	}
	name := headerText(a.Name)
	if strings.Contains(name, "=?") {
		name = "" // would be decoded again by the receiver; the address alone will do
	}
	return &mail.Address{Name: name, Address: a.Address}, nil
}

// encodeWords encodes s as RFC 2047 "B" encoded words of at most 75
// characters, on separate folded lines.
func encodeWords(s string) string {
	var words []string
	for s != "" {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > 45 { // 45 octets are 60 base64 characters; with "=?UTF-8?B?" and "?=", 72
				break
			}
			n += size
		}
		words = append(words, "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, "\r\n ")
}

// checkAddr accepts an ASCII address local@domain without spaces, quotes
// or brackets in its local part; mamoru sends no SMTPUTF8.
func checkAddr(addr string) error {
	if len(addr) > 254 {
		return errors.New("address longer than 254 octets")
	}
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return fmt.Errorf("%q is not local@domain", addr)
	}
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' || c == ';' {
			return fmt.Errorf("%q has a character mamoru does not send to (non-ASCII, space, quote or special)", addr)
		}
	}
	return nil
}

// headerText makes s safe for an unstructured header field or display
// name: valid UTF-8, every control character (CR and LF included) and
// line or paragraph separator replaced by a space, spaces trimmed. go-mail
// encodes non-ASCII text (RFC 2047) and folds long lines.
func headerText(s string) string {
	s = toValidUTF8(s)
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

func toValidUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// hasControl reports whether s contains a control character.
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

// validHost reports whether h is a DNS name (letters, digits, hyphens,
// dots) or an IP address.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// isLoopbackHost reports whether host is this machine: "localhost" or a
// loopback IP. A name is not resolved.
func isLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// loadCAFile reads a PEM file of certificates.
func loadCAFile(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return pool, nil
}
