package countertest

import (
	"context"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// Run runs the conformance suite. Each subtest runs in parallel with the
// others and calls newCounters with its own t and its own clock, started
// at the beginning of the current hour (a real-ish time, so that TTLs
// derived from it make sense to a backend with a real clock).
//
// newCounters must return Counters that use clock for every reading of
// the current time. Calls with the same t must return Counters over the
// same state: new clients of one shared backend (Redis), or simply the
// same value for a backend that lives in one process (inmem), where "every
// instance" is that one value. Calls with different t must not share
// state. newCounters arranges its own cleanup with t.Cleanup.
func Run(t *testing.T, newCounters func(t *testing.T, clock *mamoru.FakeClock) mamoru.Counters) {
	tests := map[string]func(t *testing.T, s *suite){}
	for _, group := range []map[string]func(t *testing.T, s *suite){
		slidingTests, distinctTests, blockTests, onceTests, doTests,
	} {
		maps.Copy(tests, group)
	}
	for _, name := range slices.Sorted(maps.Keys(tests)) {
		test := tests[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := mamoru.NewFakeClock(time.Now().Truncate(time.Hour))
			s := &suite{t: t, clock: clock, open: func() mamoru.Counters { return newCounters(t, clock) }}
			s.c = s.open()
			test(t, s)
		})
	}
}

// suite is what a subtest works with: the Counters under test, its clock,
// and a way to open another instance over the same state.
type suite struct {
	t     *testing.T
	c     mamoru.Counters
	clock *mamoru.FakeClock
	open  func() mamoru.Counters
}

// now returns the fake clock's current time.
func (s *suite) now() time.Time { return s.clock.Now() }

// do runs ops on s.c, failing the test on an error, and returns them.
func (s *suite) do(ops ...mamoru.CounterOp) []mamoru.CounterOp {
	s.t.Helper()
	return doOn(s.t, s.c, ops...)
}

// doOn runs ops on c, failing the test on an error, and returns them.
func doOn(t *testing.T, c mamoru.Counters, ops ...mamoru.CounterOp) []mamoru.CounterOp {
	t.Helper()
	if err := c.Do(t.Context(), ops); err != nil {
		t.Fatalf("Do(%s): %v", describe(ops), err)
	}
	return ops
}

// add adds n to key's count over window and returns the sliding count.
func (s *suite) add(key string, window time.Duration, n int64) int64 {
	s.t.Helper()
	return s.do(mamoru.CounterOp{Kind: mamoru.CounterAdd, Key: key, Window: window, N: n})[0].Count
}

// get returns key's sliding count over window.
func (s *suite) get(key string, window time.Duration) int64 {
	s.t.Helper()
	return s.do(mamoru.CounterOp{Kind: mamoru.CounterGet, Key: key, Window: window})[0].Count
}

// addDistinct adds member to the set key over window and returns the
// distinct count.
func (s *suite) addDistinct(key string, window time.Duration, member string) int64 {
	s.t.Helper()
	return s.do(mamoru.CounterOp{Kind: mamoru.CounterAddDistinct, Key: key, Window: window, Member: member})[0].Count
}

// countDistinct returns the distinct count of the set key over window.
func (s *suite) countDistinct(key string, window time.Duration) int64 {
	s.t.Helper()
	return s.do(mamoru.CounterOp{Kind: mamoru.CounterCountDistinct, Key: key, Window: window})[0].Count
}

// block blocks key until until and returns the block's end.
func (s *suite) block(key string, until time.Time) time.Time {
	s.t.Helper()
	return s.do(mamoru.CounterOp{Kind: mamoru.CounterBlock, Key: key, Until: until})[0].Until
}

// blocked returns the end of key's block.
func (s *suite) blocked(key string) time.Time {
	s.t.Helper()
	return s.do(mamoru.CounterOp{Kind: mamoru.CounterBlocked, Key: key})[0].Until
}

// once calls Once on c and fails the test on an error.
func once(t *testing.T, c mamoru.Counters, key string, ttl time.Duration) bool {
	t.Helper()
	ok, err := c.Once(t.Context(), key, ttl)
	if err != nil {
		t.Fatalf("Once(%q, %v): %v", key, ttl, err)
	}
	return ok
}

// wantCount fails unless got equals want.
func wantCount(t *testing.T, what string, got, want int64) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: count %d, want %d", what, got, want)
	}
}

// wantDistinct fails unless got is want, within 2% when want is 100 or
// more (what HyperLogLog allows), exactly below.
func wantDistinct(t *testing.T, what string, got, want int64) {
	t.Helper()
	slack := int64(0)
	if want >= 100 {
		slack = want * 2 / 100
	}
	if got < want-slack || got > want+slack {
		t.Fatalf("%s: distinct count %d, want %d (±%d)", what, got, want, slack)
	}
}

// wantUntil fails unless got is want; an implementation may round a
// block's end up to the next millisecond (Redis stores milliseconds), never
// down.
func wantUntil(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			t.Fatalf("%s: until %v, want zero (not blocked)", what, got)
		}
		return
	}
	if got.Before(want) || !got.Before(want.Add(time.Millisecond)) {
		t.Fatalf("%s: until %v, want %v", what, got, want)
	}
}

// noPanic runs fn and turns a panic into a test failure.
func noPanic(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s panicked: %v", what, r)
		}
	}()
	fn()
}

// sliding is the documented sliding count, computed independently of any
// implementation with arbitrary precision: cur + prev*(window-elapsed)/window,
// rounded down, where elapsed is the time since the current window began
// (windows aligned on multiples of window since the Unix epoch).
func sliding(cur, prev int64, window time.Duration, now time.Time) int64 {
	w := big.NewInt(int64(window))
	elapsed := new(big.Int).Mod(big.NewInt(now.UnixNano()), w)
	x := new(big.Int).Mul(big.NewInt(prev), new(big.Int).Sub(w, elapsed))
	x.Div(x, w) // Euclidean division: rounds down for a positive divisor
	return cur + x.Int64()
}

// windowIndex returns the index of the window of length window holding t.
func windowIndex(t time.Time, window time.Duration) int64 {
	q := new(big.Int).Div(big.NewInt(t.UnixNano()), big.NewInt(int64(window)))
	return q.Int64()
}

// cancelled returns a context derived from the test's that is already
// cancelled.
func cancelled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

// describe lists ops briefly for failure messages.
func describe(ops []mamoru.CounterOp) string {
	if len(ops) > 3 {
		return fmt.Sprintf("%d ops", len(ops))
	}
	s := ""
	for i, op := range ops {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("{kind %d key %q window %v}", op.Kind, op.Key, op.Window)
	}
	return s
}
