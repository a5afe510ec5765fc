package redis_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/inmem"
)

// redisServer returns the path of redis-server. Without it the test is
// skipped, except under CI.
func redisServer(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed, and CI=true: the Redis fallback must be tested in CI")
		}
		t.Skip("redis-server is not installed: skipping the tests that stop a private Redis")
	}
	return path
}

// freePort returns a TCP port of 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// private is a redis-server of the test's own, without persistence.
type private struct {
	t    *testing.T
	bin  string
	port int
	cmd  *exec.Cmd
}

// startPrivate starts a private redis-server on port and waits until it
// answers. It is killed when the test ends.
func startPrivate(t *testing.T, bin string, port int) *private {
	p := &private{t: t, bin: bin, port: port}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *private) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", p.port) }

func (p *private) start() {
	p.t.Helper()
	var out bytes.Buffer
	p.cmd = exec.Command(p.bin, "--port", fmt.Sprint(p.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	p.cmd.Stdout, p.cmd.Stderr = &out, &out
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start redis-server: %v", err)
	}
	client := goredis.NewClient(&goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", p.port), MaxRetries: -1})
	defer client.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := client.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			p.stop()
			p.t.Fatalf("redis-server on port %d not answering after 10 s: %v\n%s", p.port, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the server, if it runs, and waits for it to exit.
func (p *private) stop() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()
	p.cmd = nil
}

// watcher records a Fallback's log and onChange calls.
type watcher struct {
	mu      sync.Mutex
	log     bytes.Buffer
	changes []bool
}

func (w *watcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.log.Write(p)
}

func (w *watcher) onChange(down bool) {
	w.mu.Lock()
	w.changes = append(w.changes, down)
	w.mu.Unlock()
}

// want fails unless the log has lines lines and onChange was called with
// changes.
func (w *watcher) want(t *testing.T, what string, lines int, changes ...bool) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	got := strings.Split(strings.TrimSpace(w.log.String()), "\n")
	if w.log.Len() == 0 {
		got = nil
	}
	if len(got) != lines || fmt.Sprint(w.changes) != fmt.Sprint(changes) {
		t.Fatalf("%s: log %q and onChange %v; want %d lines and %v", what, got, w.changes, lines, changes)
	}
}

func newWatchedFallback(primary mamoru.Counters, clock mamoru.Clock) (*inmem.Fallback, *watcher) {
	w := &watcher{}
	f := inmem.NewFallback(primary, inmem.New(clock), slog.New(slog.NewTextHandler(w, nil)), w.onChange)
	return f, w
}

// add adds 1 to "k" through c and returns the count.
func add(t *testing.T, c mamoru.Counters) int64 {
	t.Helper()
	ops := []mamoru.CounterOp{{Kind: mamoru.CounterAdd, Key: "k", Window: time.Hour, N: 1}}
	if err := c.Do(t.Context(), ops); err != nil {
		t.Fatalf("Do: %v", err)
	}
	return ops[0].Count
}

// TestFallbackDeadRedis points a real client at a port nothing listens on:
// every call is answered from memory, the first after go-redis gives up,
// the others at once.
func TestFallbackDeadRedis(t *testing.T) {
	clock := mamoru.NewFakeClock(time.Now())
	dead := open(t, fmt.Sprintf("redis://127.0.0.1:%d/0", freePort(t)), "p:", clock)
	f, w := newWatchedFallback(dead, clock)

	began := time.Now()
	if n := add(t, f); n != 1 {
		t.Fatalf("first call: count %d, want 1", n)
	}
	t.Logf("first call, finding Redis down: %v", time.Since(began))
	w.want(t, "after the first call", 1, true)

	began = time.Now()
	for i := range 1000 {
		if n := add(t, f); n != int64(i+2) {
			t.Fatalf("call %d: count %d, want %d", i+2, n, i+2)
		}
	}
	if ok, err := f.Once(t.Context(), "tok", time.Minute); !ok || err != nil {
		t.Fatalf("Once: %v, %v", ok, err)
	}
	if d := time.Since(began); d > time.Second {
		t.Fatalf("1000 calls while down took %v: they should not wait for Redis", d)
	}
	w.want(t, "after 1000 calls", 1, true)
	if !strings.Contains(w.log.String(), "level=WARN") || !strings.Contains(w.log.String(), "Redis is down") {
		t.Fatalf("log %q: want a warning that Redis is down", w.log.String())
	}
	// A probe a second later fails again, quietly.
	clock.Advance(time.Second)
	add(t, f)
	w.want(t, "after a failed probe", 1, true)
}

// TestFallbackRedisStops stops a private Redis under a Fallback and starts
// it again.
func TestFallbackRedisStops(t *testing.T) {
	srv := startPrivate(t, redisServer(t), freePort(t))
	clock := mamoru.NewFakeClock(time.Now())
	primary := open(t, srv.url(), "p:", clock)
	direct := open(t, srv.url(), "p:", clock) // another instance, to see what Redis holds
	f, w := newWatchedFallback(primary, clock)

	add(t, f)
	if n := add(t, f); n != 2 {
		t.Fatalf("up: count %d, want 2", n)
	}
	if n := add(t, direct); n != 3 {
		t.Fatalf("up, another instance: count %d, want 3 (the Fallback's adds went to Redis)", n)
	}
	w.want(t, "up", 0)

	srv.stop()
	if n := add(t, f); n != 1 {
		t.Fatalf("Redis stopped: count %d, want 1 (from memory)", n)
	}
	if n := add(t, f); n != 2 {
		t.Fatalf("Redis stopped: count %d, want 2 (from memory)", n)
	}
	w.want(t, "Redis stopped", 1, true)
	if !f.Down() {
		t.Fatal("Down() = false with Redis stopped")
	}

	srv.start() // empty: no persistence
	if n := add(t, f); n != 3 {
		t.Fatalf("Redis back, before the next probe: count %d, want 3 (from memory)", n)
	}
	clock.Advance(time.Second)
	if n := add(t, f); n != 1 {
		t.Fatalf("Redis back, probe: count %d, want 1 (from the new, empty Redis)", n)
	}
	if n := add(t, direct); n != 2 {
		t.Fatalf("Redis back, another instance: count %d, want 2", n)
	}
	w.want(t, "Redis back", 2, true, false)
	if !strings.Contains(w.log.String(), "Redis is back") || f.Down() {
		t.Fatalf("log %q, Down() %v: want the recovery logged and up", w.log.String(), f.Down())
	}
}

// TestFallbackHungRedis points a client at a server that accepts
// connections and never answers: the first call waits out Open's 1 s
// timeouts (about 2 s, go-redis' connection handshake included), then
// calls are answered from memory at once.
func TestFallbackHungRedis(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	clock := mamoru.NewFakeClock(time.Now())
	hung := open(t, "redis://"+l.Addr().String()+"/0", "p:", clock)
	f, w := newWatchedFallback(hung, clock)
	began := time.Now()
	if n := add(t, f); n != 1 {
		t.Fatalf("first call: count %d, want 1", n)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Fatalf("first call took %v, want about 2 s (Open's timeouts)", d)
	} else {
		t.Logf("first call, waiting for the hung server: %v", d)
	}
	began = time.Now()
	for range 100 {
		add(t, f)
	}
	if d := time.Since(began); d > time.Second {
		t.Fatalf("100 calls while down took %v: they should not wait for Redis", d)
	}
	w.want(t, "hung", 1, true)
}
