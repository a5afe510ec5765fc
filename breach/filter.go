package breach

import (
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/mamoru-id/mamoru"
)

// The filter file: a 64-byte header, then the fingerprint array. Numbers
// are little-endian. docs/breach.md describes the format for other tools.
//
//	 0  8  magic "MAMORUBF"
//	 8  2  version (1)
//	10  1  arity (3)
//	11  1  fingerprint bits (8)
//	12  4  segment length (a power of two, at most 2^18)
//	16  4  segment count (at least 1)
//	20  4  reserved, zero
//	24  8  seed
//	32  8  entries (distinct keys, at least 1)
//	40  8  minimum COUNT of the lines kept (0 or 1: all)
//	48  8  fingerprint array length: (segment count + 2) * segment length
//	56  4  CRC-32C (Castagnoli) of bytes 0..55 then of the fingerprint array
//	60  4  reserved, zero
//	64     fingerprint array, one byte per slot
const (
	fileMagic   = "MAMORUBF"
	fileVersion = 1
	headerSize  = 64
	crcOffset   = 56
)

// crcTable is the CRC-32C table; the checksum guards against truncated or
// damaged files, not against someone who can write the file.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// header is the decoded header of a filter file.
type header struct {
	params   fuseParams
	seed     uint64
	entries  uint64
	minCount uint64
}

// encode returns the header bytes for the fingerprint array fp, checksum
// included.
func (h header) encode(fp []byte) []byte {
	b := make([]byte, headerSize)
	copy(b, fileMagic)
	binary.LittleEndian.PutUint16(b[8:], fileVersion)
	b[10] = fuseArity
	b[11] = 8
	binary.LittleEndian.PutUint32(b[12:], h.params.segmentLength)
	binary.LittleEndian.PutUint32(b[16:], h.params.segmentCount)
	binary.LittleEndian.PutUint64(b[24:], h.seed)
	binary.LittleEndian.PutUint64(b[32:], h.entries)
	binary.LittleEndian.PutUint64(b[40:], h.minCount)
	binary.LittleEndian.PutUint64(b[48:], uint64(len(fp)))
	crc := crc32.Update(crc32.Update(0, crcTable, b[:crcOffset]), crcTable, fp)
	binary.LittleEndian.PutUint32(b[crcOffset:], crc)
	return b
}

// errFormat is the cause of every "not a valid filter file" error.
var errFormat = errors.New("not a valid breach filter file")

// decodeFile checks a whole filter file and returns its header and its
// fingerprint array (a slice of data). It never panics, whatever data is.
func decodeFile(data []byte) (header, []byte, error) {
	var h header
	bad := func(format string, args ...any) (header, []byte, error) {
		return h, nil, fmt.Errorf("%w: %s", errFormat, fmt.Sprintf(format, args...))
	}
	if len(data) < headerSize {
		return bad("%d bytes, shorter than the %d-byte header", len(data), headerSize)
	}
	if string(data[:8]) != fileMagic {
		return bad("wrong magic %q (want %q)", data[:8], fileMagic)
	}
	le := binary.LittleEndian
	if v := le.Uint16(data[8:]); v != fileVersion {
		return bad("version %d, this build reads version %d", v, fileVersion)
	}
	if data[10] != fuseArity || data[11] != 8 {
		return bad("arity %d with %d-bit fingerprints, want %d with 8", data[10], data[11], fuseArity)
	}
	h.params = fuseParams{segmentLength: le.Uint32(data[12:]), segmentCount: le.Uint32(data[16:])}
	h.seed = le.Uint64(data[24:])
	h.entries = le.Uint64(data[32:])
	h.minCount = le.Uint64(data[40:])
	arrayLen := le.Uint64(data[48:])
	segLen := h.params.segmentLength
	switch {
	case le.Uint32(data[20:]) != 0 || le.Uint32(data[60:]) != 0:
		return bad("reserved header bytes are not zero")
	case segLen < 4 || segLen > maxSegmentLength || segLen&(segLen-1) != 0:
		return bad("segment length %d", segLen)
	case h.params.segmentCount == 0:
		return bad("segment count 0")
	case arrayLen != h.params.arrayLength():
		return bad("fingerprint array length %d, want %d for %d segments of %d", arrayLen, h.params.arrayLength(), h.params.segmentCount, segLen)
	case h.entries == 0 || h.entries > arrayLen || h.entries > maxEntries:
		return bad("%d entries for %d slots", h.entries, arrayLen)
	case h.minCount > 1<<63-1:
		return bad("minimum count %d", h.minCount)
	case uint64(len(data)-headerSize) != arrayLen:
		return bad("%d bytes, want %d (header and %d fingerprints): truncated or padded", len(data), headerSize+arrayLen, arrayLen)
	}
	fp := data[headerSize:]
	crc := crc32.Update(crc32.Update(0, crcTable, data[:crcOffset]), crcTable, fp)
	if want := le.Uint32(data[crcOffset:]); crc != want {
		return bad("checksum %08x, header says %08x: the file is damaged", crc, want)
	}
	return h, fp, nil
}

