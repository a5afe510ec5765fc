package breach

import (
	"bytes"
	"compress/gzip"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/password"
)

func TestCommon(t *testing.T) {
	tests := []struct {
		pw   string
		want bool
	}{
		{"password", true},
		{"PASSWORD", true}, // lower-cased before the lookup
		{"Password", true},
		{"ｐａｓｓｗｏｒｄ", true}, // full-width, NFKC
		{"123456", true},
		{"qwerty", true},
		{"iloveyou", true},
		{"P@ssword", false}, // only exact matches count
		{"password ", false},
		{" password", false},
		{"correct horse battery staple", false},
		{"", false},
		{"\xff\xfe", false},
		{"mamoru-bench-not-common-7f3a", false},
	}
	for _, tt := range tests {
		if got := Common(tt.pw); got != tt.want {
			t.Errorf("Common(%q) = %v, want %v", tt.pw, got, tt.want)
		}
	}
}

func TestCommonList(t *testing.T) {
	if n := CommonCount(); n != 49233 {
		t.Errorf("CommonCount() = %d, want 49233 (the upstream list has no duplicates in CommonForm)", n)
	}
	zr, err := gzip.NewReader(bytes.NewReader(commonGz))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if lines[0] != "123456" || lines[1] != "password" {
		t.Errorf("file is not in upstream order: %q", lines[:2])
	}
	for i, l := range lines {
		if l == "" || CommonForm(l) != l {
			t.Fatalf("line %d %q is not in CommonForm", i+1, l)
		}
		if !Common(l) {
			t.Fatalf("line %d %q not found", i+1, l)
		}
	}
}

func TestCommonConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !Common("letmein") {
				t.Error("letmein not common")
			}
		}()
	}
	wg.Wait()
}

func TestCommonWithPolicy(t *testing.T) {
	var p password.Policy
	if code := mamoru.ErrorCode(p.Check("Password1", Common)); code != mamoru.EPasswordCommon {
		t.Errorf("Password1: %q", code)
	}
	if err := p.Check("correct horse battery staple", Common); err != nil {
		t.Errorf("passphrase: %v", err)
	}
}

// BenchmarkLoadCommon measures decompressing and sorting the list, and the
// memory it keeps (heap growth after a GC, reported as retained-bytes).
func BenchmarkLoadCommon(b *testing.B) {
	var list []string
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	list = loadCommon()
	runtime.GC()
	runtime.ReadMemStats(&after)
	retained := float64(after.HeapAlloc) - float64(before.HeapAlloc)
	runtime.KeepAlive(list)
	b.ResetTimer()
	for b.Loop() {
		list = loadCommon()
	}
	b.ReportMetric(retained, "retained-bytes")
	b.ReportMetric(float64(len(list)), "entries")
}

func BenchmarkCommon(b *testing.B) {
	common()
	for b.Loop() {
		Common("correct horse battery staple")
	}
}
