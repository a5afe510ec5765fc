// Package countertest is the one conformance suite for mamoru.Counters:
// every implementation (inmem, redis, the inmem.Fallback that joins them)
// calls Run from its tests and must pass every subtest, so that the
// documented semantics of Counters (sliding-window arithmetic, distinct
// counts over two windows, blocks that never shorten, Once exactly once,
// validation and cancellation) hold whichever backend is configured.
//
// Time is driven by a mamoru.FakeClock wherever the interface says "the
// implementation's current time": window indexes, sliding weights and the
// end of blocks. The one expiry the fake clock cannot drive everywhere is
// Once's ttl, which Redis enforces on its own clock: that subtest uses a
// short real ttl and polls for at most a few seconds.
//
// It is test support: production code must not import it, and it must not
// depend on a particular backend or reach past the interface.
package countertest
