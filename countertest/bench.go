package countertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// BenchOptions tune Bench.
type BenchOptions struct {
	// Parallelism is the goroutines per CPU of Do4Parallel (0: 1).
	Parallelism int
}

// Bench runs the counters' benchmarks as sub-benchmarks of b: Do4 (one Do
// with 2 adds and 2 reads, the hot path of a sign-in), Do4Parallel,
// AddDistinct (sets below the exact cap of inmem) and Once (keys mostly
// marked already). c is used by all of them, on its own clock.
func Bench(b *testing.B, c mamoru.Counters, opt BenchOptions) {
	ctx := context.Background()
	b.Run("Do4", func(b *testing.B) {
		ops := make([]mamoru.CounterOp, 4)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			signInOps(ops, i)
			i++
			if err := c.Do(ctx, ops); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Do4Parallel", func(b *testing.B) {
		b.ReportAllocs()
		if opt.Parallelism > 0 {
			b.SetParallelism(opt.Parallelism)
		}
		b.RunParallel(func(pb *testing.PB) {
			ops := make([]mamoru.CounterOp, 4)
			i := rand.IntN(len(benchKeys)) // goroutines apart, as sign-ins are
			for pb.Next() {
				signInOps(ops, i)
				i++
				if err := c.Do(ctx, ops); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("AddDistinct", func(b *testing.B) {
		ops := make([]mamoru.CounterOp, 1)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			ops[0] = mamoru.CounterOp{Kind: mamoru.CounterAddDistinct, Key: benchKeys[i%64], Window: time.Hour,
				Member: benchKeys[(i/64)%len(benchKeys)]}
			i++
			if err := c.Do(ctx, ops); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Once", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := c.Once(ctx, benchKeys[i%len(benchKeys)], time.Minute); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// benchKeys are the keys the benchmarks spread over, as a sign-in spreads
// over networks, accounts and passwords.
var benchKeys = func() []string {
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = fmt.Sprintf("fail:ip:%016x", uint64(i)*0x9e3779b97f4a7c15)
	}
	return keys
}()

// signInOps fills ops with what a sign-in's precheck might do: two adds and
// two reads over keys picked by i.
func signInOps(ops []mamoru.CounterOp, i int) {
	k := func(j int) string { return benchKeys[(i*7+j*1031)%len(benchKeys)] }
	ops[0] = mamoru.CounterOp{Kind: mamoru.CounterAdd, Key: k(0), Window: time.Minute, N: 1}
	ops[1] = mamoru.CounterOp{Kind: mamoru.CounterAdd, Key: k(1), Window: time.Hour, N: 1}
	ops[2] = mamoru.CounterOp{Kind: mamoru.CounterGet, Key: k(2), Window: 10 * time.Minute}
	ops[3] = mamoru.CounterOp{Kind: mamoru.CounterGet, Key: k(3), Window: time.Minute}
}
