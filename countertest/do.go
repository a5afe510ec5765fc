package countertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

var doTests = map[string]func(t *testing.T, s *suite){
	"EmptyDo": func(t *testing.T, s *suite) {
		s.do()
		if err := s.c.Do(t.Context(), nil); err != nil {
			t.Fatalf("Do(nil): %v", err)
		}
	},
	"ManyOpsInOneDo": func(t *testing.T, s *suite) {
		const w = time.Minute
		now := s.now()
		var ops []mamoru.CounterOp
		for i := range 100 {
			ops = append(ops,
				mamoru.CounterOp{Kind: mamoru.CounterAdd, Key: fmt.Sprint("k", i%10), Window: w, N: int64(i)},
				mamoru.CounterOp{Kind: mamoru.CounterGet, Key: fmt.Sprint("k", (i+1)%10), Window: w},
				mamoru.CounterOp{Kind: mamoru.CounterAddDistinct, Key: "d", Window: w, Member: fmt.Sprint("m", i%37)},
				mamoru.CounterOp{Kind: mamoru.CounterCountDistinct, Key: "d", Window: w},
				mamoru.CounterOp{Kind: mamoru.CounterBlock, Key: fmt.Sprint("b", i%5), Until: now.Add(time.Duration(i) * time.Minute)},
				mamoru.CounterOp{Kind: mamoru.CounterBlocked, Key: fmt.Sprint("b", (i+1)%5)},
			)
		}
		s.do(ops...)
		sums := map[string]int64{}
		ends := map[string]time.Time{}
		for i := range 100 {
			op := ops[6*i:]
			k, next := fmt.Sprint("k", i%10), fmt.Sprint("k", (i+1)%10)
			sums[k] += int64(i)
			wantCount(t, fmt.Sprintf("op %d: add %s", 6*i, k), op[0].Count, sums[k])
			wantCount(t, fmt.Sprintf("op %d: get %s", 6*i+1, next), op[1].Count, sums[next])
			distinct := int64(min(i+1, 37))
			wantDistinct(t, fmt.Sprintf("op %d: add distinct", 6*i+2), op[2].Count, distinct)
			wantDistinct(t, fmt.Sprintf("op %d: count distinct", 6*i+3), op[3].Count, distinct)
			b, nextB := fmt.Sprint("b", i%5), fmt.Sprint("b", (i+1)%5)
			if until := now.Add(time.Duration(i) * time.Minute); i > 0 && until.After(ends[b]) {
				ends[b] = until
			}
			wantUntil(t, fmt.Sprintf("op %d: block %s", 6*i+4, b), op[4].Until, ends[b])
			wantUntil(t, fmt.Sprintf("op %d: blocked %s", 6*i+5, nextB), op[5].Until, ends[nextB])
		}
	},
	"KindsIndependent": func(t *testing.T, s *suite) {
		// A count, a set, a block and a Once mark under one key name are
		// four separate things.
		const w = time.Minute
		now := s.now()
		ops := s.do(
			mamoru.CounterOp{Kind: mamoru.CounterAdd, Key: "k", Window: w, N: 7},
			mamoru.CounterOp{Kind: mamoru.CounterAddDistinct, Key: "k", Window: w, Member: "a"},
			mamoru.CounterOp{Kind: mamoru.CounterBlock, Key: "k", Until: now.Add(time.Hour)},
			mamoru.CounterOp{Kind: mamoru.CounterGet, Key: "k", Window: w},
			mamoru.CounterOp{Kind: mamoru.CounterCountDistinct, Key: "k", Window: w},
			mamoru.CounterOp{Kind: mamoru.CounterBlocked, Key: "k"},
		)
		wantCount(t, "add", ops[0].Count, 7)
		wantDistinct(t, "add distinct", ops[1].Count, 1)
		wantUntil(t, "block", ops[2].Until, now.Add(time.Hour))
		wantCount(t, "get", ops[3].Count, 7)
		wantDistinct(t, "count distinct", ops[4].Count, 1)
		wantUntil(t, "blocked", ops[5].Until, now.Add(time.Hour))
		if !once(t, s.c, "k", time.Minute) {
			t.Fatal("Once on a key with a count, a set and a block: false, want true")
		}
		wantCount(t, "get after Once", s.get("k", w), 7)
	},
	"ConcurrentAdds": func(t *testing.T, s *suite) {
		// 32 goroutines over two instances: every add counts, and the
		// count each add returns is never more than the total.
		const w = time.Hour
		const goroutines, adds = 32, 50
		instances := []mamoru.Counters{s.c, s.open()}
		var wg sync.WaitGroup
		for g := range goroutines {
			c := instances[g%2]
			wg.Go(func() {
				for i := range adds {
					ops := []mamoru.CounterOp{
						{Kind: mamoru.CounterAdd, Key: "shared", Window: w, N: 1},
						{Kind: mamoru.CounterAdd, Key: fmt.Sprint("own", g), Window: w, N: 2},
					}
					if err := c.Do(t.Context(), ops); err != nil {
						t.Errorf("Do: %v", err)
						return
					}
					if ops[0].Count < 1 || ops[0].Count > goroutines*adds {
						t.Errorf("shared count %d out of range", ops[0].Count)
					}
					if ops[1].Count != int64(2*(i+1)) {
						t.Errorf("goroutine %d add %d: own count %d, want %d", g, i, ops[1].Count, 2*(i+1))
					}
				}
			})
		}
		wg.Wait()
		wantCount(t, "shared", s.get("shared", w), goroutines*adds)
		for g := range goroutines {
			wantCount(t, fmt.Sprint("own", g), s.get(fmt.Sprint("own", g), w), 2*adds)
		}
	},
	"InvalidInput": func(t *testing.T, s *suite) {
		now := s.now()
		valid := mamoru.CounterOp{Kind: mamoru.CounterAdd, Key: "ok", Window: time.Minute, N: 1}
		bad := map[string]mamoru.CounterOp{
			"zero window":               {Kind: mamoru.CounterAdd, Key: "k", N: 1},
			"negative window":           {Kind: mamoru.CounterGet, Key: "k", Window: -time.Minute},
			"distinct, zero window":     {Kind: mamoru.CounterAddDistinct, Key: "k", Member: "m"},
			"count distinct, no window": {Kind: mamoru.CounterCountDistinct, Key: "k", Window: -1},
			"zero kind":                 {Key: "k", Window: time.Minute},
			"unknown kind":              {Kind: 99, Key: "k", Window: time.Minute},
			"empty key, add":            {Kind: mamoru.CounterAdd, Window: time.Minute, N: 1},
			"empty key, get":            {Kind: mamoru.CounterGet, Window: time.Minute},
			"empty key, add distinct":   {Kind: mamoru.CounterAddDistinct, Window: time.Minute, Member: "m"},
			"empty key, count distinct": {Kind: mamoru.CounterCountDistinct, Window: time.Minute},
			"empty key, block":          {Kind: mamoru.CounterBlock, Until: now.Add(time.Hour)},
			"empty key, blocked":        {Kind: mamoru.CounterBlocked},
		}
		for what, op := range bad {
			noPanic(t, what, func() {
				if err := s.c.Do(t.Context(), []mamoru.CounterOp{op}); err == nil {
					t.Errorf("Do(%s): no error", what)
				}
				if err := s.c.Do(t.Context(), []mamoru.CounterOp{valid, op}); err == nil {
					t.Errorf("Do(valid, %s): no error", what)
				}
			})
		}
		for what, call := range map[string]struct {
			key string
			ttl time.Duration
		}{"empty key": {"", time.Minute}, "zero ttl": {"k", 0}, "negative ttl": {"k", -time.Second}} {
			noPanic(t, "Once, "+what, func() {
				if _, err := s.c.Once(t.Context(), call.key, call.ttl); err == nil {
					t.Errorf("Once(%s): no error", what)
				}
			})
		}
		// Nothing above marked k.
		if !once(t, s.c, "k", time.Minute) {
			t.Fatal("Once after the invalid calls: false, want true")
		}
	},
	"ContextDone": func(t *testing.T, s *suite) {
		expired, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
		defer cancel()
		for what, ctx := range map[string]context.Context{"cancelled": cancelled(t), "past deadline": expired} {
			ops := []mamoru.CounterOp{{Kind: mamoru.CounterAdd, Key: "k", Window: time.Minute, N: 1}}
			if err := s.c.Do(ctx, ops); err == nil || !errors.Is(err, ctx.Err()) {
				t.Errorf("Do with a %s context: %v, want %v", what, err, ctx.Err())
			}
			if _, err := s.c.Once(ctx, "k", time.Minute); err == nil || !errors.Is(err, ctx.Err()) {
				t.Errorf("Once with a %s context: %v, want %v", what, err, ctx.Err())
			}
		}
		if !once(t, s.c, "k", time.Minute) {
			t.Fatal("Once after the calls with a done context: false, want true")
		}
	},
}
