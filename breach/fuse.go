package breach

import (
	"context"
	"math"
	"math/bits"
)

// This file is the binary fuse filter itself (Graf and Lemire, "Binary
// Fuse Filters: Fast and Smaller Than Xor Filters", ACM JEA 27, 2022),
// 3-wise with 8-bit fingerprints: every key owns three slots, one in each
// of three consecutive segments, and the XOR of their fingerprints equals
// the key's fingerprint. A key that is not in the set passes only if its
// three slots happen to XOR to its fingerprint: 1 chance in 256.
//
// 3-wise rather than 4-wise: 3 memory reads per lookup instead of 4 (each
// may be a page fault on a memory-mapped file that is not yet cached), a
// faster and simpler construction, for 9.0 bits per entry instead of 8.6.
// Both are under the 10-bit budget; the 4.5% of space is not worth a
// fourth random read.

const (
	// fuseArity is the number of slots per key.
	fuseArity = 3
	// maxSegmentLength bounds the segment length (the paper's cap).
	maxSegmentLength = 1 << 18
	// maxEntries keeps every slot index and key index within 32 bits.
	maxEntries = 3_500_000_000
	// maxAttempts is the number of seeds Build tries before giving up.
	// With the paper's sizes, a construction fails rarely (more often
	// for a few thousand keys or fewer), so this is never reached in
	// practice.
	maxAttempts = 100
)

// fuseParams is the shape of a filter: the fingerprint array is
// segmentCount+2 segments of segmentLength slots.
type fuseParams struct {
	segmentLength uint32 // a power of two
	segmentCount  uint32 // segments in which a key's first slot may fall
}

// arrayLength is the number of fingerprints.
func (p fuseParams) arrayLength() uint64 {
	return (uint64(p.segmentCount) + fuseArity - 1) * uint64(p.segmentLength)
}

// paramsFor sizes a filter for n distinct keys (n ≥ 1), with the
// formulas of the paper for 3-wise filters.
func paramsFor(n uint64) fuseParams {
	ln := math.Log(float64(max(n, 2)))
	segLen := uint64(1) << uint(max(2, math.Floor(ln/math.Log(3.33)+2.25)))
	segLen = min(segLen, maxSegmentLength)
	sizeFactor := max(1.125, 0.875+0.25*math.Log(1e6)/ln)
	capacity := uint64(math.Ceil(float64(n) * sizeFactor))
	segCount := (capacity + segLen - 1) / segLen
	if segCount > fuseArity {
		segCount -= fuseArity - 1
	} else {
		segCount = 1
	}
	return fuseParams{segmentLength: uint32(segLen), segmentCount: uint32(segCount)}
}

