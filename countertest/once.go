package countertest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

var onceTests = map[string]func(t *testing.T, s *suite){
	"Once": func(t *testing.T, s *suite) {
		if !once(t, s.c, "token", time.Minute) {
			t.Fatal("first Once: false, want true")
		}
		if once(t, s.c, "token", time.Minute) {
			t.Fatal("second Once: true, want false")
		}
		if !once(t, s.c, "token2", time.Minute) {
			t.Fatal("Once on another key: false, want true")
		}
		s.clock.Advance(time.Minute - time.Second)
		if once(t, s.c, "token", time.Minute) {
			t.Fatal("Once before the ttl ends: true, want false")
		}
	},
	"OnceLongTTL": func(t *testing.T, s *suite) {
		for _, ttl := range []time.Duration{200 * 365 * 24 * time.Hour, time.Duration(1<<63 - 1)} {
			key := fmt.Sprint("k", ttl)
			if !once(t, s.c, key, ttl) {
				t.Fatalf("first Once, ttl %v: false, want true", ttl)
			}
			if once(t, s.c, key, ttl) {
				t.Fatalf("second Once, ttl %v: true, want false", ttl)
			}
		}
	},
	"OnceExpires": func(t *testing.T, s *suite) {
		// The ttl may run on the backend's own clock (a Redis TTL), so the
		// fake clock is moved past it and the real one waited on, for at
		// most 5 s.
		const ttl = 200 * time.Millisecond
		if !once(t, s.c, "k", ttl) {
			t.Fatal("first Once: false, want true")
		}
		s.clock.Advance(ttl)
		deadline := time.Now().Add(5 * time.Second)
		for !once(t, s.c, "k", time.Minute) {
			if time.Now().After(deadline) {
				t.Fatalf("Once still false 5 s after a ttl of %v", ttl)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if once(t, s.c, "k", time.Minute) {
			t.Fatal("Once after the renewed mark: true, want false")
		}
	},
	"OnceConcurrent": func(t *testing.T, s *suite) {
		// 50 goroutines over two instances: exactly one wins.
		others := []mamoru.Counters{s.c, s.open()}
		for round := range 5 {
			key := string(rune('a' + round))
			var wins atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for g := range 50 {
				c := others[g%2]
				wg.Go(func() {
					<-start
					ok, err := c.Once(t.Context(), key, time.Minute)
					if err != nil {
						t.Errorf("Once: %v", err)
					}
					if ok {
						wins.Add(1)
					}
				})
			}
			close(start)
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Fatalf("round %d: %d goroutines got true, want exactly 1", round, n)
			}
		}
	},
	"OnceTwoInstances": func(t *testing.T, s *suite) {
		other := s.open()
		if !once(t, s.c, "k", time.Minute) {
			t.Fatal("first Once: false, want true")
		}
		if once(t, other, "k", time.Minute) {
			t.Fatal("Once on a second instance: true, want false")
		}
		if !once(t, other, "k2", time.Minute) {
			t.Fatal("Once on a second instance, new key: false, want true")
		}
		if once(t, s.c, "k2", time.Minute) {
			t.Fatal("Once on the first instance after the second: true, want false")
		}
	},
}
