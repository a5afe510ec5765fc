package inmem_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/inmem"
)

// flaky is a primary that fails while told to, counting its calls and the
// most calls it had in flight at once.
type flaky struct {
	mamoru.Counters
	fail     atomic.Bool
	calls    atomic.Int32
	inFlight atomic.Int32
	maxShown atomic.Int32
	delay    time.Duration
	hook     func(ctx context.Context) // run inside each call, if set
}

func (p *flaky) enter(ctx context.Context) error {
	p.calls.Add(1)
	n := p.inFlight.Add(1)
	for {
		m := p.maxShown.Load()
		if n <= m || p.maxShown.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(p.delay)
	if p.hook != nil {
		p.hook(ctx)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.fail.Load() {
		return errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	}
	return nil
}

func (p *flaky) Do(ctx context.Context, ops []mamoru.CounterOp) error {
	defer p.inFlight.Add(-1)
	if err := p.enter(ctx); err != nil {
		return err
	}
	return p.Counters.Do(ctx, ops)
}

func (p *flaky) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	defer p.inFlight.Add(-1)
	if err := p.enter(ctx); err != nil {
		return false, err
	}
	return p.Counters.Once(ctx, key, ttl)
}

// fallbackRig is a Fallback over a flaky primary, with its log and its
// onChange calls recorded.
type fallbackRig struct {
	f       *inmem.Fallback
	primary *flaky
	clock   *mamoru.FakeClock
	mu      sync.Mutex
	log     bytes.Buffer
	changes []bool
}

func newFallbackRig(t *testing.T) *fallbackRig {
	r := &fallbackRig{clock: mamoru.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))}
	r.primary = &flaky{Counters: inmem.New(r.clock)}
	log := slog.New(slog.NewTextHandler(lockedWriter{&r.mu, &r.log}, nil))
	r.f = inmem.NewFallback(r.primary, inmem.New(r.clock), log, func(down bool) {
		r.mu.Lock()
		r.changes = append(r.changes, down)
		r.mu.Unlock()
	})
	return r
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// state returns the log lines and onChange calls so far.
func (r *fallbackRig) state() ([]string, []bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(r.log.String()), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines, append([]bool(nil), r.changes...)
}

// add adds 1 to "k" and returns the count.
func (r *fallbackRig) add(t *testing.T) int64 {
	t.Helper()
	ops := []mamoru.CounterOp{{Kind: mamoru.CounterAdd, Key: "k", Window: time.Hour, N: 1}}
	if err := r.f.Do(t.Context(), ops); err != nil {
		t.Fatalf("Do: %v", err)
	}
	return ops[0].Count
}

func TestFallback(t *testing.T) {
	r := newFallbackRig(t)
	want := func(what string, got, want int64) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: %d, want %d", what, got, want)
		}
	}
	wantCalls := func(what string, n int32) {
		t.Helper()
		if got := r.primary.calls.Swap(0); got != n {
			t.Fatalf("%s: %d calls of the primary, want %d", what, got, n)
		}
	}

	// Up: the primary answers.
	want("up", r.add(t), 1)
	want("up", r.add(t), 2)
	wantCalls("up", 2)

	// Down: the local counters answer, from zero; one warning, one onChange.
	r.primary.fail.Store(true)
	want("first call down", r.add(t), 1)
	wantCalls("first call down", 1)
	for i := range 10 {
		want("down", r.add(t), int64(i+2))
	}
	if ok, err := r.f.Once(t.Context(), "m", time.Minute); !ok || err != nil {
		t.Fatalf("Once while down: %v, %v", ok, err)
	}
	wantCalls("down, within the second", 0)
	lines, changes := r.state()
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "Redis is down") ||
		!strings.Contains(lines[0], "connection refused") {
		t.Fatalf("log after going down: %q, want one warning naming Redis and the error", lines)
	}
	if len(changes) != 1 || !changes[0] || !r.f.Down() {
		t.Fatalf("onChange calls %v, Down %v; want [true], true", changes, r.f.Down())
	}

	// A second later, one call probes the primary, which still fails.
	r.clock.Advance(time.Second)
	want("probe fails", r.add(t), 12)
	want("after the probe", r.add(t), 13)
	wantCalls("probe fails", 1)
	if lines, changes := r.state(); len(lines) != 1 || len(changes) != 1 {
		t.Fatalf("after a failed probe: log %q, onChange %v; want nothing new", lines, changes)
	}

	// Back, but the next probe is not due yet.
	r.primary.fail.Store(false)
	r.clock.Advance(999 * time.Millisecond)
	want("before the next probe", r.add(t), 14)
	wantCalls("before the next probe", 0)

	// The probe succeeds: the primary answers again, where it left off.
	r.clock.Advance(time.Millisecond)
	want("probe succeeds", r.add(t), 3)
	want("up again", r.add(t), 4)
	wantCalls("up again", 2)
	lines, changes = r.state()
	if len(lines) != 2 || !strings.Contains(lines[1], "level=INFO") || !strings.Contains(lines[1], "Redis is back") {
		t.Fatalf("log after recovery: %q, want a second line saying Redis is back", lines)
	}
	if len(changes) != 2 || changes[1] || r.f.Down() {
		t.Fatalf("onChange calls %v, Down %v; want [true false], false", changes, r.f.Down())
	}
}

