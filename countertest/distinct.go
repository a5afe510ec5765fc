package countertest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

var distinctTests = map[string]func(t *testing.T, s *suite){
	"DistinctTwoWindows": func(t *testing.T, s *suite) {
		const w = time.Minute // the clock starts on a minute boundary
		wantDistinct(t, "unknown key", s.countDistinct("d", w), 0)
		wantDistinct(t, "add a", s.addDistinct("d", w, "a"), 1)
		wantDistinct(t, "add b", s.addDistinct("d", w, "b"), 2)
		wantDistinct(t, "add a again", s.addDistinct("d", w, "a"), 2)
		wantDistinct(t, "add the empty member", s.addDistinct("d", w, ""), 3)
		wantDistinct(t, "count", s.countDistinct("d", w), 3)
		s.clock.Advance(w + 10*time.Second) // previous window still counts, unweighted
		wantDistinct(t, "next window", s.countDistinct("d", w), 3)
		wantDistinct(t, "add c", s.addDistinct("d", w, "c"), 4)
		wantDistinct(t, "add a, seen last window", s.addDistinct("d", w, "a"), 4)
		s.clock.Advance(w) // only the window in which a and c were added is left
		wantDistinct(t, "a window later", s.countDistinct("d", w), 2)
		wantDistinct(t, "add c again", s.addDistinct("d", w, "c"), 2)
		s.clock.Advance(w)
		wantDistinct(t, "two windows after a: c alone", s.countDistinct("d", w), 1)
		s.clock.Advance(w)
		wantDistinct(t, "two windows after the last add", s.countDistinct("d", w), 0)
		wantDistinct(t, "add b afresh", s.addDistinct("d", w, "b"), 1)
	},
	"DistinctLarge": func(t *testing.T, s *suite) {
		const w = time.Hour
		add := func(from, to int) int64 {
			var ops []mamoru.CounterOp
			for i := from; i < to; i++ {
				ops = append(ops, mamoru.CounterOp{Kind: mamoru.CounterAddDistinct, Key: "big", Window: w,
					Member: fmt.Sprintf("account-%d", i)})
			}
			ops = s.do(ops...)
			return ops[len(ops)-1].Count
		}
		wantDistinct(t, "1000 members", add(0, 1000), 1000)
		wantDistinct(t, "the same 1000 again", add(0, 1000), 1000)
		s.clock.Advance(w)
		wantDistinct(t, "next window", s.countDistinct("big", w), 1000)
		wantDistinct(t, "500 old and 500 new members", add(500, 1500), 1500)
		s.clock.Advance(w)
		wantDistinct(t, "a window later", s.countDistinct("big", w), 1000)
		s.clock.Advance(w)
		wantDistinct(t, "two windows later", s.countDistinct("big", w), 0)
	},
	"DistinctWindowsIndependent": func(t *testing.T, s *suite) {
		s.addDistinct("d", time.Minute, "a")
		s.addDistinct("d", time.Hour, "a")
		s.addDistinct("d", time.Hour, "b")
		s.addDistinct("e", time.Hour, "c")
		wantDistinct(t, "1m window", s.countDistinct("d", time.Minute), 1)
		wantDistinct(t, "1h window", s.countDistinct("d", time.Hour), 2)
		wantDistinct(t, "other key", s.countDistinct("e", time.Hour), 1)
		s.clock.Advance(2 * time.Minute)
		wantDistinct(t, "1m window, two windows later", s.countDistinct("d", time.Minute), 0)
		wantDistinct(t, "1h window, two minutes later", s.countDistinct("d", time.Hour), 2)
	},
	"DistinctConcurrent": func(t *testing.T, s *suite) {
		// 20 goroutines on two instances add overlapping members.
		other := s.open()
		var wg sync.WaitGroup
		for g := range 20 {
			c := s.c
			if g%2 == 1 {
				c = other
			}
			wg.Go(func() {
				for i := range 30 {
					op := []mamoru.CounterOp{{Kind: mamoru.CounterAddDistinct, Key: "d", Window: time.Hour,
						Member: fmt.Sprint("m", (3*g+i)%50)}}
					if err := c.Do(t.Context(), op); err != nil {
						t.Errorf("Do: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		wantDistinct(t, "after concurrent adds", s.countDistinct("d", time.Hour), 50)
	},
}
