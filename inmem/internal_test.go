package inmem

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// size counts every entry of c.
func (c *Counters) size() int {
	n := 0
	for i := range c.shards {
		c.shards[i].mu.Lock()
		n += c.shards[i].size()
		c.shards[i].mu.Unlock()
	}
	return n
}

// TestMemoryBounded churns through keys, each used for a moment and never
// again, and checks that what is held stays within the documented bound:
// twice the entries still alive plus sweepMin per shard.
func TestMemoryBounded(t *testing.T) {
	clock := mamoru.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	c := New(clock)
	const w = time.Minute
	const perWindow = 5000
	ops := make([]mamoru.CounterOp, 4)
	for window := range 6 {
		for i := range perWindow {
			key := fmt.Sprint(window, "/", i)
			ops[0] = mamoru.CounterOp{Kind: mamoru.CounterAdd, Key: key, Window: w, N: 1}
			ops[1] = mamoru.CounterOp{Kind: mamoru.CounterAddDistinct, Key: key, Window: w, Member: "m"}
			ops[2] = mamoru.CounterOp{Kind: mamoru.CounterBlock, Key: key, Until: clock.Now().Add(w)}
			ops[3] = mamoru.CounterOp{Kind: mamoru.CounterGet, Key: key, Window: w}
			if err := c.Do(t.Context(), ops); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Once(t.Context(), key, w); err != nil {
				t.Fatal(err)
			}
		}
		// Alive: the entries of this window and the last (5 per key of
		// each, blocks and marks included, as they last one window).
		alive := 2 * 4 * perWindow
		if n, bound := c.size(), 2*alive+shardCount*sweepMin; n > bound {
			t.Fatalf("window %d: %d entries held, bound %d", window, n, bound)
		}
		clock.Advance(w)
	}
	// Then traffic on a few keys only: the maps shrink back.
	clock.Advance(3 * w)
	for i := range 100000 {
		if i%500 == 0 {
			clock.Advance(sweepEvery) // 200 sweeps in turn: every shard thrice
		}
		op := []mamoru.CounterOp{{Kind: mamoru.CounterAdd, Key: fmt.Sprint("hot", i%100), Window: w, N: 1}}
		if err := c.Do(t.Context(), op); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.size(); n > 100+shardCount*sweepMin {
		t.Fatalf("after the churn: %d entries held, want about 100", n)
	}
	for i := range c.shards {
		if sh := &c.shards[i]; sh.peak > 4*sweepMin {
			t.Errorf("shard %d: peak %d after shrinking to %d entries: maps not rebuilt", i, sh.peak, sh.size())
		}
	}
}

// TestDistinctExactToCap checks that counts up to setCap are exact.
func TestDistinctExactToCap(t *testing.T) {
	clock := mamoru.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	c := New(clock)
	for i := range setCap {
		op := []mamoru.CounterOp{{Kind: mamoru.CounterAddDistinct, Key: "k", Window: time.Hour, Member: fmt.Sprint(i)}}
		if err := c.Do(t.Context(), op); err != nil {
			t.Fatal(err)
		}
		if op[0].Count != int64(i+1) {
			t.Fatalf("after %d members: count %d", i+1, op[0].Count)
		}
	}
}

// TestDistinctOverCap checks the estimate beyond setCap over two windows.
// The seed is random, so the tolerance is wide: 8% is 3.6 standard errors.
func TestDistinctOverCap(t *testing.T) {
	clock := mamoru.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	c := New(clock)
	const w = time.Hour
	add := func(from, to int) int64 {
		var n int64
		for i := from; i < to; i++ {
			op := []mamoru.CounterOp{{Kind: mamoru.CounterAddDistinct, Key: "k", Window: w, Member: fmt.Sprint("member-", i)}}
			if err := c.Do(t.Context(), op); err != nil {
				t.Fatal(err)
			}
			n = op[0].Count
		}
		return n
	}
	check := func(what string, got, want int64) {
		t.Helper()
		if math.Abs(float64(got-want)) > 0.08*float64(want) {
			t.Errorf("%s: estimate %d, want %d ±8%%", what, got, want)
		} else {
			t.Logf("%s: estimate %d, want %d (%+.2f%%)", what, got, want, 100*float64(got-want)/float64(want))
		}
	}
	check("50000 members", add(0, 50000), 50000)
	check("the same again", add(0, 50000), 50000)
	clock.Advance(w)
	check("25000 old and 25000 new in the next window", add(25000, 75000), 75000)
	clock.Advance(w)
	op := []mamoru.CounterOp{{Kind: mamoru.CounterCountDistinct, Key: "k", Window: w}}
	if err := c.Do(t.Context(), op); err != nil {
		t.Fatal(err)
	}
	check("a window later", op[0].Count, 50000)
	clock.Advance(w)
	if err := c.Do(t.Context(), op); err != nil || op[0].Count != 0 {
		t.Fatalf("two windows later: %d, %v; want 0", op[0].Count, err)
	}
	if n := add(0, 10); n != 10 {
		t.Fatalf("after expiry: %d members counted, want 10 (exact again)", n)
	}
}