// TestFallbackCallerErrors checks that the caller's own mistakes and
// cancellations are returned as they are, not taken for an outage.
func TestFallbackCallerErrors(t *testing.T) {
	r := newFallbackRig(t)
	bad := []mamoru.CounterOp{{Kind: mamoru.CounterAdd, Key: "k", N: 1}}
	if err := r.f.Do(t.Context(), bad); err == nil {
		t.Fatal("Do with a zero window: no error")
	}
	if _, err := r.f.Once(t.Context(), "", time.Minute); err == nil {
		t.Fatal("Once with an empty key: no error")
	}
	if n := r.primary.calls.Load(); n != 0 {
		t.Fatalf("invalid calls reached the primary %d times", n)
	}
	// The caller's context ends while the primary works on the call.
	ctx, cancel := context.WithCancel(t.Context())
	r.primary.hook = func(context.Context) { cancel() }
	ops := []mamoru.CounterOp{{Kind: mamoru.CounterAdd, Key: "k", Window: time.Hour, N: 1}}
	if err := r.f.Do(ctx, ops); !errors.Is(err, context.Canceled) {
		t.Fatalf("Do cancelled during the call: %v, want context.Canceled", err)
	}
	if _, err := r.f.Once(ctx, "k", time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("Once with a cancelled context: %v, want context.Canceled", err)
	}
	if lines, changes := r.state(); r.f.Down() || len(lines) != 0 || len(changes) != 0 {
		t.Fatalf("after caller errors: Down %v, log %q, onChange %v; want up and quiet", r.f.Down(), lines, changes)
	}
}

// TestFallbackConcurrent fails the primary under many goroutines: one
// warning, one onChange(true), never two probes at once, and every call
// answered.
func TestFallbackConcurrent(t *testing.T) {
	r := newFallbackRig(t)
	r.primary.delay = time.Millisecond
	r.primary.fail.Store(true)
	var wg sync.WaitGroup
	var answered atomic.Int32
	for g := range 32 {
		wg.Go(func() {
			for i := range 50 {
				if g == 0 && i%5 == 0 {
					r.clock.Advance(time.Second) // a probe is due
				}
				ops := []mamoru.CounterOp{{Kind: mamoru.CounterAdd, Key: "k", Window: time.Hour, N: 1}}
				if err := r.f.Do(t.Context(), ops); err != nil {
					t.Errorf("Do: %v", err)
					return
				}
				answered.Add(1)
			}
		})
	}
	// Wait until every goroutine has gone down, then measure probes only.
	wg.Wait()
	if answered.Load() != 32*50 {
		t.Fatalf("%d calls answered, want %d", answered.Load(), 32*50)
	}
	r.primary.maxShown.Store(0)
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				if g == 0 && i%5 == 0 {
					r.clock.Advance(time.Second)
				}
				ops := []mamoru.CounterOp{{Kind: mamoru.CounterAdd, Key: "k", Window: time.Hour, N: 1}}
				if err := r.f.Do(t.Context(), ops); err != nil {
					t.Errorf("Do: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if n := r.primary.maxShown.Load(); n > 1 {
		t.Errorf("%d probes in flight at once while down, want at most 1", n)
	}
	lines, changes := r.state()
	if len(lines) != 1 || len(changes) != 1 || !changes[0] {
		t.Fatalf("log %q, onChange %v; want one warning and [true]", lines, changes)
	}
}
