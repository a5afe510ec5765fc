package breach

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The benchmarks and the large build below are described, with figures,
// in docs/breach.md:
//
//	go test -run '^$' -bench . -benchtime 2s ./breach
//	MAMORU_BREACH_LARGE=100000000 go test -run TestBuildLarge -v -timeout 1h ./breach

// hashStream is a deterministic stream of random hashes.
type hashStream struct {
	rng *rand.Rand
	gap uint64 // when not 0, the hashes grow by 1 to 2*gap-1 (their first 64 bits)
	at  uint64
}

func newHashStream(seed uint64) *hashStream {
	return &hashStream{rng: rand.New(rand.NewPCG(seed, 0x1f))}
}

// sortedHashStream is a stream of n random hashes in increasing order,
// like the downloader's file.
func sortedHashStream(seed uint64, n int) *hashStream {
	s := newHashStream(seed)
	s.gap = 1<<63/uint64(n) + 1
	return s
}

func (s *hashStream) next() (sum [20]byte) {
	first := s.rng.Uint64()
	if s.gap != 0 {
		s.at += 1 + first%(2*s.gap-1)
		first = s.at
	}
	binary.BigEndian.PutUint64(sum[0:], first)
	binary.BigEndian.PutUint64(sum[8:], s.rng.Uint64())
	binary.BigEndian.PutUint32(sum[16:], s.rng.Uint32())
	return sum
}

// writeHashes writes n lines "HEX40:COUNT\r\n" of the stream s to w.
func writeHashes(w io.Writer, n int, s *hashStream) error {
	const digits = "0123456789ABCDEF"
	bw := bufio.NewWriterSize(w, 1<<20)
	line := make([]byte, 0, 64)
	for i := range n {
		sum := s.next()
		line = line[:0]
		for _, b := range sum {
			line = append(line, digits[b>>4], digits[b&15])
		}
		line = append(line, ':')
		line = strconv.AppendInt(line, int64(1+i%97), 10)
		line = append(line, '\r', '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// pipeHashes returns a reader of n lines of the stream s, written by
// another goroutine: nothing is stored.
func pipeHashes(n int, s *hashStream) io.Reader {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeHashes(pw, n, s)) }()
	return pr
}

// benchFilter is a filter of 10 million generated hashes, built once.
var benchFilter struct {
	once  sync.Once
	f     *Filter
	stats BuildStats
	err   error
}

const benchEntries = 10_000_000

func tenMillion(b *testing.B) *Filter {
	benchFilter.once.Do(func() {
		dir, err := os.MkdirTemp("", "breach-bench")
		if err != nil {
			benchFilter.err = err
			return
		}
		// The filter stays mapped; the directory is removed right away.
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "bench.fuse")
		out, err := os.Create(path)
		if err != nil {
			benchFilter.err = err
			return
		}
		benchFilter.stats, benchFilter.err = Build(context.Background(), pipeHashes(benchEntries, newHashStream(1)), out, BuildOptions{Seed: 1})
		out.Close()
		if benchFilter.err == nil {
			benchFilter.f, benchFilter.err = Open(path)
		}
	})
	if benchFilter.err != nil {
		b.Fatal(benchFilter.err)
	}
	return benchFilter.f
}

func BenchmarkContainsSHA1(b *testing.B) {
	f := tenMillion(b)
	b.Run("hit", func(b *testing.B) {
		// Every 97th hash of the filter, a 100,000-hash working set.
		s := newHashStream(1)
		sums := make([][20]byte, 0, benchEntries/97+1)
		for i := range benchEntries {
			sum := s.next()
			if i%97 == 0 {
				sums = append(sums, sum)
			}
		}
		i := 0
		b.ResetTimer()
		for b.Loop() {
			if !f.ContainsSHA1(sums[i]) {
				b.Fatal("miss")
			}
			i++
			if i == len(sums) {
				i = 0
			}
		}
		b.ReportMetric(float64(f.Len()), "entries")
	})
	b.Run("miss", func(b *testing.B) {
		s := newHashStream(2)
		sums := make([][20]byte, 1<<17)
		for i := range sums {
			sums[i] = s.next()
		}
		hits, i := 0, 0
		b.ResetTimer()
		for b.Loop() {
			if f.ContainsSHA1(sums[i&(len(sums)-1)]) {
				hits++
			}
			i++
		}
		b.ReportMetric(float64(hits)/float64(i), "fp-rate")
	})
}

