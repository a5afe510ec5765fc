package inmem_test

import (
	"sync"
	"testing"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/countertest"
	"github.com/mamoru-id/mamoru/inmem"
)

// perTest returns a countertest factory that makes one value per test:
// in one process, "every instance" of Counters is that value.
func perTest(make func(clock *mamoru.FakeClock) mamoru.Counters) func(*testing.T, *mamoru.FakeClock) mamoru.Counters {
	var mu sync.Mutex
	made := map[*testing.T]mamoru.Counters{}
	return func(t *testing.T, clock *mamoru.FakeClock) mamoru.Counters {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := made[t]; ok {
			return c
		}
		c := make(clock)
		made[t] = c
		t.Cleanup(func() {
			mu.Lock()
			delete(made, t)
			mu.Unlock()
		})
		return c
	}
}

func TestCounters(t *testing.T) {
	countertest.Run(t, perTest(func(clock *mamoru.FakeClock) mamoru.Counters {
		return inmem.New(clock)
	}))
}

// TestFallbackConformance runs the suite on a Fallback whose primary never
// fails: it must be indistinguishable from the primary.
func TestFallbackConformance(t *testing.T) {
	countertest.Run(t, perTest(func(clock *mamoru.FakeClock) mamoru.Counters {
		return inmem.NewFallback(inmem.New(clock), inmem.New(clock), nil, func(down bool) {
			t.Errorf("onChange(%v) with a primary that never fails", down)
		})
	}))
}