// fuseHash is the 64-bit hash of a key under a seed: the key plus the
// seed through the splitmix64 finalizer (a bijection, so distinct keys
// keep distinct hashes).
func fuseHash(key, seed uint64) uint64 {
	z := key + seed
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// fingerprint is the 8-bit fingerprint of a hash.
func fingerprint(h uint64) uint8 { return uint8(h ^ h>>32) }

// slots is the geometry of a filter as lookups need it.
type slots struct {
	segmentLength      uint64
	segmentMask        uint64
	segmentCountLength uint64 // segmentCount * segmentLength
}

func (p fuseParams) slots() slots {
	l := uint64(p.segmentLength)
	return slots{segmentLength: l, segmentMask: l - 1, segmentCountLength: uint64(p.segmentCount) * l}
}

// of returns the three slots of a hash: the first anywhere in the first
// segmentCount segments, the second and third in the two segments after
// it, at offsets taken from other bits of the hash. All three are below
// arrayLength and pairwise distinct.
func (s slots) of(h uint64) (uint64, uint64, uint64) {
	h0, _ := bits.Mul64(h, s.segmentCountLength)
	h1 := (h0 + s.segmentLength) ^ ((h >> 18) & s.segmentMask)
	h2 := (h0 + 2*s.segmentLength) ^ (h & s.segmentMask)
	return h0, h1, h2
}

// contains reports whether the hash h passes the filter fp.
func (s slots) contains(fp []byte, h uint64) bool {
	h0, h1, h2 := s.of(h)
	return fingerprint(h) == fp[h0]^fp[h1]^fp[h2]
}

// fuseBuilder constructs filters; its scratch arrays are reused from one
// attempt (seed) to the next.
type fuseBuilder struct {
	params fuseParams
	// count holds, per slot, the number of keys not yet peeled in its
	// upper six bits and the XOR of their positions (0, 1, 2: which of
	// its three slots this one is) in the lower two.
	count []uint8
	// xor holds, per slot, the XOR of the indexes in hashes of the keys
	// not yet peeled: the index of the last one when count says 1.
	xor []uint32
	// order is a queue of slots with one key, growing from the start,
	// and the stack of peeled slots, growing from the end. Every slot
	// enters the queue at most once, so the two never meet.
	order []uint32
}

// newFuseBuilder allocates the scratch arrays for n keys.
func newFuseBuilder(n uint64) *fuseBuilder {
	p := paramsFor(n)
	size := p.arrayLength()
	return &fuseBuilder{params: p, count: make([]uint8, size), xor: make([]uint32, size), order: make([]uint32, size)}
}

// checkEvery is how many keys a loop handles between looks at its context.
const checkEvery = 1 << 20

// build tries to construct into fp (arrayLength bytes) the filter of
// hashes: the fuseHash of distinct keys under one seed, in the order of
// sortHashes. It returns false when these hashes do not work; the caller
// tries another seed.
//
// Sorted hashes keep every phase within a window of a few segments: a
// key's first slot grows with its hash, and its other two are in the
// next two segments, so the counting, peeling and assignment mostly hit
// the cache instead of memory (half the time, for 20 million keys, of
// the same construction on hashes in random order).
func (b *fuseBuilder) build(ctx context.Context, hashes []uint64, fp []byte) (bool, error) {
	s := b.params.slots()
	count, xor, order := b.count, b.xor, b.order
	clear(count)
	clear(xor)

	// Count the keys of every slot.
	overflow := false
	for i, h := range hashes {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
		}
		h0, h1, h2 := s.of(h)
		c0, c1, c2 := count[h0]+4, count[h1]+4, count[h2]+4
		if c0 < 4 || c1 < 4 || c2 < 4 { // more than 63 keys in a slot
			overflow = true
		}
		count[h0], count[h1], count[h2] = c0, c1^1, c2^2
		xor[h0] ^= uint32(i)
		xor[h1] ^= uint32(i)
		xor[h2] ^= uint32(i)
	}
	if overflow {
		return false, nil
	}

	// Peel: take a slot that only one key uses, remove that key from its
	// two other slots, and repeat.
	queue := 0
	for i, c := range count {
		if c>>2 == 1 {
			order[queue] = uint32(i)
			queue++
		}
	}
	stack := len(order)
	for step := 0; queue > 0; step++ {
		if step%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
		}
		queue--
		slot := order[queue]
		c := count[slot]
		if c>>2 != 1 {
			continue // its key was peeled through another slot
		}
		idx := xor[slot]
		stack--
		order[stack] = slot
		var h [3]uint64
		h[0], h[1], h[2] = s.of(hashes[idx])
		found := c & 3
		for _, pos := range [2]uint8{(found + 1) % 3, (found + 2) % 3} {
			o := h[pos]
			oc := count[o]
			if oc>>2 == 2 {
				order[queue] = uint32(o)
				queue++
			}
			count[o] = (oc - 4) ^ pos
			xor[o] ^= idx
		}
	}
	if len(order)-stack != len(hashes) {
		return false, nil // a cycle: some keys could not be peeled
	}

	// Assign in the reverse order of peeling: each key's slot is written
	// after every slot it reads, and no later key writes those.
	clear(fp)
	for j, slot := range order[stack:] {
		if j%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
		}
		k := hashes[xor[slot]]
		var h [3]uint64
		h[0], h[1], h[2] = s.of(k)
		found := count[slot] & 3
		fp[slot] = fingerprint(k) ^ fp[h[(found+1)%3]] ^ fp[h[(found+2)%3]]
	}
	return true, nil
}

// sortHashes orders hashes by their top bits, enough of them to tell
// segments apart, in place (an American flag sort: one pass to count,
// one to move).
func (b *fuseBuilder) sortHashes(hashes []uint64) {
	width := min(bits.Len32(b.params.segmentCount)+1, 16)
	shift := uint(64 - width)
	next := make([]int, 1<<width) // where the next hash of each bucket goes
	end := make([]int, 1<<width)
	for _, h := range hashes {
		end[h>>shift]++
	}
	pos := 0
	for i, n := range end {
		next[i] = pos
		pos += n
		end[i] = pos
	}
	for bucket := range next {
		for next[bucket] < end[bucket] {
			h := hashes[next[bucket]]
			// Carry h to its bucket, and what was there to its own,
			// until one belongs here.
			for d := int(h >> shift); d != bucket; d = int(h >> shift) {
				hashes[next[d]], h = h, hashes[next[d]]
				next[d]++
			}
			hashes[next[bucket]] = h
			next[bucket]++
		}
	}
}

// rehash turns hashes under the seed from into hashes under the seed to.
func rehash(hashes []uint64, from, to uint64) {
	for i, h := range hashes {
		hashes[i] = fuseHash(unhash(h, from), to)
	}
}

// The multiplicative inverses of fuseHash's constants, modulo 2^64.
var (
	inverse1 = inverseOdd(0xbf58476d1ce4e5b9)
	inverse2 = inverseOdd(0x94d049bb133111eb)
)

// inverseOdd returns the inverse of an odd number modulo 2^64, by Newton's
// iteration: each step doubles the number of correct low bits, from 3.
func inverseOdd(c uint64) uint64 {
	inv := c
	for range 5 {
		inv *= 2 - c*inv
	}
	return inv
}

// unxorshift inverts z ^= z >> shift.
func unxorshift(z uint64, shift uint) uint64 {
	x := z
	for range 64 / shift {
		x = z ^ x>>shift
	}
	return x
}

// unhash returns the key whose fuseHash under seed is h.
func unhash(h, seed uint64) uint64 {
	z := unxorshift(h, 31) * inverse2
	z = unxorshift(z, 27) * inverse1
	return unxorshift(z, 30) - seed
}
