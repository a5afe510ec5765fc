// Package inmem is mamoru.Counters in the memory of one process: the
// sliding-window counts, distinct sets, blocks and Once marks of attack
// protection for a single instance, with no dependency to run. Memory
// stays bounded: entries expire lazily and each shard sweeps itself after
// a number of operations proportional to its size (see docs/counters.md).
//
// It also holds Fallback, which puts a shared implementation (Redis) in
// front of these counters and answers from them while the shared one is
// down.
//
// It must not do I/O, start goroutines or import another adapter: several
// instances need the shared counters of package redis, and only
// cmd/mamoru wires either in.
package inmem
