package breach

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"runtime"
	"slices"
	"time"

	"github.com/mamoru-id/mamoru"
)

// BuildOptions tune Build.
type BuildOptions struct {
	// MinCount leaves out the hashes seen fewer than MinCount times (the
	// COUNT of their line): 2 drops the hashes seen once, a large share
	// of the corpus, for a smaller file. 0 or 1 keeps every line.
	MinCount int64
	// Seed is the first seed tried; 0 picks a random one. The same input,
	// options and non-zero Seed give the same file.
	Seed uint64
	// Progress, when set, is called from Build's goroutine every few
	// million lines read, with the number of lines read so far, and once
	// per phase after reading ("sort", "construct", "write").
	Progress func(phase string, lines int64)
}

// BuildStats describes a Build.
type BuildStats struct {
	Lines          int64   // lines read, blank ones included
	BadLines       int64   // lines skipped because they are not HEX40:COUNT
	BadLineNumbers []int64 // the first few of them (1-based), at most 10
	BelowMinCount  int64   // good lines left out because COUNT < MinCount
	Duplicates     int64   // good lines whose hash (its first 64 bits) came earlier
	Entries        int64   // distinct hashes in the filter
	Bytes          int64   // size of the filter file written
	BitsPerEntry   float64 // 8 * Bytes / Entries, header included
	Seed           uint64  // the seed of the filter
	Attempts       int     // seeds tried (almost always 1)
	// FalsePositiveRate is measured after the construction on random
	// hashes that are not in the set (≈ 1/256 = 0.39%).
	FalsePositiveRate float64
	ReadDuration      time.Duration // reading and parsing the input
	Duration          time.Duration // the whole Build
}

// maxBadLineNumbers bounds BuildStats.BadLineNumbers.
const maxBadLineNumbers = 10

// fpProbes is the number of random hashes Build looks up to measure the
// false-positive rate.
const fpProbes = 1 << 18

// Build reads a Pwned Passwords SHA-1 file from r and writes the filter
// file of its hashes to w. The input is text, one hash a line, as the
// official downloader writes it: 40 hex digits, a colon and a decimal
// count ("5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:52579950"), with LF
// or CRLF line ends, sorted or not. Lowercase hex is accepted. Lines that
// do not parse are counted, and skipped: they never stop the import.
//
// Build keeps 8 bytes per hash while reading, then about 19 bytes per
// distinct hash while constructing (100 million hashes: 2 GB), and
// writes about 1.13 bytes (9 bits) per hash. It writes to w only once the
// filter is built, in one go; the caller makes the file appear
// atomically. It fails when no line is usable (mamoru.EInvalidRequest),
// when ctx ends (the context's error), or when r or w fails. The stats
// are filled in as far as Build got.
func Build(ctx context.Context, r io.Reader, w io.Writer, opt BuildOptions) (BuildStats, error) {
	start := time.Now()
	var st BuildStats
	if opt.MinCount < 0 {
		return st, mamoru.Errorf(mamoru.EInvalidRequest, "breach: negative MinCount %d", opt.MinCount)
	}
	progress := opt.Progress
	if progress == nil {
		progress = func(string, int64) {}
	}

	keys, err := readKeys(ctx, r, opt.MinCount, &st, progress)
	st.ReadDuration = time.Since(start)
	if err != nil {
		return st, err
	}
	progress("sort", st.Lines)
	slices.Sort(keys) // nearly free for a sorted file
	kept := int64(len(keys))
	keys = slices.Compact(keys)
	st.Duplicates = kept - int64(len(keys))
	st.Entries = int64(len(keys))
	if len(keys) == 0 {
		return st, mamoru.Errorf(mamoru.EInvalidRequest, "breach: no usable line among %d (%d malformed, %d below the minimum count %d)",
			st.Lines, st.BadLines, st.BelowMinCount, opt.MinCount)
	}
	if uint64(len(keys)) > maxEntries {
		return st, mamoru.Errorf(mamoru.EInvalidRequest, "breach: %d hashes, more than the %d a filter holds; raise MinCount", len(keys), uint64(maxEntries))
	}

	progress("construct", st.Lines)
	seed := opt.Seed
	if seed == 0 {
		seed = randomSeed()
	}
	b := newFuseBuilder(uint64(len(keys)))
	fp := make([]byte, b.params.arrayLength())
	hashes := keys // hashed in place
	for i, k := range keys {
		hashes[i] = fuseHash(k, seed)
	}
	for {
		st.Attempts++
		b.sortHashes(hashes)
		ok, err := b.build(ctx, hashes, fp)
		if err != nil {
			return st, err
		}
		if ok {
			break
		}
		if st.Attempts == maxAttempts {
			return st, mamoru.Errorf(mamoru.EInternal, "breach: no filter after %d seeds", maxAttempts)
		}
		next := nextSeed(seed)
		rehash(hashes, seed, next)
		seed = next
	}
	st.Seed = seed
	st.FalsePositiveRate = measureFalsePositives(b.params.slots(), fp, seed)

	progress("write", st.Lines)
	h := header{params: b.params, seed: seed, entries: uint64(len(keys)), minCount: uint64(opt.MinCount)}
	n, err := writeFile(w, h, fp)
	st.Bytes = n
	if err != nil {
		return st, mamoru.WrapError(mamoru.EInternal, err, "breach: writing the filter")
	}
	st.BitsPerEntry = 8 * float64(n) / float64(len(keys))
	st.Duration = time.Since(start)
	return st, nil
}