// Filter is an open filter file: a set of SHA-1 password hashes with a
// false-positive rate of about 1/256 and no false negatives. It is safe
// for concurrent use; Close must come after the last lookup.
type Filter struct {
	path     string
	size     int64
	entries  uint64
	minCount uint64
	seed     uint64
	slots    slots
	fp       []byte       // the fingerprint array, inside data
	data     []byte       // the whole file
	release  func() error // unmaps data; nil when data is on the heap
}

// Open opens the filter file at path, written by Build, and checks it:
// its header, its size and its checksum (which reads the whole file once).
// The file is memory-mapped read-only where the system allows it (Linux,
// the BSDs, macOS), and read into memory elsewhere. A file that is not a
// valid filter gives an error with code mamoru.EInvalidRequest.
func Open(path string) (*Filter, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "breach: opening the filter")
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "breach: opening the filter")
	}
	if !st.Mode().IsRegular() {
		return nil, mamoru.Errorf(mamoru.EInvalidRequest, "breach: filter %s: not a regular file", path)
	}
	size := st.Size()
	if size < headerSize {
		return nil, mamoru.WrapError(mamoru.EInvalidRequest, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", errFormat, size, headerSize), "breach: filter "+path)
	}
	if int64(int(size)) != size {
		return nil, mamoru.Errorf(mamoru.EInvalidRequest, "breach: filter %s: %d bytes is too large for this system", path, size)
	}
	data, release, err := mapFile(file, int(size))
	if err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "breach: reading the filter "+path)
	}
	f, err := newFilter(data)
	if err != nil {
		if release != nil {
			release()
		}
		return nil, mamoru.WrapError(mamoru.EInvalidRequest, err, "breach: filter "+path)
	}
	f.path, f.size, f.release = path, size, release
	return f, nil
}

// newFilter checks data, a whole filter file, and returns the filter that
// reads it.
func newFilter(data []byte) (*Filter, error) {
	h, fp, err := decodeFile(data)
	if err != nil {
		return nil, err
	}
	return &Filter{
		size: int64(len(data)), entries: h.entries, minCount: h.minCount, seed: h.seed,
		slots: h.params.slots(), fp: fp, data: data,
	}, nil
}

// ContainsSHA1 reports whether the SHA-1 hash sum is in the filter. A
// hash that was imported always is; about 1 in 256 others is too (a false
// positive). A nil or closed Filter contains nothing. A lookup reads three
// bytes of the file and does not allocate.
func (f *Filter) ContainsSHA1(sum [20]byte) bool {
	if f == nil || f.fp == nil {
		return false
	}
	return f.slots.contains(f.fp, fuseHash(binary.BigEndian.Uint64(sum[:8]), f.seed))
}

// Contains reports whether the SHA-1 hash of password is in the filter,
// hashing the password's bytes as given: Have I Been Pwned hashes the
// password as it was typed, in UTF-8, without normalizing it or changing
// its case. See ContainsSHA1 for false positives.
func (f *Filter) Contains(password string) bool {
	return f.ContainsSHA1(sha1.Sum([]byte(password)))
}

// Len returns the number of distinct hashes in the filter (hashes that
// share their first 64 bits count once).
func (f *Filter) Len() int {
	if f == nil {
		return 0
	}
	return int(f.entries)
}

// Info describes the open filter file, for logs.
func (f *Filter) Info() FilterInfo {
	if f == nil {
		return FilterInfo{}
	}
	return FilterInfo{
		Path: f.path, Entries: int64(f.entries), MinCount: int64(f.minCount), Bytes: f.size,
		BitsPerEntry: 8 * float64(f.size) / float64(max(f.entries, 1)),
	}
}

// FilterInfo describes a filter file.
type FilterInfo struct {
	Path         string  // as given to Open
	Entries      int64   // distinct hashes
	MinCount     int64   // lines with a smaller COUNT were left out (0 or 1: none)
	Bytes        int64   // size of the file
	BitsPerEntry float64 // 8 * Bytes / Entries
}

// String returns e.g. "breach filter pwned.fuse: 1000000 hashes (COUNT ≥ 1), 9.0 bits/hash".
func (i FilterInfo) String() string {
	return fmt.Sprintf("breach filter %s: %d hashes (COUNT ≥ %d), %.1f bits/hash", i.Path, i.Entries, max(i.MinCount, 1), i.BitsPerEntry)
}

// Close unmaps the file. Lookups must not run during or after Close;
// after it the Filter contains nothing.
func (f *Filter) Close() error {
	if f == nil || f.data == nil {
		return nil
	}
	release := f.release
	f.fp, f.data, f.release = nil, nil, nil
	if release != nil {
		return release()
	}
	return nil
}

// writeFile writes a filter file: the header of h and fp, the
// fingerprint array, in chunks.
func writeFile(w io.Writer, h header, fp []byte) (int64, error) {
	n, err := w.Write(h.encode(fp))
	total := int64(n)
	for len(fp) > 0 && err == nil {
		chunk := fp[:min(len(fp), 1<<20)]
		n, err = w.Write(chunk)
		total += int64(n)
		fp = fp[len(chunk):]
	}
	return total, err
}
