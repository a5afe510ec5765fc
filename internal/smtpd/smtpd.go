// Package smtpd runs a real SMTP server, Exim 4 (Debian's
// exim4-daemon-light), for tests: a private instance on 127.0.0.1 with its
// own configuration, spool, log and maildir under a temporary directory,
// STARTTLS and implicit TLS with a self-signed certificate made here, and
// SMTP AUTH (PLAIN and LOGIN, offered only over TLS) with a test user.
//
// Every message accepted is delivered to one maildir, whatever its
// recipients, where WaitMessages reads it. Recipients whose local part
// starts with "reject" are refused with 550 at RCPT, those starting with
// "tempfail" with 451, so that tests can provoke both kinds of failure.
//
// Instances share nothing (ports, spool, pid file and logs are their own),
// so tests and test binaries may run them in parallel. Exim is used rather
// than OpenSMTPD because the OpenSMTPD of Debian 12 (6.8.0p2) cannot
// complete a TLS handshake with OpenSSL 3 ("EVP lib"/"missing private key"
// in its privilege-separated signing engine), and because OpenSMTPD's queue
// and control socket paths are compiled in, one instance per machine.
//
// Without the exim4 binary, Start skips the test, or fails it when the
// environment variable CI is "true". scripts/deps installs it.
package smtpd

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a running (or stopped) Exim instance.
type Server struct {
	Host      string // "127.0.0.1"
	Port      int    // SMTP with STARTTLS (AUTH only after STARTTLS)
	Addr      string // Host:Port
	TLSPort   int    // SMTP over implicit TLS ("smtps", like port 465)
	Username  string // the test user for SMTP AUTH
	Password  string
	CACertPEM []byte // the self-signed server certificate; trust it as a CA

	bin     string
	dir     string
	conf    string
	maildir string
	logdir  string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Delivered is one message found in the maildir.
type Delivered struct {
	Path    string
	Raw     []byte
	Header  mail.Header // as received, with the Received, Return-path and Envelope-to that Exim adds
	Subject string      // decoded (RFC 2047)
	Parts   []Part      // the leaf parts of the body, in order
	Text    string      // the first text/plain part, decoded
	HTML    string      // the first text/html part, decoded
}

// Part is one leaf MIME part, with its content transfer encoding undone.
type Part struct {
	ContentType string // media type, lower case
	Params      map[string]string
	Encoding    string // Content-Transfer-Encoding as sent, lower case
	Body        string
}

// unavailable skips the test, or fails it under CI=true.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("smtpd: %s (CI=true: required)", msg)
	}
	t.Skipf("smtpd: %s", msg)
}

// findExim returns the path of the exim binary.
func findExim() (string, error) {
	for _, name := range []string{"exim4", "exim"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				return p, nil
			}
		}
	}
	return "", errors.New("exim4 is not installed; run scripts/deps (apt-get install exim4-daemon-light)")
}

// Start starts a new server and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := findExim()
	if err != nil {
		unavailable(t, "%v", err)
	}
	runAs, err := eximUser()
	if err != nil {
		unavailable(t, "%v", err)
	}
	dir, err := os.MkdirTemp("", "mamoru-smtpd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{
		Host:     "127.0.0.1",
		Username: "mamoru-test",
		Password: randomHex(12),
		bin:      bin,
		dir:      dir,
		conf:     filepath.Join(dir, "exim.conf"),
		maildir:  filepath.Join(dir, "maildir"),
		logdir:   filepath.Join(dir, "log"),
	}
	certPEM, keyPEM, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	s.CACertPEM = certPEM
	// Exim drops root privilege for a -C configuration and runs as its
	// own user (or as the calling user when not root), so that user must
	// own what it writes and be able to read the key.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"spool", "log", "maildir"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		for _, p := range []string{"spool", "log", "maildir", "key.pem"} {
			if err := os.Chown(filepath.Join(dir, p), runAs.uid, runAs.gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(s.Stop)

	var lastErr error
	for try := 0; try < 5; try++ {
		s.Port, s.TLSPort = freePort(t), freePort(t)
		if s.Port == s.TLSPort {
			continue
		}
		s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
		if err := os.WriteFile(s.conf, []byte(s.config(runAs)), 0o644); err != nil {
			t.Fatal(err)
		}
		if lastErr = s.start(); lastErr == nil {
			return s
		}
		// Most likely another process took one of the ports meanwhile.
	}
	t.Fatalf("smtpd: exim did not start: %v\n%s", lastErr, s.Log())
	return nil
}

// Restart starts the stopped server again, on the same ports, with the
// same maildir.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	var err error
	for try := 0; try < 20; try++ {
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("smtpd: exim did not restart: %v\n%s", err, s.Log())
}

