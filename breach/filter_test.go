package breach

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mamoru-id/mamoru"
)

// smallFile is a valid filter file of the known passwords and a few
// hundred random hashes.
func smallFile(t testing.TB) []byte {
	t.Helper()
	var in, out bytes.Buffer
	hashLines(&in, 300, 9, false)
	if _, err := Build(context.Background(), &in, &out, BuildOptions{Seed: 11}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// openBytes writes data to a file and opens it.
func openBytes(t testing.TB, data []byte) (*Filter, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.fuse")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return Open(path)
}

// fixChecksum rewrites the checksum of a file so that it matches.
func fixChecksum(data []byte) {
	if len(data) < headerSize {
		return
	}
	crc := crc32.Update(crc32.Update(0, crcTable, data[:crcOffset]), crcTable, data[headerSize:])
	binary.LittleEndian.PutUint32(data[crcOffset:], crc)
}

func TestOpenRefusesDamagedFiles(t *testing.T) {
	good := smallFile(t)
	f, err := openBytes(t, good)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Contains("password1") {
		t.Error("password1 not found")
	}
	f.Close()

	edit := func(fn func(b []byte) []byte) []byte { return fn(bytes.Clone(good)) }
	le := binary.LittleEndian
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "shorter than the 64-byte header"},
		{"header only", good[:headerSize], "truncated"},
		{"truncated", good[:len(good)-1], "truncated"},
		{"padded", append(bytes.Clone(good), 0), "truncated or padded"},
		{"magic", edit(func(b []byte) []byte { b[0] = 'X'; return b }), "wrong magic"},
		{"text", []byte(strings.Repeat("5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:1\n", 3)), "wrong magic"},
		{"version", edit(func(b []byte) []byte { le.PutUint16(b[8:], 2); return b }), "version 2"},
		{"arity", edit(func(b []byte) []byte { b[10] = 4; return b }), "arity 4"},
		{"segment length", edit(func(b []byte) []byte { le.PutUint32(b[12:], 100); return b }), "segment length 100"},
		{"segment count", edit(func(b []byte) []byte { le.PutUint32(b[16:], 0); return b }), "segment count 0"},
		{"array length", edit(func(b []byte) []byte { le.PutUint64(b[48:], 5); return b }), "fingerprint array length 5"},
		{"entries", edit(func(b []byte) []byte { le.PutUint64(b[32:], 0); return b }), "0 entries"},
		{"reserved", edit(func(b []byte) []byte { b[61] = 1; return b }), "reserved"},
		{"seed", edit(func(b []byte) []byte { b[24] ^= 1; return b }), "checksum"},
		{"body", edit(func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }), "checksum"},
	} {
		f, err := openBytes(t, tc.data)
		if err == nil {
			f.Close()
			t.Errorf("%s: opened", tc.name)
			continue
		}
		if mamoru.ErrorCode(err) != mamoru.EInvalidRequest || !errors.Is(err, errFormat) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v (code %s), want %q", tc.name, err, mamoru.ErrorCode(err), tc.want)
		}
	}

	_, err = Open(filepath.Join(t.TempDir(), "missing.fuse"))
	if mamoru.ErrorCode(err) != mamoru.EInternal || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(t.TempDir()); mamoru.ErrorCode(err) != mamoru.EInvalidRequest || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: %v", err)
	}
}

func TestFilterClose(t *testing.T) {
	f, err := openBytes(t, smallFile(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if f.Contains("password1") {
		t.Error("a closed filter contains something")
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	var nilFilter *Filter
	if nilFilter.Contains("password1") || nilFilter.Len() != 0 || nilFilter.Close() != nil {
		t.Error("nil filter")
	}
}

// FuzzOpen feeds Open arbitrary files: it must refuse them with an error
// or open them, never panic, and an opened filter must answer lookups.
// Each input is also tried with its checksum fixed, so that mutated
// headers and bodies get past the checksum.
func FuzzOpen(f *testing.F) {
	good := smallFile(f)
	f.Add(good)
	f.Add(good[:headerSize])
	f.Add([]byte(fileMagic))
	f.Add([]byte{})
	dir := f.TempDir()
	path := filepath.Join(dir, "f.fuse")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fix := range []bool{false, true} {
			if fix {
				data = bytes.Clone(data)
				fixChecksum(data)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			flt, err := Open(path)
			if err != nil {
				if mamoru.ErrorCode(err) != mamoru.EInvalidRequest {
					t.Fatalf("code %s: %v", mamoru.ErrorCode(err), err)
				}
				continue
			}
			for _, pw := range []string{"password", "password1", "", "x"} {
				flt.Contains(pw)
			}
			var s [20]byte
			for i := range 256 {
				s[0], s[7] = byte(i), byte(i*7)
				flt.ContainsSHA1(s)
			}
			flt.Close()
		}
	})
}
