package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru/bench/internal/benchkit"
)

// procState is what /proc and /metrics tell about a process at one time;
// -1 is unknown.
type procState struct {
	at         time.Time
	rssKiB     int64 // VmRSS
	hwmKiB     int64 // VmHWM
	threads    int64 // OS threads
	fds        int64 // open file descriptors
	cpu        time.Duration
	goroutines int64 // go_goroutines of /metrics, when the server exports it
}

func unknownState() procState {
	return procState{at: time.Now(), rssKiB: -1, hwmKiB: -1, threads: -1, fds: -1, cpu: -1, goroutines: -1}
}

// readProc reads process pid (0: nothing known) and, if client is set,
// go_goroutines from base/metrics.
func readProc(ctx context.Context, pid int, client *http.Client, base string) (s procState) {
	s = unknownState()
	if client != nil {
		defer func() { s.goroutines = scrapeGoroutines(ctx, client, base) }() // after the fds are counted
	}
	if pid <= 0 {
		return s
	}
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	if b, err := os.ReadFile(filepath.Join(dir, "status")); err == nil {
		st := string(b)
		s.rssKiB = statusField(st, "VmRSS:")
		s.hwmKiB = statusField(st, "VmHWM:")
		s.threads = statusField(st, "Threads:")
	}
	if ents, err := os.ReadDir(filepath.Join(dir, "fd")); err == nil {
		s.fds = int64(len(ents))
	}
	if d, err := benchkit.CPUTime(pid); err == nil {
		s.cpu = d
	}
	return s
}

// selfState is readProc of this process (no metrics).
func selfState() procState { return readProc(context.Background(), os.Getpid(), nil, "") }

// statusField returns the number of a /proc/PID/status line ("VmRSS:
// 1234 kB" → 1234), or -1.
func statusField(status, name string) int64 {
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return n
				}
			}
		}
	}
	return -1
}

// scrapeGoroutines returns go_goroutines from base/metrics, or -1 when the
// server does not export it (its registry may lack the Go collector).
func scrapeGoroutines(ctx context.Context, client *http.Client, base string) int64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return -1
	}
	resp, err := client.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode != http.StatusOK {
		return -1
	}
	return parseGoroutines(string(b))
}

// parseGoroutines finds the go_goroutines sample of a Prometheus text, or -1.
func parseGoroutines(text string) int64 {
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
				return int64(v)
			}
		}
	}
	return -1
}
