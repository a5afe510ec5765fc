package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// readyURL finds the server's address in its start-up output.
var readyURL = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)

// server is a mamoru server started by this tool.
type server struct {
	cmd    *exec.Cmd
	dir    string
	url    string
	output *tail
	exited chan struct{} // closed when the process has been waited for
	err    error         // the Wait error, valid after exited closes
}

// startServer runs `bin serve --listen 127.0.0.1:0 --db DIR/mamoru.db
// --dev` in a new temporary directory with env added to the environment,
// waits for the line with its URL on standard output and for /healthz to
// answer 200, and returns it. The caller must call stop.
func startServer(ctx context.Context, bin string, env []string, timeout time.Duration) (*server, error) {
	abs, err := filepath.Abs(bin)
	if err == nil && strings.ContainsRune(bin, os.PathSeparator) {
		bin = abs
	}
	dir, err := os.MkdirTemp("", "mamoru-bench-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, output: newTail(64 << 10), exited: make(chan struct{})}
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
	case s.url = <-found:
	case <-s.exited:
		s.cleanup()
		return nil, fmt.Errorf("server exited before printing its URL: %v\n%s", s.err, s.output)
	case <-ctx.Done():
		s.stop()
		return nil, fmt.Errorf("server printed no http://127.0.0.1:PORT line within %v\n%s", timeout, s.output)
	}
	if err := waitHealthy(ctx, s.url); err != nil {
		s.stop()
		return nil, fmt.Errorf("%v\n%s", err, s.output)
	}
	return s, nil
}

// waitHealthy polls url/healthz until it answers 200 or ctx ends.
func waitHealthy(ctx context.Context, base string) error {
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

// pid returns the server's process ID.
func (s *server) pid() int { return s.cmd.Process.Pid }

// stop asks the server to end (SIGTERM), kills it after 10 s, and removes
// its directory.
func (s *server) stop() {
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

func (s *server) cleanup() { os.RemoveAll(s.dir) }

// peakRSSKiB returns VmHWM (the peak resident set size) of process pid in
// KiB, from /proc/PID/status.
func peakRSSKiB(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	return parseVmHWM(string(b))
}

// parseVmHWM extracts the VmHWM line of a /proc/PID/status text.
func parseVmHWM(status string) (int64, error) {
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// tail keeps the last bytes written to it, for error messages.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTail(max int) *tail { return &tail{max: max} }

// Write keeps p, dropping the oldest bytes beyond the limit.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns what is kept.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
