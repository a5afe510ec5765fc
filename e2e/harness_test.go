// Package e2e tests the real mamoru binary: it is built once, started on
// port 0 with a temporary database, and driven over HTTP like a client
// would. The same scenarios run on SQLite and, when MAMORU_TEST_POSTGRES is
// set, on PostgreSQL.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/mamoru once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mamoru-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "mamoru")
		cmd := exec.Command("go", "build", "-race", "-o", binPath, "../cmd/mamoru")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// server is a running mamoru process.
type server struct {
	URL    string
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
}

// database is where a server keeps its data: a SQLite file or a
// PostgreSQL schema of its own.
type database struct {
	name string
	args []string // flags for serve
	env  []string
}

func sqliteDB(t *testing.T) database {
	return database{name: "sqlite", args: []string{"--db", filepath.Join(t.TempDir(), "mamoru.db")}}
}

// postgresDB returns a fresh schema in the PostgreSQL database named by
// MAMORU_TEST_POSTGRES. Without it the test skips, except under CI where
// it fails: a green CI must have run everything.
func postgresDB(t *testing.T) database {
	dsn := os.Getenv("MAMORU_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("MAMORU_TEST_POSTGRES is not set, and CI=true: PostgreSQL tests must run in CI")
		}
		t.Skip("MAMORU_TEST_POSTGRES is not set: skipping the PostgreSQL run")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema := fmt.Sprintf("e2e_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err == nil {
			db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return database{name: "postgres", args: []string{"--db", dsn + sep + "search_path=" + schema, "--migrate"}}
}

var urlLine = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

// start runs `mamoru serve --dev` on port 0 and waits until /healthz answers.
func start(t *testing.T, db database, extraEnv ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--dev", "--listen", "127.0.0.1:0"}, db.args...)
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "MAMORU_LOG_LEVEL=warn", "MAMORU_OUTBOX_POLL_INTERVAL=100ms")
	cmd.Env = append(cmd.Env, db.env...)
	cmd.Env = append(cmd.Env, extraEnv...)
	s := &server{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = &lockedWriter{w: s.stderr}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := urlLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() { s.stop(t) })
	select {
	case s.URL = <-found:
	case err := <-s.done:
		t.Fatalf("server exited before listening: %v\n%s", err, s.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not print its URL\n%s", s.stderr)
	}
	for i := 0; ; i++ {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 100 {
			t.Fatalf("/healthz never answered: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// stop sends SIGTERM and waits for a graceful exit.
func (s *server) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("server exit: %v\n%s", err, s.stderr)
		}
		s.done <- err
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Errorf("server did not stop within 30s")
	}
	if strings.Contains(s.stderr.String(), "DATA RACE") {
		t.Errorf("race detected in the server:\n%s", s.stderr)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// client is one browser or app: a cookie jar and helpers for JSON calls.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, s *server) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: s.URL, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	Status int
	Body   []byte
	Header http.Header
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.Status, r.Body)
	}
	return m
}

// do sends a request; body may be nil, a string (sent as is) or a value
// (sent as JSON).
func (c *client) do(method, path string, body any, header ...string) response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Body: b, Header: resp.Header}
}

// mail waits for the newest message to `to` whose subject contains one of
// the given words and that is not in skip, and returns it.
func (c *client) mail(to string, skip map[string]bool, subjectWords ...string) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r := c.do("GET", "/api/v1/dev/outbox?to="+to, nil)
		if r.Status != 200 {
			c.t.Fatalf("dev outbox: %d %s", r.Status, r.Body)
		}
		var out struct {
			Messages []map[string]any `json:"messages"`
		}
		json.Unmarshal(r.Body, &out)
		for _, m := range out.Messages {
			id, _ := m["id"].(string)
			subj, _ := m["subject"].(string)
			if skip[id] {
				continue
			}
			for _, w := range subjectWords {
				if strings.Contains(subj, w) {
					return m
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("no mail to %s with subject containing %v", to, subjectWords)
	return nil
}

var codeRe = regexp.MustCompile(`\b(\d{6})\b`)
var tokenRe = regexp.MustCompile(`token=([A-Za-z0-9_\-]+)`)

func code(t *testing.T, m map[string]any) string {
	t.Helper()
	s := codeRe.FindStringSubmatch(m["text"].(string))
	if s == nil {
		t.Fatalf("no code in %q", m["text"])
	}
	return s[1]
}

func linkToken(t *testing.T, m map[string]any) string {
	t.Helper()
	s := tokenRe.FindStringSubmatch(m["text"].(string))
	if s == nil {
		t.Fatalf("no link token in %q", m["text"])
	}
	return s[1]
}