// measureFalsePositives looks up fpProbes random 64-bit keys, none of
// which is in the set but with a chance of about entries/2^64, and returns
// the share that passes.
func measureFalsePositives(s slots, fp []byte, seed uint64) float64 {
	state := seed ^ 0x5851f42d4c957f2d
	hits := 0
	for range fpProbes {
		state += 0x9e3779b97f4a7c15
		if s.contains(fp, fuseHash(fuseHash(state, 0), seed)) {
			hits++
		}
	}
	return float64(hits) / fpProbes
}

// randomSeed returns a random seed.
func randomSeed() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) | 1
}

// nextSeed derives the seed to try after seed.
func nextSeed(seed uint64) uint64 { return fuseHash(seed, 0x9e3779b97f4a7c15) | 1 }

// readKeys reads the lines of r and returns the first 64 bits of every
// good hash whose count is at least minCount, counting lines in st.
func readKeys(ctx context.Context, r io.Reader, minCount int64, st *BuildStats, progress func(string, int64)) ([]uint64, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var keys keyList
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line of a megabyte is not a hash: skip to its end.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			line = []byte("!")
		}
		if len(line) > 0 {
			st.Lines++
			if st.Lines&(1<<22-1) == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				progress("read", st.Lines)
			}
			if st.Lines == 1 {
				line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a byte order mark
			}
			key, count, kind := parseLine(line)
			switch {
			case kind == lineBad:
				st.BadLines++
				if len(st.BadLineNumbers) < maxBadLineNumbers {
					st.BadLineNumbers = append(st.BadLineNumbers, st.Lines)
				}
			case kind == lineBlank:
			case count < uint64(minCount):
				st.BelowMinCount++
			default:
				keys.add(key)
			}
		}
		if err == io.EOF {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return keys.flatten(), nil
		}
		if err != nil {
			return nil, mamoru.WrapError(mamoru.EInternal, err, "breach: reading the hashes")
		}
	}
}

// keyList collects keys in chunks: it grows without copying, and leaves
// no garbage behind, which a slice growing to hundreds of megabytes
// would (four times its size, in the arrays it outgrew).
type keyList struct {
	chunks [][]uint64
	n      int
}

// keyChunk is the number of keys in a chunk (8 MB).
const keyChunk = 1 << 20

func (l *keyList) add(k uint64) {
	if len(l.chunks) == 0 || len(l.chunks[len(l.chunks)-1]) == keyChunk {
		l.chunks = append(l.chunks, make([]uint64, 0, keyChunk))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, k)
	l.n++
}

// flatten returns the keys in one slice, and empties the list. It
// collects the garbage, the chunks, at once: Build's next allocations,
// larger than the keys, then reuse their memory instead of adding to it
// (a third less at the peak).
func (l *keyList) flatten() []uint64 {
	keys := make([]uint64, 0, l.n)
	for i, c := range l.chunks {
		keys = append(keys, c...)
		l.chunks[i] = nil
	}
	*l = keyList{}
	runtime.GC()
	return keys
}

// lineKind is what parseLine made of a line.
type lineKind uint8

const (
	lineGood lineKind = iota
	lineBlank
	lineBad
)

// hexValue maps an ASCII byte to its hex digit value, and others to 0xff.
var hexValue = func() (t [256]uint8) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = uint8(c - '0')
	}
	for c := 'A'; c <= 'F'; c++ {
		t[c] = uint8(c-'A') + 10
		t[c+'a'-'A'] = uint8(c-'A') + 10
	}
	return t
}()

// parseLine parses "HEX40:COUNT" with its line end, if any, and returns
// the first 64 bits of the hash and the count.
func parseLine(line []byte) (key, count uint64, kind lineKind) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) == 0 {
		return 0, 0, lineBlank
	}
	if len(line) < 42 || line[40] != ':' {
		return 0, 0, lineBad
	}
	var invalid uint8
	for _, c := range line[:16] {
		v := hexValue[c]
		invalid |= v
		key = key<<4 | uint64(v&0xf)
	}
	for _, c := range line[16:40] {
		invalid |= hexValue[c]
	}
	if invalid&0xf0 != 0 {
		return 0, 0, lineBad
	}
	digits := line[41:]
	if len(digits) > 20 {
		return 0, 0, lineBad
	}
	for _, c := range digits {
		d := uint64(c - '0')
		if d > 9 {
			return 0, 0, lineBad
		}
		hi, lo := bits.Mul64(count, 10)
		lo, carry := bits.Add64(lo, d, 0)
		if hi != 0 || carry != 0 {
			return 0, 0, lineBad
		}
		count = lo
	}
	return key, count, lineGood
}
