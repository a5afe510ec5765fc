package benchkit

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// readyURL finds the server's address in its start-up output.
var readyURL = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)

// Server is a mamoru server started by a tool.
type Server struct {
	URL    string // base URL, http://127.0.0.1:PORT
	cmd    *exec.Cmd
	dir    string
	output *tail
	exited chan struct{} // closed when the process has been waited for
	err    error         // the Wait error, valid after exited closes
}

// StartServer runs `bin serve --listen 127.0.0.1:0 --db DIR/mamoru.db
// --dev` in a new temporary directory with env added to the environment,
// waits for the line with its URL on standard output and for /healthz to
// answer 200, and returns it. The caller must call Stop.
func StartServer(ctx context.Context, bin string, env []string, timeout time.Duration) (*Server, error) {
	abs, err := filepath.Abs(bin)
	if err == nil && strings.ContainsRune(bin, os.PathSeparator) {
		bin = abs
	}
	dir, err := os.MkdirTemp("", "mamoru-bench-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, output: newTail(64 << 10), exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "mamoru.db"), "--dev")
	s.cmd.Dir = dir
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stderr = s.output
	stdout, stdoutW := io.Pipe()
	s.cmd.Stdout = stdoutW
	s.cmd.WaitDelay = 5 * time.Second // do not hang on output held open by children
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.output.Write([]byte(line + "\n"))
			if u := readyURL.FindString(line); u != "" {
				select {
				case found <- u:
				default:
				}
			}
		}
		io.Copy(s.output, stdout) // after a too-long line, keep draining
	}()
	go func() {
		s.err = s.cmd.Wait()
		stdoutW.Close()
		close(s.exited)
	}()

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	select {
	case s.URL = <-found:
	case <-s.exited:
		s.cleanup()
		return nil, fmt.Errorf("server exited before printing its URL: %v\n%s", s.err, s.output)
	case <-ctx.Done():
		s.Stop()
		return nil, fmt.Errorf("server printed no http://127.0.0.1:PORT line within %v\n%s", timeout, s.output)
	}
	if err := WaitHealthy(ctx, s.URL); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%v\n%s", err, s.output)
	}
	return s, nil
}

// WaitHealthy polls base/healthz until it answers 200 or ctx ends.
func WaitHealthy(ctx context.Context, base string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s/healthz did not answer 200: %v", base, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PID returns the server's process ID.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Output returns the last 64 KiB the server wrote (standard output and
// error), for error messages.
func (s *Server) Output() string { return s.output.String() }

// Stop asks the server to end (SIGTERM), kills it after 10 s, and removes
// its directory.
func (s *Server) Stop() {
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
	s.cleanup()
}

func (s *Server) cleanup() { os.RemoveAll(s.dir) }

// CheckLoopback accepts only http://127.0.0.1[:port] URLs: the tools
// never send traffic anywhere else.
func CheckLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("-url: %v", err)
	}
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.User != nil {
		return fmt.Errorf("-url: %q: only http://127.0.0.1[:port] may be targeted", raw)
	}
	return nil
}

// tail keeps the last bytes written to it, for error messages.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTail(max int) *tail { return &tail{max: max} }

// Write keeps p. The buffer may grow to twice the limit before the oldest
// bytes are dropped, so that a chatty server does not cost a copy of the
// whole buffer per line.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return len(p), nil
	}
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > t.max {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns the last max bytes written.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > t.max {
		b = b[len(b)-t.max:]
	}
	return string(b)
}
