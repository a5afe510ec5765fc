package countertest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

var slidingTests = map[string]func(t *testing.T, s *suite){
	"SlidingArithmetic": func(t *testing.T, s *suite) {
		// The clock starts on the hour, so on a minute boundary.
		const w = time.Minute
		wantCount(t, "unknown key", s.get("k", w), 0)
		wantCount(t, "first add", s.add("k", w, 10), 10)
		s.clock.Advance(30 * time.Second)
		wantCount(t, "same window", s.get("k", w), 10)
		wantCount(t, "second add", s.add("k", w, 5), 15)
		s.clock.Advance(30 * time.Second) // next window, elapsed 0: prev counts whole
		wantCount(t, "new window, elapsed 0", s.get("k", w), 15)
		s.clock.Advance(20 * time.Second) // 15*40/60 = 10
		wantCount(t, "elapsed 20s", s.get("k", w), 10)
		wantCount(t, "add in new window", s.add("k", w, 3), 13)
		s.clock.Advance(10 * time.Second) // 3 + 15*30/60 = 3 + 7.5
		wantCount(t, "elapsed 30s (7.5 rounds down)", s.get("k", w), 10)
		s.clock.Advance(29*time.Second + 999*time.Millisecond) // 3 + 15*0.001/60
		wantCount(t, "last millisecond of the window", s.get("k", w), 3)
		s.clock.Advance(time.Millisecond) // next window: cur 0, prev 3
		wantCount(t, "next window, elapsed 0", s.get("k", w), 3)
		s.clock.Advance(45 * time.Second) // 3*15/60 = 0.75
		wantCount(t, "next window, elapsed 45s", s.get("k", w), 0)
		s.clock.Advance(2 * w)
		wantCount(t, "two windows later", s.get("k", w), 0)
		wantCount(t, "other key untouched", s.get("k2", w), 0)
	},
	"SlidingModel": func(t *testing.T, s *suite) {
		// Random adds, reads and clock moves on windows of uneven lengths,
		// compared with the formula computed from a log of the adds.
		type add struct {
			at time.Time
			n  int64
		}
		windows := []time.Duration{time.Second, 1500 * time.Millisecond, 7 * time.Second, time.Minute}
		keys := []string{"a", "b", "c"}
		log := map[string][]add{}
		model := func(key string, w time.Duration) int64 {
			now := s.now()
			idx := windowIndex(now, w)
			var cur, prev int64
			for _, a := range log[fmt.Sprint(key, w)] {
				switch windowIndex(a.at, w) {
				case idx:
					cur += a.n
				case idx - 1:
					prev += a.n
				}
			}
			return sliding(cur, prev, w, now)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for step := range 400 {
			key, w := keys[r.IntN(len(keys))], windows[r.IntN(len(windows))]
			what := fmt.Sprintf("step %d, key %q, window %v, %v into the test", step, key, w,
				s.now().Sub(s.now().Truncate(time.Hour)))
			switch r.IntN(3) {
			case 0:
				s.clock.Advance(time.Duration(r.Int64N(int64(w))) * 7 / 10)
			case 1:
				n := 1 + r.Int64N(9)
				log[fmt.Sprint(key, w)] = append(log[fmt.Sprint(key, w)], add{s.now(), n})
				wantCount(t, what+": add", s.add(key, w, n), model(key, w))
			case 2:
				wantCount(t, what+": get", s.get(key, w), model(key, w))
			}
		}
	},
	"LargeCounts": func(t *testing.T, s *suite) {
		// prev*(window-elapsed) overflows 64 bits here; the count must not.
		const w = 24 * time.Hour
		const n = int64(1) << 50
		start := s.now()
		wantCount(t, "add", s.add("big", w, n), n)
		s.clock.Advance(w + 5*time.Hour + 7*time.Millisecond)
		idx := windowIndex(s.now(), w)
		var cur, prev int64
		switch windowIndex(start, w) {
		case idx:
			cur = n
		case idx - 1:
			prev = n
		}
		wantCount(t, "a day later", s.get("big", w), sliding(cur, prev, w, s.now()))
	},
	"WindowsIndependent": func(t *testing.T, s *suite) {
		s.add("k", time.Minute, 1)
		s.add("k", time.Hour, 100)
		s.add("k", 90*time.Second, 20)
		ops := s.do(
			mamoru.CounterOp{Kind: mamoru.CounterGet, Key: "k", Window: time.Minute},
			mamoru.CounterOp{Kind: mamoru.CounterGet, Key: "k", Window: time.Hour},
			mamoru.CounterOp{Kind: mamoru.CounterGet, Key: "k", Window: 90 * time.Second},
			mamoru.CounterOp{Kind: mamoru.CounterGet, Key: "k", Window: 2 * time.Minute},
		)
		wantCount(t, "1m window", ops[0].Count, 1)
		wantCount(t, "1h window", ops[1].Count, 100)
		wantCount(t, "90s window", ops[2].Count, 20)
		wantCount(t, "2m window, never added to", ops[3].Count, 0)
		s.clock.Advance(2 * time.Minute)
		wantCount(t, "1m window, two windows later", s.get("k", time.Minute), 0)
		wantCount(t, "1h window, two minutes later", s.get("k", time.Hour), 100)
	},
	"KeysVerbatim": func(t *testing.T, s *suite) {
		// Keys that look like separators, patterns or another key's
		// window suffix must not collide.
		w := time.Minute
		idx := fmt.Sprint(windowIndex(s.now(), w))
		keys := []string{"a", "a:60000", "a:60000:" + idx, "a:1m0s:" + idx, ":", "::", "{a}", "a*", "a?", "[a]",
			"a b", "ключ", "鍵", "a\x00b", "a\n", "a:hll", "a:block", "a:once", "A"}
		for i, k := range keys {
			s.add(k, w, int64(i+1))
		}
		for i, k := range keys {
			wantCount(t, fmt.Sprintf("key %q", k), s.get(k, w), int64(i+1))
		}
	},
	"LongWindows": func(t *testing.T, s *suite) {
		// Windows of a century and more: no overflow in TTLs or weights.
		for _, w := range []time.Duration{100 * 365 * 24 * time.Hour, 250 * 365 * 24 * time.Hour, time.Duration(1<<63 - 1)} {
			wantCount(t, fmt.Sprint("add, window ", w), s.add("k", w, 5), 5)
			wantCount(t, fmt.Sprint("get, window ", w), s.get("k", w), 5)
			wantDistinct(t, fmt.Sprint("add distinct, window ", w), s.addDistinct("k", w, "m"), 1)
		}
	},
	"AddZeroAndNegative": func(t *testing.T, s *suite) {
		const w = time.Minute
		wantCount(t, "add 5", s.add("k", w, 5), 5)
		wantCount(t, "add 0 reads", s.add("k", w, 0), 5)
		wantCount(t, "add -2", s.add("k", w, -2), 3)
	},
}