// start runs exim in the foreground and waits until it answers.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.bin, "-C", s.conf, "-bdf")
	cmd.Dir = s.dir
	// A file, not a pipe: Wait must not wait for Exim's children, which
	// inherit it.
	out, err := os.OpenFile(filepath.Join(s.dir, "exim.stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("exim exited: %v", cmd.ProcessState)
		default:
		}
		if accepts(s.Addr) && accepts(net.JoinHostPort(s.Host, strconv.Itoa(s.TLSPort))) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stopLocked()
	return errors.New("exim did not answer within 15s")
}

// accepts reports whether a TCP connection to addr is accepted.
func accepts(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Stop stops the server (and any delivery it has under way), so that
// connections are refused; the maildir stays. It may be called twice.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *Server) stopLocked() {
	if s.cmd == nil {
		return
	}
	// Setpgid made the daemon the leader of a process group that its
	// children (receiving and delivering processes) share.
	pgid := s.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(2 * time.Second):
	}
	// Children may be left (a client that has not hung up): a stopped
	// server is dead.
	syscall.Kill(-pgid, syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

// Log returns Exim's main log and its standard error, for failure messages.
func (s *Server) Log() string {
	var b strings.Builder
	if data, err := os.ReadFile(filepath.Join(s.logdir, "mainlog")); err == nil {
		b.WriteString("--- exim mainlog\n")
		b.Write(data)
	}
	if data, err := os.ReadFile(filepath.Join(s.logdir, "paniclog")); err == nil {
		b.WriteString("--- exim paniclog\n")
		b.Write(data)
	}
	if data, err := os.ReadFile(filepath.Join(s.dir, "exim.stderr")); err == nil {
		b.WriteString("--- exim stderr\n")
		b.Write(data)
	}
	return b.String()
}

// CertPool returns a pool that trusts the server's certificate.
func (s *Server) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(s.CACertPEM)
	return p
}

// CAFile writes the server's certificate to a file and returns its path.
func (s *Server) CAFile(t testing.TB) string {
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, s.CACertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Messages returns the messages in the maildir now, in the order they
// were delivered (which need not be the order they were accepted in).
func (s *Server) Messages(t testing.TB) []Delivered {
	t.Helper()
	var out []Delivered
	type file struct {
		path string
		mod  time.Time
	}
	var files []file
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(s.maildir, sub))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		for _, e := range entries {
			info, err := e.Info()
			if err != nil || !info.Mode().IsRegular() {
				continue
			}
			files = append(files, file{filepath.Join(s.maildir, sub, e.Name()), info.ModTime()})
		}
	}
	sort.Slice(files, func(i, j int) bool {
		if !files[i].mod.Equal(files[j].mod) {
			return files[i].mod.Before(files[j].mod)
		}
		return files[i].path < files[j].path
	})
	for _, f := range files {
		raw, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Parse(raw)
		if err != nil {
			t.Fatalf("smtpd: %s: %v\n%s", f.path, err, raw)
		}
		d.Path = f.path
		out = append(out, d)
	}
	return out
}

// WaitMessages waits until the maildir holds at least n messages and
// returns all of them, as Messages; it fails the test after timeout.
func (s *Server) WaitMessages(t testing.TB, n int, timeout time.Duration) []Delivered {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if c := s.Count(); c >= n || time.Now().After(deadline) {
			if c < n {
				t.Fatalf("smtpd: %d messages delivered after %v; want %d\n%s", c, timeout, n, s.Log())
			}
			return s.Messages(t)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Count returns the number of messages in the maildir.
func (s *Server) Count() int {
	n := 0
	for _, sub := range []string{"new", "cur"} {
		entries, _ := os.ReadDir(filepath.Join(s.maildir, sub))
		n += len(entries)
	}
	return n
}

// Parse parses a raw message: headers, decoded subject and leaf parts.
// Maildir files end lines with LF; Parse reads them as CRLF, as they were
// on the wire, so decoded 7bit/8bit bodies have CRLF line ends.
func Parse(raw []byte) (Delivered, error) {
	d := Delivered{Raw: raw}
	canonical := bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	m, err := mail.ReadMessage(bytes.NewReader(canonical))
	if err != nil {
		return d, err
	}
	d.Header = m.Header
	dec := mime.WordDecoder{}
	if d.Subject, err = dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
		return d, fmt.Errorf("subject: %w", err)
	}
	if err := walk(&d, m.Header, m.Body, 0); err != nil {
		return d, err
	}
	for _, p := range d.Parts {
		if p.ContentType == "text/plain" && d.Text == "" {
			d.Text = p.Body
		}
		if p.ContentType == "text/html" && d.HTML == "" {
			d.HTML = p.Body
		}
	}
	return d, nil
}

// header is what walk needs of a header (mail.Header or a part's).
type header interface{ Get(string) string }

// walk descends into multipart bodies and decodes leaf parts.
func walk(d *Delivered, h header, body io.Reader, depth int) error {
	if depth > 10 {
		return errors.New("MIME nesting deeper than 10")
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ct, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", mt, err)
			}
			if err := walk(d, p.Header, p, depth+1); err != nil {
				return err
			}
		}
	}
	enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	var r io.Reader = body
	switch enc {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: body})
	case "", "7bit", "8bit", "binary":
	default:
		return fmt.Errorf("unknown Content-Transfer-Encoding %q", enc)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("%s (%s): %w", mt, enc, err)
	}
	d.Parts = append(d.Parts, Part{ContentType: mt, Params: params, Encoding: enc, Body: string(data)})
	return nil
}

