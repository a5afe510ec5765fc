package main

import (
	"context"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru/bench/internal/benchkit"
)

func TestParseConfig(t *testing.T) {
	good := [][]string{
		{"-url", "http://127.0.0.1:8080"},
		{"-url", "http://127.0.0.1:8080/", "-pid", "42", "-n", "5", "-k", "5"},
		{"-serve", "./mamoru", "-n", "3", "-k", "1", "-idle", "0s", "-approve-every", "100ms"},
	}
	for _, args := range good {
		if _, err := parseConfig(args, io.Discard); err != nil {
			t.Errorf("parseConfig(%q): %v", args, err)
		}
	}
	bad := [][]string{
		{},
		{"-url", "http://127.0.0.1:1", "-serve", "x"},
		{"-url", "http://localhost:8080"},
		{"-url", "http://10.0.0.1:8080"},
		{"-serve", "x", "-pid", "3"},
		{"-serve", "x", "-n", "0"},
		{"-serve", "x", "-n", "20000"},
		{"-serve", "x", "-n", "5", "-k", "6"},
		{"-serve", "x", "-k", "0"},
		{"-serve", "x", "-idle", "-1s"},
		{"-serve", "x", "-argon2-threads", "0"},
		{"-serve", "x", "extra"},
	}
	for _, args := range bad {
		if _, err := parseConfig(args, io.Discard); err == nil {
			t.Errorf("parseConfig(%q) accepted", args)
		}
	}
	c, _ := parseConfig([]string{"-serve", "x"}, io.Discard)
	if c.n != 10000 || c.k != 200 {
		t.Errorf("defaults n=%d k=%d", c.n, c.k)
	}
	env := strings.Join(c.serverEnv(), " ")
	for _, want := range []string{"MAMORU_RISK_OVERRIDES=new_device=approval,no_history=approval", "MAMORU_TRUSTED_PROXIES=127.0.0.1/32",
		"MAMORU_PROXY_HEADER=X-Forwarded-For", "MAMORU_PASSWORD_ARGON2_MEMORY_KIB=19456", "MAMORU_LOG_LEVEL=warn"} {
		if !strings.Contains(env, want) {
			t.Errorf("serverEnv lacks %s: %s", want, env)
		}
	}
}

func TestHelpers(t *testing.T) {
	st := "Name:\tmamoru\nVmHWM:\t  2048 kB\nVmRSS:\t    1024 kB\nThreads:\t9\n"
	if statusField(st, "VmRSS:") != 1024 || statusField(st, "VmHWM:") != 2048 || statusField(st, "Threads:") != 9 || statusField(st, "VmSwap:") != -1 {
		t.Errorf("statusField misread %q", st)
	}
	if got := parseGoroutines("# HELP go_goroutines x\ngo_goroutines 1234\ngo_threads 9\n"); got != 1234 {
		t.Errorf("parseGoroutines = %d", got)
	}
	if got := parseGoroutines("mamoru_password_verifications_total 3\n"); got != -1 {
		t.Errorf("parseGoroutines without the metric = %d", got)
	}
	ips := publicIPv4s(5000)
	seen := map[string]bool{}
	for _, s := range ips {
		a := netip.MustParseAddr(s)
		if seen[s] || !a.Is4() || a.IsPrivate() || a.IsLoopback() || a.IsMulticast() || !isPublic4(a) {
			t.Fatalf("bad or repeated address %s", s)
		}
		seen[s] = true
	}
	for _, s := range []string{"10.1.2.3", "100.64.0.1", "192.0.2.1", "198.51.100.7", "203.0.113.9", "240.0.0.1", "127.0.0.1"} {
		if isPublic4(netip.MustParseAddr(s)) {
			t.Errorf("%s counted as public", s)
		}
	}
	a := &account{flowSecret: "F", device: "D"}
	if got := a.clientCookies(); got != "__Host-mamoru_flow=F; __Host-mamoru_device=D" {
		t.Errorf("clientCookies = %q", got)
	}
}

// TestRunAgainstServer builds cmd/mamoru and runs the whole tool against
// it with a few waiting sign-ins; APPROVAL_TEST_SERVER=BIN uses a built
// binary instead.
func TestRunAgainstServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	bin := benchkit.ServerBinary(t, "APPROVAL_TEST_SERVER")
	out := filepath.Join(t.TempDir(), "report.md")
	var stderr strings.Builder
	start := time.Now()
	err := run(context.Background(), []string{"approval", "-serve", bin, "-n", "12", "-k", "4", "-idle", "1s",
		"-settle", "200ms", "-start-timeout", "20s", "-out", out}, io.Discard, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	b, _ := os.ReadFile(out)
	rep := string(b)
	for _, want := range []string{
		"started by the tool",
		"`MAMORU_RISK_OVERRIDES=new_device=approval,no_history=approval`",
		"| accounts | 12 created (sign-up)",
		"12 signed in from a new device and wait for approval",
		"| event streams | 12 open",
		"4 approvals, 4 signed the waiting client in",
		"## Cost of a waiting sign-in", "## The waiting phase", "| CPUs (nproc) |",
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
	if strings.Contains(rep, "NaN") || strings.Contains(rep, "Inf") || strings.Contains(rep, "Failed approvals") {
		t.Errorf("report has NaN, Inf or failures:\n%s", rep)
	}
	// The server's file descriptors: one more per open stream, and fewer
	// once all are closed.
	m := regexp.MustCompile(`\| open file descriptors \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|`).FindStringSubmatch(rep)
	if m == nil {
		t.Fatalf("no file descriptor row:\n%s", rep)
	}
	before, open, closed := atoi(m[1]), atoi(m[2]), atoi(m[4])
	// (The server's database pool may keep a few more files open.)
	if open-before < 12 || closed >= open {
		t.Errorf("server fds before %s, open %s, after approvals %s, closed %s:\n%s", m[1], m[2], m[3], m[4], rep)
	}
	if strings.Contains(rep, "| RSS (VmRSS) | unknown") || strings.Contains(rep, "CPU while 12 sign-ins wait | unknown") {
		t.Errorf("server RSS or CPU not read:\n%s", rep)
	}
	if !regexp.MustCompile(`\| \*\*approve → .signed_in.\*\* .*\| [0-9.]+ ms \| [0-9.]+ ms \|`).MatchString(rep) {
		t.Errorf("no approval latency:\n%s", rep)
	}
	t.Logf("whole run %v", time.Since(start))
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
