package inmem

import (
	"context"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamoru-id/mamoru"
)

const (
	// shardCount is the number of shards; a key's shard is chosen by its
	// hash. A power of two.
	shardCount = 64
	// sweepMin is the fewest operations on a shard between two sweeps of
	// it: a shard sweeps once it has seen max(sweepMin, entries it kept at
	// its last sweep) operations, so a sweep costs O(1) per operation.
	sweepMin = 256
	// sweepEvery is how often, while there is traffic, one more shard is
	// swept in turn whatever its own traffic, so that every shard is swept
	// within shardCount*sweepEvery (16 s) even when its keys went quiet.
	sweepEvery = 250 * time.Millisecond
)

// Counters is mamoru.Counters in the memory of one process. Its zero value
// is not usable; call New. It is safe for concurrent use.
type Counters struct {
	clock     mamoru.Clock
	seed      maphash.Seed
	nextSweep atomic.Int64  // when the next shard is swept in turn, Unix ns
	turn      atomic.Uint32 // the shard swept last in turn
	shards    [shardCount]shard
}

var _ mamoru.Counters = (*Counters)(nil)

// New returns empty Counters that read the time from clock.
func New(clock mamoru.Clock) *Counters {
	return &Counters{clock: clock, seed: maphash.MakeSeed()}
}

// shard holds the entries of the keys that hash to it, under one mutex.
type shard struct {
	mu     sync.Mutex
	counts map[windowKey]*count
	sets   map[windowKey]*set
	blocks map[string]time.Time // the end of each block
	marks  map[string]int64     // Once: when each mark expires, Unix ns
	ops    int                  // operations since the last sweep
	kept   int                  // entries kept by the last sweep
	peak   int                  // most entries seen at a sweep since the maps were made
	_      [64]byte             // keeps two shards' mutexes off one cache line
}

// windowKey names a count or a set: the same key over another window
// length is another entry.
type windowKey struct {
	key    string
	window time.Duration
}

// count is the state of a sliding count: the counts of window idx and of
// the window before it.
type count struct {
	idx       int64
	cur, prev int64
}

// Do implements mamoru.Counters. It validates every op before applying
// any.
func (c *Counters) Do(ctx context.Context, ops []mamoru.CounterOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := mamoru.ValidateCounterOps(ops); err != nil {
		return err
	}
	now := c.clock.Now()
	c.apply(now, ops)
	return nil
}

// apply runs valid ops at now.
func (c *Counters) apply(now time.Time, ops []mamoru.CounterOp) {
	ns := now.UnixNano()
	for i := range ops {
		op := &ops[i]
		sh := &c.shards[maphash.String(c.seed, op.Key)&(shardCount-1)]
		sh.mu.Lock()
		switch op.Kind {
		case mamoru.CounterAdd:
			op.Count = sh.add(op.Key, op.Window, op.N, ns)
		case mamoru.CounterGet:
			op.Count = sh.get(op.Key, op.Window, ns)
		case mamoru.CounterAddDistinct:
			op.Count = sh.addDistinct(op.Key, op.Window, maphash.String(c.seed, op.Member), ns)
		case mamoru.CounterCountDistinct:
			op.Count = sh.countDistinct(op.Key, op.Window, ns)
		case mamoru.CounterBlock:
			op.Until = sh.block(op.Key, op.Until, now)
		case mamoru.CounterBlocked:
			op.Until = sh.blocked(op.Key, now)
		}
		sh.tick(now)
		sh.mu.Unlock()
	}
	c.sweepInTurn(now)
}

// sweepInTurn sweeps the next shard in turn if sweepEvery has passed since
// the last such sweep.
func (c *Counters) sweepInTurn(now time.Time) {
	ns, next := now.UnixNano(), c.nextSweep.Load()
	if ns < next || !c.nextSweep.CompareAndSwap(next, ns+int64(sweepEvery)) {
		return
	}
	sh := &c.shards[c.turn.Add(1)%shardCount]
	sh.mu.Lock()
	sh.sweep(now)
	sh.mu.Unlock()
}

// Once implements mamoru.Counters.
func (c *Counters) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := mamoru.ValidateOnce(key, ttl); err != nil {
		return false, err
	}
	now := c.clock.Now()
	ns := now.UnixNano()
	sh := &c.shards[maphash.String(c.seed, key)&(shardCount-1)]
	sh.mu.Lock()
	first := sh.mark(key, ttl, ns)
	sh.tick(now)
	sh.mu.Unlock()
	c.sweepInTurn(now)
	return first, nil
}

