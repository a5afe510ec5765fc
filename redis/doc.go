// Package redis is mamoru.Counters in Redis, shared by every instance of
// the server: sliding-window counts, distinct counts (HyperLogLog), blocks
// and Once marks of attack protection, through go-redis
// (github.com/redis/go-redis/v9). Each Do is one pipeline, one round trip.
// The key layout and TTLs are described in docs/counters.md.
//
// It must not hold attack-protection policy (what to count, thresholds:
// those belong to the caller), fall back to memory by itself (wrap it in
// inmem.Fallback for that), nor import another adapter; only cmd/mamoru
// wires it in.
package redis
