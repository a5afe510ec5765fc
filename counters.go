package mamoru

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"time"
)

// Counters counts what attack protection watches (failures per network,
// distinct accounts per password, ...) in sliding windows, and keeps
// short-lived marks and blocks. In memory it serves one process (package
// inmem); in Redis it is shared by every instance (package redis). Both
// pass the suite in package countertest.
//
// Keys are chosen by the caller and must not contain secrets in the clear
// (hash identifiers and passwords with a keyed hash first). A key's count,
// set, block and Once mark are four separate things, as are its counts
// over different window lengths. Windows are aligned on multiples of the
// window length since the Unix epoch, taken from the implementation's
// Clock.
type Counters interface {
	// Do runs ops in order, in one round trip where the implementation
	// allows, and fills each op's result fields. On error no result is
	// meaningful (and some ops may have been applied).
	Do(ctx context.Context, ops []CounterOp) error
	// Once marks key as seen for ttl and reports whether it was unseen
	// (true exactly once per ttl, across every instance): single-use
	// tokens, "tell the owner once".
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// CounterOpKind says what a CounterOp does.
type CounterOpKind uint8

// The kinds of CounterOp.
const (
	// CounterAdd adds N (which may be zero or negative) to Key's count;
	// Count is the sliding count after the add.
	CounterAdd CounterOpKind = iota + 1
	// CounterGet reads Key's sliding count into Count.
	CounterGet
	// CounterAddDistinct adds Member to the set Key; Count is the number
	// of distinct members added during the current and the previous
	// window (so between one and two windows back). Implementations may
	// approximate large counts (HyperLogLog: about ±2%).
	CounterAddDistinct
	// CounterCountDistinct reads that number into Count.
	CounterCountDistinct
	// CounterBlock blocks Key until Until (it never shortens an existing
	// block, and an Until not after the current time changes nothing);
	// Until is set to the end of the block in force afterwards, zero if
	// none. Implementations may round ends up to the millisecond.
	CounterBlock
	// CounterBlocked reads the end of Key's block into Until (zero when
	// Key is not blocked at the implementation's current time).
	CounterBlocked
)

// CounterOp is one operation of Counters.Do.
//
// The sliding count of a key is the count of the current window plus the
// previous window's count weighted by the part of the previous window
// that the sliding window still covers, rounded down:
//
//	count = cur + prev*(window - elapsed)/window
//
// where elapsed is the time since the current window began.
type CounterOp struct {
	Kind   CounterOpKind
	Key    string
	Member string        // CounterAddDistinct
	N      int64         // CounterAdd
	Window time.Duration // the counting kinds; must be > 0
	Until  time.Time     // CounterBlock (in and out), CounterBlocked (out)
	Count  int64         // out
}

// ValidateCounterOps reports the first invalid op: an unknown kind, an
// empty key, or a window that is not positive for a counting kind. Every
// implementation checks ops with it before applying any.
func ValidateCounterOps(ops []CounterOp) error {
	for i := range ops {
		op := &ops[i]
		switch op.Kind {
		case CounterAdd, CounterGet, CounterAddDistinct, CounterCountDistinct:
			if op.Window <= 0 {
				return fmt.Errorf("counters: op %d (kind %d, key %q): window %v, must be > 0", i, op.Kind, op.Key, op.Window)
			}
		case CounterBlock, CounterBlocked:
		default:
			return fmt.Errorf("counters: op %d (key %q): unknown kind %d", i, op.Key, op.Kind)
		}
		if op.Key == "" {
			return fmt.Errorf("counters: op %d (kind %d): empty key", i, op.Kind)
		}
	}
	return nil
}

// ValidateOnce reports an empty key or a ttl that is not positive.
func ValidateOnce(key string, ttl time.Duration) error {
	if key == "" {
		return errors.New("counters: Once: empty key")
	}
	if ttl <= 0 {
		return fmt.Errorf("counters: Once %q: ttl %v, must be > 0", key, ttl)
	}
	return nil
}

// CounterWindow returns the index of the window of length w that holds
// the Unix time ns (nanoseconds), and how far into it ns is.
func CounterWindow(ns int64, w time.Duration) (idx, elapsed int64) {
	idx, elapsed = ns/int64(w), ns%int64(w)
	if elapsed < 0 { // before 1970: round toward minus infinity
		idx, elapsed = idx-1, elapsed+int64(w)
	}
	return idx, elapsed
}

// SlidingCount is the sliding count of CounterOp: cur + prev*(w-elapsed)/w
// rounded down, without overflowing in the product.
func SlidingCount(cur, prev int64, w time.Duration, elapsed int64) int64 {
	if prev == 0 {
		return cur
	}
	neg := prev < 0
	p := uint64(prev)
	if neg {
		p = -p
	}
	hi, lo := bits.Mul64(p, uint64(int64(w)-elapsed))
	q, r := bits.Div64(hi, lo, uint64(w)) // q <= p: no overflow
	if neg {
		if r != 0 {
			q++ // toward minus infinity
		}
		return cur - int64(q)
	}
	return cur + int64(q)
}
