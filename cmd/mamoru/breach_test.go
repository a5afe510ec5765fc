package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mamoru-id/mamoru/breach"
)

// pwnedFile returns n lines in the Pwned Passwords format: "password1"'s
// hash, then random hashes, then a malformed line.
func pwnedFile(n int) string {
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	fmt.Fprintf(&b, "%X:2418984\r\n", sha1.Sum([]byte("password1")))
	for i := range n {
		fmt.Fprintf(&b, "%016X%016X%08X:%d\r\n", rng.Uint64(), rng.Uint64(), rng.Uint32(), 1+i%3)
	}
	b.WriteString("not a hash\r\n")
	return b.String()
}

func TestBreachImport(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "pwnedpasswords.txt")
	os.WriteFile(in, []byte(pwnedFile(20_000)), 0o600)
	out := filepath.Join(dir, "pwned.fuse")

	stdout, stderr, err := cli(t, "", nil, "breach", "import", in, "--out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{"wrote " + out + ": 20001 hashes", "bits per hash", "20002 lines", "1 malformed (skipped; lines 20002)", "false positives: 0.", "took "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	f, err := breach.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 20001 || !f.Contains("password1") {
		t.Errorf("Len %d, password1 %v", f.Len(), f.Contains("password1"))
	}
	f.Close()
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode: %v %v", st.Mode(), err)
	}

	// Gzipped, on standard input, with a minimum count: the file is
	// replaced.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(pwnedFile(20_000)))
	zw.Close()
	stdout, stderr, err = cli(t, gz.String(), nil, "breach", "import", "--min-count", "3", "--out", out, "-")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "standard input: 20002 lines, 13334 below the minimum count") {
		t.Errorf("%s", stdout)
	}
	f, err = breach.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 20000-13334+1 || !f.Contains("password1") || f.Info().MinCount != 3 {
		t.Errorf("%+v", f.Info())
	}
	f.Close()

	// Nothing but the filter is left in the directory.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d files: %v", len(entries), entries)
	}
}

func TestBreachImportErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "pwned.fuse")
	os.WriteFile(out, []byte("the old filter"), 0o644)
	for _, tc := range []struct {
		args  []string
		stdin string
		code  int
		want  string
	}{
		{[]string{"breach"}, "", 2, "usage"},
		{[]string{"breach", "export", "x"}, "", 2, "usage"},
		{[]string{"breach", "import"}, "", 2, "usage"},
		{[]string{"breach", "import", "a", "b"}, "", 2, "usage"},
		{[]string{"breach", "import", "--min-count", "-1", "-"}, "", 2, "usage"},
		{[]string{"breach", "import", "--nope", "-"}, "", 2, "not defined"},
		{[]string{"breach", "import", filepath.Join(dir, "missing.txt")}, "", 1, "no such file"},
		{[]string{"breach", "import", "--out", out, "-"}, "", 1, "no usable line"},
		{[]string{"breach", "import", "--out", out, "-"}, "garbage\n", 1, "no usable line among 1 (1 malformed"},
		{[]string{"breach", "import", "--out", out, "-"}, "\x1f\x8bnot gzip", 1, "gzip"},
		{[]string{"breach", "import", "--out", filepath.Join(dir, "no", "such", "dir", "f.fuse"), "-"}, pwnedFile(3), 1, "no such file"},
	} {
		_, _, err := cli(t, tc.stdin, nil, tc.args...)
		if err == nil || exitCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v (exit %d), want exit %d and %q", tc.args, err, exitCode(err), tc.code, tc.want)
		}
	}
	// A failed import leaves the old file, and no temporary file.
	if b, _ := os.ReadFile(out); string(b) != "the old filter" {
		t.Errorf("old filter replaced: %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%v", entries)
	}
}
