package inmem_test

import (
	"testing"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/countertest"
	"github.com/mamoru-id/mamoru/inmem"
)

// BenchmarkCounters runs the shared benchmarks on the system clock.
func BenchmarkCounters(b *testing.B) {
	countertest.Bench(b, inmem.New(mamoru.SystemClock{}), countertest.BenchOptions{})
}

// BenchmarkFallback runs them through a Fallback whose primary is up: the
// cost of the wrapper.
func BenchmarkFallback(b *testing.B) {
	f := inmem.NewFallback(inmem.New(mamoru.SystemClock{}), inmem.New(mamoru.SystemClock{}), nil, nil)
	countertest.Bench(b, f, countertest.BenchOptions{})
}