// mark marks key until ttl after ns unless it is marked at ns, and reports
// whether it was not.
func (sh *shard) mark(key string, ttl time.Duration, ns int64) bool {
	if exp, ok := sh.marks[key]; ok && exp > ns {
		return false
	}
	if sh.marks == nil {
		sh.marks = map[string]int64{}
	}
	exp := ns + int64(ttl)
	if exp < ns { // overflow: a ttl past the year 2262
		exp = math.MaxInt64
	}
	sh.marks[key] = exp
	return true
}

// roll brings e to window idx. A window earlier than e's (a clock moved
// back) is read as e's own.
func (e *count) roll(idx int64) {
	switch {
	case idx <= e.idx:
	case idx == e.idx+1:
		e.idx, e.prev, e.cur = idx, e.cur, 0
	default:
		e.idx, e.prev, e.cur = idx, 0, 0
	}
}

// add adds n to key's count over w at ns and returns the sliding count.
func (sh *shard) add(key string, w time.Duration, n, ns int64) int64 {
	idx, elapsed := mamoru.CounterWindow(ns, w)
	e := sh.counts[windowKey{key, w}]
	if e == nil {
		if sh.counts == nil {
			sh.counts = map[windowKey]*count{}
		}
		e = &count{idx: idx}
		sh.counts[windowKey{key, w}] = e
	}
	e.roll(idx)
	e.cur += n
	return mamoru.SlidingCount(e.cur, e.prev, w, elapsed)
}

// get returns key's sliding count over w at ns.
func (sh *shard) get(key string, w time.Duration, ns int64) int64 {
	e := sh.counts[windowKey{key, w}]
	if e == nil {
		return 0
	}
	idx, elapsed := mamoru.CounterWindow(ns, w)
	e.roll(idx)
	return mamoru.SlidingCount(e.cur, e.prev, w, elapsed)
}

// block extends key's block to until, unless until has passed at now, and
// returns the end of the block in force (zero if none).
func (sh *shard) block(key string, until, now time.Time) time.Time {
	end := sh.blocked(key, now)
	if !until.After(now) || !until.After(end) {
		return end
	}
	if sh.blocks == nil {
		sh.blocks = map[string]time.Time{}
	}
	sh.blocks[key] = until
	return until
}

// blocked returns the end of key's block at now, zero if none.
func (sh *shard) blocked(key string, now time.Time) time.Time {
	end, ok := sh.blocks[key]
	if !ok {
		return time.Time{}
	}
	if !end.After(now) {
		delete(sh.blocks, key)
		return time.Time{}
	}
	return end
}

// tick counts an operation on the shard and sweeps it when due.
func (sh *shard) tick(now time.Time) {
	sh.ops++
	if sh.ops >= max(sweepMin, sh.kept) {
		sh.sweep(now)
	}
}

// sweep drops every entry that can no longer matter at now: counts and
// sets untouched for two windows, ended blocks, expired marks. Maps do not
// shrink when entries are deleted, so when a sweep keeps less than a
// quarter of the most entries the shard has held, it copies them to new
// maps and lets the old ones go.
func (sh *shard) sweep(now time.Time) {
	sh.peak = max(sh.peak, sh.size())
	ns := now.UnixNano()
	for k, e := range sh.counts {
		if idx, _ := mamoru.CounterWindow(ns, k.window); idx > e.idx+1 {
			delete(sh.counts, k)
		}
	}
	for k, e := range sh.sets {
		if idx, _ := mamoru.CounterWindow(ns, k.window); idx > e.idx+1 {
			delete(sh.sets, k)
		}
	}
	for k, end := range sh.blocks {
		if !end.After(now) {
			delete(sh.blocks, k)
		}
	}
	for k, exp := range sh.marks {
		if exp <= ns {
			delete(sh.marks, k)
		}
	}
	sh.ops = 0
	sh.kept = sh.size()
	if sh.peak > 4*sweepMin && sh.kept < sh.peak/4 {
		sh.counts = rebuild(sh.counts)
		sh.sets = rebuild(sh.sets)
		sh.blocks = rebuild(sh.blocks)
		sh.marks = rebuild(sh.marks)
		sh.peak = sh.kept
	}
}

// size is the number of entries in the shard.
func (sh *shard) size() int {
	return len(sh.counts) + len(sh.sets) + len(sh.blocks) + len(sh.marks)
}

// rebuild returns a new map, sized to fit, with the entries of m (nil when
// m is empty).
func rebuild[K comparable, V any](m map[K]V) map[K]V {
	if len(m) == 0 {
		return nil
	}
	n := make(map[K]V, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n
}
