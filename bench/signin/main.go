// Command signin measures password sign-in over HTTP against a mamoru
// server on this machine and writes a Markdown report: sign-ins per
// second, p50 and p99 latency and errors at each concurrency level, next
// to how many raw argon2id hashes per second the machine manages at the
// same parallelism with the same parameters, and the server's peak memory.
//
// It only ever talks to 127.0.0.1, and every request loop stops by itself
// (after -duration or -max-requests per level). See bench/README.md.
package main

import "github.com/mamoru-id/mamoru/bench/internal/benchkit"

func main() { benchkit.Main("signin", run) }