func BenchmarkContains(b *testing.B) {
	f := tenMillion(b)
	for b.Loop() {
		f.Contains("correct horse battery staple")
	}
}

// BenchmarkBuild builds filters of a million hashes from text in memory;
// ns/entry is the whole Build (parsing included) per hash.
func BenchmarkBuild(b *testing.B) {
	const n = 1_000_000
	var in bytes.Buffer
	writeHashes(&in, n, newHashStream(3))
	data := in.Bytes()
	var st BuildStats
	for b.Loop() {
		var err error
		st, err = Build(context.Background(), bytes.NewReader(data), io.Discard, BuildOptions{Seed: 5})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/entry")
	b.ReportMetric(st.BitsPerEntry, "bits/entry")
}

// TestBuildLarge builds the filter of MAMORU_BREACH_LARGE generated
// hashes (e.g. 100000000), streamed through a pipe, into a temporary
// file, and reports the build time, the peak resident memory of the test
// process and the size; then it checks a sample of the hashes and the
// false-positive rate. It is a manual run, skipped unless the variable
// is set. The hashes come sorted, like the downloader's file, unless
// MAMORU_BREACH_LARGE_ORDER=random.
func TestBuildLarge(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("MAMORU_BREACH_LARGE"))
	if n <= 0 {
		t.Skip("set MAMORU_BREACH_LARGE=100000000 to run")
	}
	stream := func() *hashStream { return sortedHashStream(1, n) }
	if os.Getenv("MAMORU_BREACH_LARGE_ORDER") == "random" {
		stream = func() *hashStream { return newHashStream(1) }
	}
	path := filepath.Join(t.TempDir(), "large.fuse")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	lastLog := start
	opt := BuildOptions{Seed: 1, Progress: func(phase string, lines int64) {
		if phase != "read" || time.Since(lastLog) > 10*time.Second {
			t.Logf("%6.1fs %s: %d lines, heap %d MB", time.Since(start).Seconds(), phase, lines, heapMB())
			lastLog = time.Now()
		}
	}}
	st, err := Build(context.Background(), pipeHashes(n, stream()), out, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("entries %d, %d bytes, %.3f bits/entry, %d attempt(s), measured fp %.4f%%", st.Entries, st.Bytes, st.BitsPerEntry, st.Attempts, 100*st.FalsePositiveRate)
	t.Logf("read+parse %s, whole build %s (%.0f ns/entry), peak RSS %s", st.ReadDuration.Round(time.Millisecond), st.Duration.Round(time.Millisecond),
		float64(st.Duration.Nanoseconds())/float64(st.Entries), peakRSS())

	start = time.Now()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Logf("Open (checksum included): %s", time.Since(start).Round(time.Millisecond))
	s := stream()
	for i := range n {
		sum := s.next()
		if i%1000 == 0 && !f.ContainsSHA1(sum) {
			t.Fatalf("hash %d not found", i)
		}
	}
	const probes = 1_000_000
	start = time.Now()
	fp := falsePositives(f, probes, 99)
	t.Logf("false positives: %d of %d random hashes (%.4f%%), %.0f ns per lookup", fp, probes, 100*float64(fp)/probes,
		float64(time.Since(start).Nanoseconds())/probes)
	if fp > probes*6/1000 {
		t.Errorf("false-positive rate above 0.6%%")
	}
}

func heapMB() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc >> 20
}

// peakRSS is the VmHWM line of /proc/self/status (Linux), or "unknown".
func peakRSS() string {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
