package redis_test

import (
	"testing"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/countertest"
)

// BenchmarkCounters runs the shared benchmarks against the Redis of
// MAMORU_TEST_REDIS: Do4 is one pipeline of 10 commands, one round trip;
// Do4Parallel runs 8 goroutines per CPU, as concurrent sign-ins would.
func BenchmarkCounters(b *testing.B) {
	url := redisURL(b)
	c := open(b, url, testPrefix(b, url), mamoru.SystemClock{})
	countertest.Bench(b, c, countertest.BenchOptions{Parallelism: 8})
}
