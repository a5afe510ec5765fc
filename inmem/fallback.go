package inmem

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamoru-id/mamoru"
)

// probeInterval is how often a Fallback that is down tries its primary.
const probeInterval = time.Second

// Fallback is mamoru.Counters that sends every call to a primary, shared
// implementation (Redis) and, while that fails, answers from this
// process' own Counters, so that attack protection degrades to per-process
// counting instead of failing sign-ins. It is safe for concurrent use.
//
// A call goes to the primary. When the primary returns an error that is
// not the caller's context being done, the call is answered by the local
// Counters instead and the Fallback is down: it logs one warning, calls
// onChange(true), and sends later calls straight to the local Counters,
// except one probing call at most once a second (on the local Counters'
// clock) that tries the primary again. When a probe succeeds, the Fallback
// logs the recovery, calls onChange(false), and uses the primary again.
//
// While down, counts start from what the local Counters hold and Once is
// exactly once per process only; nothing is copied between the two when
// the state changes.
type Fallback struct {
	primary  mamoru.Counters
	local    *Counters
	log      *slog.Logger
	onChange func(down bool)

	mu        sync.Mutex   // serialises changes of state and their callbacks
	down      atomic.Bool  // the primary failed and no probe has succeeded since
	probing   atomic.Bool  // a probe is in flight
	nextProbe atomic.Int64 // when the next probe may start, Unix ns on local's clock
}

var _ mamoru.Counters = (*Fallback)(nil)

// NewFallback returns a Fallback in front of primary that answers from
// local while primary is down. log receives the changes of state (nil:
// slog.Default()). onChange, when not nil, is called with true when
// primary goes down and false when it is back, in that order, never
// concurrently; it must not call the Fallback.
func NewFallback(primary mamoru.Counters, local *Counters, log *slog.Logger, onChange func(down bool)) *Fallback {
	if log == nil {
		log = slog.Default()
	}
	if onChange == nil {
		onChange = func(bool) {}
	}
	return &Fallback{primary: primary, local: local, log: log, onChange: onChange}
}

// Down reports whether the primary is considered down (calls are answered
// by the local Counters).
func (f *Fallback) Down() bool { return f.down.Load() }

// Do implements mamoru.Counters. Invalid ops are refused before either
// implementation sees them, so a caller's mistake never reads as an
// outage.
func (f *Fallback) Do(ctx context.Context, ops []mamoru.CounterOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := mamoru.ValidateCounterOps(ops); err != nil {
		return err
	}
	if primary, probe := f.route(); primary {
		err := f.primary.Do(ctx, ops)
		if f.settle(ctx, err, probe) {
			return err
		}
	}
	return f.local.Do(ctx, ops)
}

// Once implements mamoru.Counters.
func (f *Fallback) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := mamoru.ValidateOnce(key, ttl); err != nil {
		return false, err
	}
	if primary, probe := f.route(); primary {
		ok, err := f.primary.Once(ctx, key, ttl)
		if f.settle(ctx, err, probe) {
			return ok, err
		}
	}
	return f.local.Once(ctx, key, ttl)
}

// route reports whether a call goes to the primary, and whether it is the
// probe of a Fallback that is down.
func (f *Fallback) route() (primary, probe bool) {
	if !f.down.Load() {
		return true, false
	}
	if f.local.clock.Now().UnixNano() < f.nextProbe.Load() || !f.probing.CompareAndSwap(false, true) {
		return false, false
	}
	return true, true
}

// settle takes the primary's answer to a call and reports whether it
// stands (a success, or the caller's own context error) or the local
// Counters must answer instead, changing the state accordingly.
func (f *Fallback) settle(ctx context.Context, err error, probe bool) bool {
	if probe {
		defer f.probing.Store(false)
	}
	switch {
	case err == nil:
		if probe {
			f.setUp()
		}
		return true
	case ctx.Err() != nil:
		return true
	default:
		f.setDown(err)
		return false
	}
}

// setDown records a failure of the primary: the next probe waits a
// second, and a Fallback that was up says so once.
func (f *Fallback) setDown(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextProbe.Store(f.local.clock.Now().Add(probeInterval).UnixNano())
	if f.down.Load() {
		return
	}
	f.down.Store(true)
	f.log.Warn("counters: Redis is down; this process uses its own in-memory counters until it is back (attack protection counts per process meanwhile)",
		"err", err)
	f.onChange(true)
}

// setUp records a successful probe.
func (f *Fallback) setUp() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.down.Load() {
		return
	}
	f.down.Store(false)
	f.log.Info("counters: Redis is back; using the shared counters again")
	f.onChange(false)
}
