package inmem

import (
	"time"

	"github.com/mamoru-id/mamoru"
)

// setCap is the most member hashes a set keeps. Up to it the distinct count
// is exact (up to collisions of 64-bit hashes); beyond it the set keeps
// only the hashes whose lowest level bits are zero, halving its sample
// each time it overflows, and scales the count up by 2^level (adaptive
// sampling): a relative standard error of about 1/sqrt(setCap/2), 2.2%.
const setCap = 4096

// set is the state of a distinct count: the window each sampled member
// was last added in, and how many members were last added in the current
// window (idx) and in the one before.
type set struct {
	idx       int64
	cur, prev int64
	level     uint8
	seen      map[uint64]int64
}

// estimate is the distinct count of the current and previous windows.
func (e *set) estimate() int64 {
	return (e.cur + e.prev) << e.level
}

// roll brings e to window idx, dropping the members last added more than a
// window before it. A window earlier than e's is read as e's own.
func (e *set) roll(idx int64) {
	switch {
	case idx <= e.idx:
		return
	case idx == e.idx+1:
		if e.cur == 0 {
			*e = set{idx: idx} // nothing left: count exactly again
			return
		}
		e.idx, e.prev, e.cur = idx, e.cur, 0
		before := len(e.seen)
		for h, last := range e.seen {
			if last < idx-1 {
				delete(e.seen, h)
			}
		}
		if before > 256 && len(e.seen) < before/4 {
			e.seen = rebuild(e.seen) // maps do not shrink by themselves
		}
	default:
		*e = set{idx: idx} // nothing left: count exactly again
	}
}

// add adds the member hashed to h in window e.idx.
func (e *set) add(h uint64) {
	if h&(1<<e.level-1) != 0 {
		return // not sampled
	}
	last, ok := e.seen[h]
	switch {
	case ok && last == e.idx:
		return
	case ok && last == e.idx-1:
		e.prev--
	}
	if e.seen == nil {
		e.seen = map[uint64]int64{}
	}
	e.seen[h] = e.idx
	e.cur++
	for len(e.seen) > setCap {
		e.subsample()
	}
}

// subsample halves the sampling rate: it drops the member hashes whose
// next bit is not zero and recounts the two windows.
func (e *set) subsample() {
	e.level++
	mask := uint64(1)<<e.level - 1
	e.cur, e.prev = 0, 0
	for h, last := range e.seen {
		switch {
		case h&mask != 0 || last < e.idx-1:
			delete(e.seen, h)
		case last == e.idx:
			e.cur++
		default:
			e.prev++
		}
	}
}

// addDistinct adds the member hashed to h to the set key over w at ns and
// returns the distinct count.
func (sh *shard) addDistinct(key string, w time.Duration, h uint64, ns int64) int64 {
	idx, _ := mamoru.CounterWindow(ns, w)
	e := sh.sets[windowKey{key, w}]
	if e == nil {
		if sh.sets == nil {
			sh.sets = map[windowKey]*set{}
		}
		e = &set{idx: idx}
		sh.sets[windowKey{key, w}] = e
	}
	e.roll(idx)
	e.add(h)
	return e.estimate()
}

// countDistinct returns the distinct count of the set key over w at ns.
func (sh *shard) countDistinct(key string, w time.Duration, ns int64) int64 {
	e := sh.sets[windowKey{key, w}]
	if e == nil {
		return 0
	}
	idx, _ := mamoru.CounterWindow(ns, w)
	e.roll(idx)
	return e.estimate()
}
