package breach

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mamoru-id/mamoru"
)

// knownPasswords are imported into every generated file, with their
// well-known hashes.
var knownPasswords = map[string]string{
	"password":  "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8",
	"password1": "E38AD214943DAAD1D64C102FAEC29DE4AFE9DA3D",
	"P@ssw0rd":  "21BD12DC183F740EE76F27B78EB39C8AD972A757",
	"123456":    "7C4A8D09CA3762AF61E59520943DC26494F8941B",
}

// hashLines writes n random hash lines (count 1 to 1000) and the known
// passwords' lines in the Pwned Passwords format to w, and returns the
// hashes. The hashes are random bytes, not SHA-1 of anything: the filter
// cannot tell.
func hashLines(w io.Writer, n int, seed uint64, crlf bool) [][20]byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	end := "\n"
	if crlf {
		end = "\r\n"
	}
	sums := make([][20]byte, 0, n+len(knownPasswords))
	for pw := range knownPasswords {
		sums = append(sums, sha1.Sum([]byte(pw)))
	}
	for range n {
		var s [20]byte
		binary.LittleEndian.PutUint64(s[0:], rng.Uint64())
		binary.LittleEndian.PutUint64(s[8:], rng.Uint64())
		binary.LittleEndian.PutUint32(s[16:], rng.Uint32())
		sums = append(sums, s)
	}
	var buf []byte
	for i, s := range sums {
		buf = hex.AppendEncode(buf, s[:])
		buf = fmt.Appendf(buf, ":%d%s", 1+i%1000, end)
		if len(buf) > 1<<16 {
			w.Write(bytes.ToUpper(buf))
			buf = buf[:0]
		}
	}
	w.Write(bytes.ToUpper(buf))
	return sums
}

// buildFile builds the filter of input into a temporary file and opens it.
func buildFile(t testing.TB, input io.Reader, opt BuildOptions) (*Filter, BuildStats) {
	t.Helper()
	var out bytes.Buffer
	st, err := Build(context.Background(), input, &out, opt)
	if err != nil {
		t.Fatalf("Build: %v (stats %+v)", err, st)
	}
	if st.Bytes != int64(out.Len()) {
		t.Fatalf("stats say %d bytes, %d written", st.Bytes, out.Len())
	}
	path := filepath.Join(t.TempDir(), "pwned.fuse")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, st
}

// randomNonMembers counts how many of n random hashes pass f.
func falsePositives(f *Filter, n int, seed uint64) int {
	rng := rand.New(rand.NewPCG(seed, 2))
	hits := 0
	var s [20]byte
	for range n {
		binary.LittleEndian.PutUint64(s[0:], rng.Uint64())
		binary.LittleEndian.PutUint64(s[8:], rng.Uint64())
		if f.ContainsSHA1(s) {
			hits++
		}
	}
	return hits
}

func TestBuildAndLookup(t *testing.T) {
	const n = 200_000
	var in bytes.Buffer
	sums := hashLines(&in, n, 1, true)
	f, st := buildFile(t, &in, BuildOptions{})
	t.Logf("%+v", st)
	if st.Lines != int64(len(sums)) || st.Entries != int64(len(sums)) || st.BadLines != 0 || st.Duplicates != 0 || st.Attempts < 1 {
		t.Errorf("stats %+v", st)
	}
	if f.Len() != len(sums) {
		t.Errorf("Len() = %d", f.Len())
	}
	for i, s := range sums {
		if !f.ContainsSHA1(s) {
			t.Fatalf("hash %d %X not found", i, s)
		}
	}
	for pw := range knownPasswords {
		if !f.Contains(pw) {
			t.Errorf("Contains(%q) = false", pw)
		}
	}
	// Hashed as given: HIBP does not fold case or normalize.
	if f.Contains("PASSWORD1") && f.Contains("Password1 ") && f.Contains("ｐａｓｓｗｏｒｄ") {
		t.Error("variants of known passwords all pass: the filter is not hashing what it is given")
	}

	// 8-bit fingerprints: 1/256 = 0.39%. With a million probes the
	// standard deviation is 0.006%, so 0.6% is far out of reach of chance.
	const probes = 1_000_000
	fp := falsePositives(f, probes, 42)
	rate := float64(fp) / probes
	t.Logf("false positives: %d of %d (%.4f%%); Build measured %.4f%%; %.2f bits/entry", fp, probes, 100*rate, 100*st.FalsePositiveRate, st.BitsPerEntry)
	if rate > 0.006 || rate < 0.002 {
		t.Errorf("false-positive rate %.4f%%, want about 0.39%%", 100*rate)
	}
	if st.FalsePositiveRate > 0.006 || st.FalsePositiveRate < 0.002 {
		t.Errorf("measured false-positive rate %.4f%%", 100*st.FalsePositiveRate)
	}
	if st.BitsPerEntry > 10 {
		t.Errorf("%.2f bits per entry", st.BitsPerEntry)
	}
	info := f.Info()
	if info.Entries != int64(len(sums)) || info.Bytes != st.Bytes || !strings.Contains(info.String(), "pwned.fuse") {
		t.Errorf("Info() = %+v %s", info, info)
	}
}

