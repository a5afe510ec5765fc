package countertest

import (
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

var blockTests = map[string]func(t *testing.T, s *suite){
	"Block": func(t *testing.T, s *suite) {
		start := s.now()
		wantUntil(t, "never blocked", s.blocked("ip"), time.Time{})
		wantUntil(t, "block 10m", s.block("ip", start.Add(10*time.Minute)), start.Add(10*time.Minute))
		wantUntil(t, "blocked", s.blocked("ip"), start.Add(10*time.Minute))
		wantUntil(t, "a shorter block does not shorten", s.block("ip", start.Add(5*time.Minute)), start.Add(10*time.Minute))
		wantUntil(t, "still 10m", s.blocked("ip"), start.Add(10*time.Minute))
		wantUntil(t, "a longer block extends", s.block("ip", start.Add(20*time.Minute)), start.Add(20*time.Minute))
		wantUntil(t, "other key", s.blocked("ip2"), time.Time{})
		s.clock.Advance(20*time.Minute - time.Millisecond)
		wantUntil(t, "a millisecond before the end", s.blocked("ip"), start.Add(20*time.Minute))
		s.clock.Advance(time.Millisecond)
		wantUntil(t, "at the end", s.blocked("ip"), time.Time{})
		s.clock.Advance(time.Minute)
		wantUntil(t, "after the end", s.blocked("ip"), time.Time{})
		wantUntil(t, "a new block after expiry", s.block("ip", s.now().Add(time.Minute)), s.now().Add(time.Minute))
		wantUntil(t, "blocked anew", s.blocked("ip"), s.now().Add(time.Minute))
	},
	"BlockInThePast": func(t *testing.T, s *suite) {
		// A block whose end has passed blocks nothing: Until comes back
		// zero, or the end of the block already in place.
		now := s.now()
		wantUntil(t, "block ending now", s.block("k", now), time.Time{})
		wantUntil(t, "block ended", s.block("k", now.Add(-time.Hour)), time.Time{})
		wantUntil(t, "zero until", s.block("k", time.Time{}), time.Time{})
		wantUntil(t, "not blocked", s.blocked("k"), time.Time{})
		s.block("k", now.Add(time.Hour))
		wantUntil(t, "past block over a current one", s.block("k", now.Add(-time.Hour)), now.Add(time.Hour))
	},
	"BlockSubMillisecond": func(t *testing.T, s *suite) {
		// An end between milliseconds may be rounded up, never down.
		until := s.now().Add(time.Minute + 1234*time.Microsecond + 567)
		wantUntil(t, "block", s.block("k", until), until)
		wantUntil(t, "blocked", s.blocked("k"), until)
	},
	"BlockFarFuture": func(t *testing.T, s *suite) {
		forever := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
		wantUntil(t, "block", s.block("k", forever), forever)
		wantUntil(t, "blocked", s.blocked("k"), forever)
		wantUntil(t, "a shorter block", s.block("k", s.now().Add(time.Hour)), forever)
	},
	"BlockSharedBetweenInstances": func(t *testing.T, s *suite) {
		other := s.open()
		until := s.now().Add(time.Hour)
		s.block("k", until)
		got := doOn(t, other, mamoru.CounterOp{Kind: mamoru.CounterBlocked, Key: "k"})[0].Until
		wantUntil(t, "seen by another instance", got, until)
	},
}
