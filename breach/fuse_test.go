package breach

import (
	"context"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestUnhash(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range []uint64{0, 1, 1<<64 - 1, 0x5BAA61E4C9B93F3F} {
		for range 100 {
			seed := rng.Uint64()
			if got := unhash(fuseHash(k, seed), seed); got != k {
				t.Fatalf("unhash(fuseHash(%x, %x)) = %x", k, seed, got)
			}
			k = rng.Uint64()
		}
	}
	for _, c := range []uint64{1, 3, 0xbf58476d1ce4e5b9, 0x94d049bb133111eb} {
		if c*inverseOdd(c) != 1 {
			t.Errorf("inverse of %x", c)
		}
	}
}

func TestParams(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 10, 100, 1000, 200_000, 10_000_000, 100_000_000, 1_000_000_000, maxEntries} {
		p := paramsFor(n)
		l := p.segmentLength
		if l < 4 || l > maxSegmentLength || l&(l-1) != 0 || p.segmentCount == 0 || p.arrayLength() < n || p.arrayLength() >= 1<<32 {
			t.Errorf("n=%d: %+v", n, p)
		}
		bits := 8 * float64(p.arrayLength()) / float64(n)
		if n >= 1_000_000 && bits > 9.1 {
			t.Errorf("n=%d: %.2f bits per key", n, bits)
		}
	}
}

func bitsLen(x uint32) int { return bits.Len32(x) }

func TestSortHashes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 1000, 100_000} {
		b := &fuseBuilder{params: paramsFor(uint64(max(n, 1)))}
		hashes := make([]uint64, n)
		for i := range hashes {
			hashes[i] = rng.Uint64()
		}
		want := slices.Sorted(slices.Values(hashes))
		b.sortHashes(hashes)
		width := min(bitsLen(b.params.segmentCount)+1, 16)
		if !slices.IsSortedFunc(hashes, func(x, y uint64) int { return int(x>>(64-width)) - int(y>>(64-width)) }) {
			t.Errorf("n=%d: not ordered by the top %d bits", n, width)
		}
		if got := slices.Sorted(slices.Values(hashes)); !slices.Equal(got, want) {
			t.Errorf("n=%d: not a permutation", n)
		}
	}
}

func TestFuseRetry(t *testing.T) {
	// The builder's arrays are reused from a failed attempt to the next:
	// a filter built on a second seed, after a first on other keys, is
	// as good as a fresh one.
	keys := make([]uint64, 5000)
	for i := range keys {
		keys[i] = uint64(i) * 0x9e3779b97f4a7c15
	}
	b := newFuseBuilder(uint64(len(keys)))
	fp := make([]byte, b.params.arrayLength())
	hashes := slices.Clone(keys)
	for i := range hashes {
		hashes[i] = fuseHash(hashes[i], 1)
	}
	b.sortHashes(hashes)
	if ok, err := b.build(context.Background(), hashes, fp); !ok || err != nil {
		t.Fatal(ok, err)
	}
	rehash(hashes, 1, 2)
	b.sortHashes(hashes)
	if ok, err := b.build(context.Background(), hashes, fp); !ok || err != nil {
		t.Fatal(ok, err)
	}
	s := b.params.slots()
	for _, k := range keys {
		if !s.contains(fp, fuseHash(k, 2)) {
			t.Fatalf("%x not found", k)
		}
	}
	// Two keys with the same three slots cannot be peeled: the builder
	// says so instead of writing a wrong filter.
	dup := []uint64{hashes[0], hashes[0], hashes[1]}
	if ok, err := b.build(context.Background(), dup, fp); ok || err != nil {
		t.Errorf("duplicate hashes: %v %v", ok, err)
	}
}
