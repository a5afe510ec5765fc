package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/mamoru-id/mamoru/bench/internal/benchkit"
)

// rawResult is one level of in-process argon2id hashing.
type rawResult struct {
	Parallel int // goroutines actually used (may be capped for memory)
	Hashes   int
	Elapsed  time.Duration
}

// PerSecond is hashes per second.
func (r rawResult) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Hashes) / r.Elapsed.Seconds()
}

// rawParallelism caps conc so that conc hashes of memKiB each take at most
// half of the available memory (availKiB <= 0: no cap).
func rawParallelism(conc int, memKiB uint32, availKiB int64) int {
	if availKiB <= 0 {
		return conc
	}
	fit := int(availKiB / 2 / int64(memKiB))
	return max(1, min(conc, fit))
}

// runRaw computes argon2id.IDKey with the given parameters in parallel
// goroutines until d has passed, maxHashes are done, or ctx ends.
func runRaw(ctx context.Context, parallel int, memKiB, t uint32, threads uint8, d time.Duration, maxHashes int) rawResult {
	var next atomic.Int64
	deadline := time.Now().Add(d)
	pw := []byte("correct horse battery staple")
	salt := []byte("0123456789abcdef")
	start := time.Now()
	var done atomic.Int64
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if next.Add(1) > int64(maxHashes) {
					return
				}
				argon2.IDKey(pw, salt, t, memKiB, threads, 32)
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return rawResult{Parallel: parallel, Hashes: int(done.Load()), Elapsed: time.Since(start)}
}

// memAvailableKiB returns MemAvailable from /proc/meminfo, or 0.
func memAvailableKiB() int64 {
	return benchkit.MeminfoKiB("MemAvailable:")
}