// newlineStripper drops CR and LF, for base64 bodies.
type newlineStripper struct{ r io.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// runAs is the user Exim runs as.
type runAs struct {
	name     string
	uid, gid int
}

// eximUser returns Debian's Debian-exim (or another distribution's exim
// user) when running as root, else the calling user, whose privilege a
// -C configuration keeps.
func eximUser() (runAs, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return runAs{}, err
		}
		return runAs{name: u.Username, uid: os.Getuid(), gid: os.Getgid()}, nil
	}
	for _, name := range []string{"Debian-exim", "exim", "mail"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return runAs{name: name, uid: uid, gid: gid}, nil
	}
	return runAs{}, errors.New("no exim system user (Debian-exim) found")
}

// config returns the Exim configuration.
func (s *Server) config(u runAs) string {
	r := strings.NewReplacer(
		"@DIR@", s.dir,
		"@PORT@", strconv.Itoa(s.Port),
		"@TLSPORT@", strconv.Itoa(s.TLSPort),
		"@USER@", u.name,
		"@UID@", strconv.Itoa(u.uid),
		"@GID@", strconv.Itoa(u.gid),
		"@AUTHUSER@", s.Username,
		"@AUTHPASS@", s.Password,
	)
	return r.Replace(eximConfig)
}

// eximConfig is the test server: local only, no DNS, every accepted
// message into one maildir, immediate delivery (no queue runner).
const eximConfig = `# Written by internal/smtpd for one test; see smtpd.go.
primary_hostname = mamoru-test.localhost
qualify_domain = mamoru-test.localhost
spool_directory = @DIR@/spool
log_file_path = @DIR@/log/%slog
pid_file_path = @DIR@/exim.pid
log_selector = +smtp_connection +smtp_protocol_error +smtp_syntax_error +tls_peerdn +received_recipients
keep_environment =
exim_user = @UID@
exim_group = @GID@
timezone = UTC

local_interfaces = 127.0.0.1
daemon_smtp_ports = @PORT@ : @TLSPORT@
tls_on_connect_ports = @TLSPORT@
tls_advertise_hosts = *
tls_certificate = @DIR@/cert.pem
tls_privatekey = @DIR@/key.pem
auth_advertise_hosts = *

host_lookup =
rfc1413_hosts =
helo_accept_junk_hosts = *
check_spool_space = 0
message_size_limit = 20M
smtp_accept_max = 200
smtp_accept_queue_per_connection = 0
smtp_accept_max_per_connection = 100000
smtp_receive_timeout = 60s
ignore_bounce_errors_after = 0s
timeout_frozen_after = 1m

acl_smtp_rcpt = acl_rcpt

begin acl

acl_rcpt:
  deny    !authenticated = *
          message = 530 authentication required
  deny    local_parts = ^reject
          message = 550 no such user here
  defer   local_parts = ^tempfail
          message = 451 try again later
  accept

begin routers

everything:
  driver = accept
  transport = maildir

begin transports

maildir:
  driver = appendfile
  directory = @DIR@/maildir
  maildir_format
  create_directory
  user = @UID@
  group = @GID@
  mode = 0644
  envelope_to_add
  return_path_add

begin retry

*   *   F,1m,10s

begin authenticators

plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and {{eq{$auth2}{@AUTHUSER@}}{eq{$auth3}{@AUTHPASS@}}}}
  server_set_id = $auth2
  server_advertise_condition = ${if def:tls_in_cipher}

login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${if and {{eq{$auth1}{@AUTHUSER@}}{eq{$auth2}{@AUTHPASS@}}}}
  server_set_id = $auth1
  server_advertise_condition = ${if def:tls_in_cipher}
`

// selfSigned returns a new ECDSA P-256 certificate for 127.0.0.1 and
// localhost, valid for a day, and its key, in PEM.
func selfSigned() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mamoru test SMTP server"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