func TestBuildSmall(t *testing.T) {
	// Small sets need larger filters (and, sometimes, more seeds); every
	// size must build and find all its hashes.
	for n := 1; n <= 300; n += 1 + n/8 {
		var in bytes.Buffer
		for i := range n {
			fmt.Fprintf(&in, "%X:%d\n", sha1.Sum([]byte(fmt.Sprint(i))), i+1)
		}
		f, st := buildFile(t, &in, BuildOptions{Seed: uint64(n)})
		if st.Entries != int64(n) {
			t.Fatalf("n=%d: %+v", n, st)
		}
		for i := range n {
			if !f.Contains(fmt.Sprint(i)) {
				t.Fatalf("n=%d: %d not found (stats %+v)", n, i, st)
			}
		}
	}
}

func TestBuildDeterministic(t *testing.T) {
	var in bytes.Buffer
	hashLines(&in, 5000, 3, false)
	data := in.Bytes()
	var a, b bytes.Buffer
	if _, err := Build(context.Background(), bytes.NewReader(data), &a, BuildOptions{Seed: 7}); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(context.Background(), bytes.NewReader(data), &b, BuildOptions{Seed: 7}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("same input and seed, different files")
	}
}

func TestBuildBadLines(t *testing.T) {
	pw := knownPasswords["password1"]
	lines := []string{
		"\xef\xbb\xbf" + knownPasswords["password"] + ":10", // byte order mark
		pw + ":3",
		"not a hash", // 3
		"",           // blank: not counted as bad
		strings.ToLower(knownPasswords["123456"]) + ":1", // lowercase is fine
		pw[:39] + ":5",               // 6: short
		pw[:39] + "G:5",              // 7: not hex
		pw + ":",                     // 8: no count
		pw + ":-1",                   // 9
		pw + ":12x",                  // 10
		pw + " :1",                   // 11
		pw + ":99999999999999999999", // 12: overflows
		pw + "00:1",                  // 13: 42 digits
		strings.Repeat("A", 3<<20),   // 14: a huge line
		knownPasswords["P@ssw0rd"] + ":18446744073709551615",
		pw + ":2", // a duplicate
		"\r",      // blank too
		// Last, without a line end: another hash, but with the first 64
		// bits of "password"'s, so the same key.
		"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD9:1",
	}
	st, err := Build(context.Background(), strings.NewReader(strings.Join(lines, "\n")), io.Discard, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{3, 6, 7, 8, 9, 10, 11, 12, 13, 14}; !slices.Equal(st.BadLineNumbers, want) || st.BadLines != 10 {
		t.Errorf("bad lines %d at %v, want %v", st.BadLines, st.BadLineNumbers, want)
	}
	if st.Lines != int64(len(lines)) || st.Entries != 4 || st.Duplicates != 2 {
		t.Errorf("%+v", st)
	}
	// Only the first ten line numbers are kept.
	st, err = Build(context.Background(), strings.NewReader(strings.Repeat("x\n", 50)+pw+":1\n"), io.Discard, BuildOptions{})
	if err != nil || st.BadLines != 50 || len(st.BadLineNumbers) != 10 || st.BadLineNumbers[9] != 10 || st.Entries != 1 {
		t.Errorf("%+v %v", st, err)
	}
}

func TestBuildMinCount(t *testing.T) {
	in := knownPasswords["password"] + ":52579950\r\n" + knownPasswords["password1"] + ":2\r\n" + knownPasswords["123456"] + ":1\r\n"
	f, st := buildFile(t, strings.NewReader(in), BuildOptions{MinCount: 2})
	if st.Entries != 2 || st.BelowMinCount != 1 || f.Info().MinCount != 2 {
		t.Errorf("%+v %+v", st, f.Info())
	}
	if !f.Contains("password") || !f.Contains("password1") {
		t.Error("kept hashes not found")
	}
	if _, err := Build(context.Background(), strings.NewReader(in), io.Discard, BuildOptions{MinCount: -1}); mamoru.ErrorCode(err) != mamoru.EInvalidRequest {
		t.Errorf("negative MinCount: %v", err)
	}
}

func TestBuildEmpty(t *testing.T) {
	for _, in := range []string{"", "\n\n", "garbage\n", knownPasswords["password"] + ":1\n"} {
		var out bytes.Buffer
		st, err := Build(context.Background(), strings.NewReader(in), &out, BuildOptions{MinCount: 2})
		if mamoru.ErrorCode(err) != mamoru.EInvalidRequest || !strings.Contains(err.Error(), "no usable line") || out.Len() != 0 {
			t.Errorf("%q: %v, %d bytes written, %+v", in, err, out.Len(), st)
		}
	}
}

func TestBuildDuplicates(t *testing.T) {
	var in bytes.Buffer
	sums := hashLines(&in, 1000, 4, false)
	twice := in.String() + in.String()
	f, st := buildFile(t, strings.NewReader(twice), BuildOptions{})
	if st.Entries != int64(len(sums)) || st.Duplicates != int64(len(sums)) || f.Len() != len(sums) {
		t.Errorf("%+v", st)
	}
	for _, s := range sums {
		if !f.ContainsSHA1(s) {
			t.Fatalf("%X not found", s)
		}
	}
}

func TestBuildSorted(t *testing.T) {
	// The downloader writes its file sorted by hash.
	var in bytes.Buffer
	sums := hashLines(&in, 20_000, 5, true)
	lines := strings.SplitAfter(in.String(), "\r\n")
	slices.Sort(lines)
	f, st := buildFile(t, strings.NewReader(strings.Join(lines, "")), BuildOptions{})
	if st.Entries != int64(len(sums)) {
		t.Errorf("%+v", st)
	}
	for _, s := range sums {
		if !f.ContainsSHA1(s) {
			t.Fatalf("%X not found", s)
		}
	}
}

func TestBuildGzip(t *testing.T) {
	// Build reads text; the caller decompresses (cmd/mamoru detects gzip).
	var plain, gz bytes.Buffer
	sums := hashLines(&plain, 3000, 6, true)
	zw := gzip.NewWriter(&gz)
	zw.Write(plain.Bytes())
	zw.Close()
	zr, err := gzip.NewReader(&gz)
	if err != nil {
		t.Fatal(err)
	}
	f, st := buildFile(t, zr, BuildOptions{})
	if st.Entries != int64(len(sums)) || !f.Contains("password1") {
		t.Errorf("%+v", st)
	}
}

func TestBuildCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var in bytes.Buffer
	hashLines(&in, 100, 7, false)
	var out bytes.Buffer
	if _, err := Build(ctx, &in, &out, BuildOptions{}); !errors.Is(err, context.Canceled) || out.Len() != 0 {
		t.Errorf("%v, %d bytes", err, out.Len())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestBuildWriteError(t *testing.T) {
	_, err := Build(context.Background(), strings.NewReader(knownPasswords["password"]+":1\n"), failingWriter{}, BuildOptions{})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("%v", err)
	}
}

func TestParseLine(t *testing.T) {
	key, count, kind := parseLine([]byte("5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:52579950\r\n"))
	if key != 0x5BAA61E4C9B93F3F || count != 52579950 || kind != lineGood {
		t.Errorf("%x %d %d", key, count, kind)
	}
	if _, count, kind := parseLine([]byte("5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:18446744073709551615")); count != 1<<64-1 || kind != lineGood {
		t.Errorf("largest count: %d %d", count, kind)
	}
}

// sha1Sum is the SHA-1 hash of a password.
func sha1Sum(pw string) [20]byte { return sha1.Sum([]byte(pw)) }
