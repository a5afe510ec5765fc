package benchkit

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, x := range n {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2), 50, 1 * time.Millisecond},
		{ms(1, 2, 3), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(hundred...), 50, 50 * time.Millisecond},
		{ms(hundred...), 99, 99 * time.Millisecond},
		{ms(hundred...), 100, 100 * time.Millisecond},
		{ms(append(hundred, 101)...), 99, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := Percentile(tt.in, tt.p); got != tt.want {
			t.Errorf("Percentile(%d samples, %v) = %v, want %v", len(tt.in), tt.p, got, tt.want)
		}
	}
}

func TestParseVmHWMAndCPU(t *testing.T) {
	kib, err := ParseVmHWM("Name:\tmamoru\nVmPeak:\t  200 kB\nVmHWM:\t   12345 kB\nVmRSS:\t 1 kB\n")
	if err != nil || kib != 12345 {
		t.Errorf("ParseVmHWM = %d, %v", kib, err)
	}
	if _, err := ParseVmHWM("Name:\tx\n"); err == nil {
		t.Error("ParseVmHWM without the line")
	}
	if kib, err := PeakRSSKiB(os.Getpid()); err != nil || kib <= 0 {
		t.Errorf("PeakRSSKiB(self) = %d, %v", kib, err)
	}
	if got := ParseCPUModel("processor\t: 0\nvendor_id\t: X\nmodel name\t: Fancy CPU @ 3GHz\n"); got != "Fancy CPU @ 3GHz" {
		t.Errorf("ParseCPUModel = %q", got)
	}
	if got := ParseCPUModel(""); got != "unknown" {
		t.Errorf("ParseCPUModel(empty) = %q", got)
	}
}

func TestParseStatCPU(t *testing.T) {
	// Fields 14 and 15 are 250 and 75 ticks; the name has a space and a ')'.
	stat := "4242 (my (odd) srv) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 9 0 12345 1000000 2000 18446744073709551615\n"
	d, err := ParseStatCPU(stat)
	if err != nil || d != 3250*time.Millisecond {
		t.Errorf("ParseStatCPU = %v, %v; want 3.25s", d, err)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 a b c"} {
		if _, err := ParseStatCPU(bad); err == nil {
			t.Errorf("ParseStatCPU(%q) accepted", bad)
		}
	}
	// Our own CPU time grows when we work.
	before, err := SelfCPUTime()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	after, _ := SelfCPUTime()
	if after < before || x == 0 {
		t.Errorf("SelfCPUTime went from %v to %v", before, after)
	}
	if _, err := CPUTime(os.Getpid()); err != nil {
		t.Errorf("CPUTime(self): %v", err)
	}
}

func TestShellQuote(t *testing.T) {
	got := ShellQuote([]string{"a", "-concurrency", "1,8,32", "it's", ""})
	if want := `a -concurrency 1,8,32 'it'\''s' ''`; got != want {
		t.Errorf("ShellQuote = %s, want %s", got, want)
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8080", "http://127.0.0.1"} {
		if err := CheckLoopback(ok); err != nil {
			t.Errorf("CheckLoopback(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"http://localhost:8080", "https://127.0.0.1:1", "http://10.0.0.1", "http://u:p@127.0.0.1:1", "http://[::1]:1"} {
		if err := CheckLoopback(bad); err == nil {
			t.Errorf("CheckLoopback(%q) accepted", bad)
		}
	}
}

func TestTail(t *testing.T) {
	tl := newTail(10)
	tl.Write([]byte("hello "))
	tl.Write([]byte("world"))
	if got := tl.String(); got != "ello world" {
		t.Errorf("tail = %q", got)
	}
	for range 100 {
		tl.Write([]byte("abc"))
	}
	if got := tl.String(); got != "cabcabcabc" {
		t.Errorf("tail after many writes = %q", got)
	}
	if len(tl.buf) > 20 {
		t.Errorf("tail kept %d bytes", len(tl.buf))
	}
	tl.Write([]byte(strings.Repeat("x", 30) + "0123456789"))
	if got := tl.String(); got != "0123456789" {
		t.Errorf("tail after a long write = %q", got)
	}
}

func TestMachineRows(t *testing.T) {
	m := Machine{NProc: 2, CPUModel: "Test CPU", MemTotalKB: 4 << 20, GoVersion: "go1.26", OSArch: "linux/amd64"}
	rows := m.MarkdownRows()
	for _, want := range []string{"| CPUs (nproc) | 2 |", "| CPU model | Test CPU |", "| memory | 4.0 GiB |", "| Go (this tool) | go1.26 linux/amd64 |"} {
		if !strings.Contains(rows, want) {
			t.Errorf("rows lack %q:\n%s", want, rows)
		}
	}
	if got := ThisMachine(); got.NProc < 1 || got.GoVersion == "" {
		t.Errorf("ThisMachine = %+v", got)
	}
}
