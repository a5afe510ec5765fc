package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru/bench/internal/benchkit"
)

// TestMain doubles as a fake mamoru server when re-executed by the -serve
// test: the tool starts os.Args[0] with FAKE_MAMORU_SERVER=1.
func TestMain(m *testing.M) {
	if os.Getenv("FAKE_MAMORU_SERVER") == "1" {
		os.Exit(fakeServerMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeAPI is a tiny stand-in for the server's JSON API contract; it tests
// the tool only. Sign-in takes delay, like a hash would.
type fakeAPI struct {
	mu       sync.Mutex
	accounts map[string]string
	delay    time.Duration
	signins  atomic.Int64
	failFrac int64 // every failFrac-th sign-in answers 429 (0: never)
}

func newFakeAPI(delay time.Duration) *fakeAPI {
	return &fakeAPI{accounts: map[string]string{}, delay: delay}
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Password, Language string }
	switch r.URL.Path {
	case "/healthz":
		w.WriteHeader(http.StatusOK)
		return
	case "/api/v1/signup", "/api/v1/signin":
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/api/v1/signup" {
		f.mu.Lock()
		if _, ok := f.accounts[in.Email]; !ok && in.Language == "en" {
			f.accounts[in.Email] = in.Password
		}
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"accepted"}`)
		return
	}
	time.Sleep(f.delay)
	n := f.signins.Add(1)
	if f.failFrac > 0 && n%f.failFrac == 0 {
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"code":"rate_limited"}}`)
		return
	}
	f.mu.Lock()
	pw, ok := f.accounts[in.Email]
	f.mu.Unlock()
	if !ok || pw != in.Password {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"status":"invalid_credentials"}`)
		return
	}
	io.WriteString(w, `{"status":"signed_in","session":{"id":"x"}}`)
}

// fakeServerMain implements `serve --listen ADDR --db PATH --dev` with the
// fake API, printing its URL like the real server. It refuses to start
// without the argon2 environment the tool must pass.
func fakeServerMain(args []string) int {
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	listen := fs.String("listen", "", "")
	db := fs.String("db", "", "")
	fs.Bool("dev", false, "")
	if len(args) == 0 || args[0] != "serve" || fs.Parse(args[1:]) != nil || *db == "" {
		fmt.Fprintln(os.Stderr, "usage: serve --listen ADDR --db PATH --dev")
		return 2
	}
	for _, k := range []string{"MAMORU_PASSWORD_ARGON2_MEMORY_KIB", "MAMORU_PASSWORD_ARGON2_TIME", "MAMORU_PASSWORD_ARGON2_THREADS", "MAMORU_PASSWORD_MAX_CONCURRENT_HASHES"} {
		if os.Getenv(k) == "" {
			fmt.Fprintln(os.Stderr, "missing", k)
			return 2
		}
	}
	if err := os.WriteFile(*db, nil, 0o600); err != nil { // the tool's temp dir must exist
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("mamoru: starting")
	fmt.Printf("mamoru: listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: newFakeAPI(2 * time.Millisecond)}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() { <-sig; srv.Close() }()
	srv.Serve(ln)
	return 0
}

func TestParseConfig(t *testing.T) {
	good := [][]string{
		{"-url", "http://127.0.0.1:8080"},
		{"-url", "http://127.0.0.1:8080/", "-concurrency", "1, 2,4"},
		{"-serve", "./mamoru", "-users", "3", "-duration", "1s", "-argon2-memory", "64", "-argon2-time", "1"},
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
		{"-url", "https://127.0.0.1:8080"},
		{"-url", "http://example.com"},
		{"-url", "http://u:p@127.0.0.1:1"},
		{"-url", "http://127.0.0.1:1", "-concurrency", "0"},
		{"-url", "http://127.0.0.1:1", "-concurrency", "a"},
		{"-url", "http://127.0.0.1:1", "-users", "0"},
		{"-url", "http://127.0.0.1:1", "-argon2-memory", "4"},
		{"-url", "http://127.0.0.1:1", "-argon2-threads", "0"},
		{"-url", "http://127.0.0.1:1", "-duration", "0s"},
		{"-url", "http://127.0.0.1:1", "extra"},
	}
	for _, args := range bad {
		if _, err := parseConfig(args, io.Discard); err == nil {
			t.Errorf("parseConfig(%q) accepted", args)
		}
	}
	c, _ := parseConfig([]string{"-url", "http://127.0.0.1:1", "-max-concurrent-hashes", "3", "-argon2-memory", "1024"}, io.Discard)
	env := strings.Join(c.serverEnv(), " ")
	for _, want := range []string{"MAMORU_PASSWORD_ARGON2_MEMORY_KIB=1024", "MAMORU_PASSWORD_ARGON2_TIME=2", "MAMORU_PASSWORD_ARGON2_THREADS=1", "MAMORU_PASSWORD_MAX_CONCURRENT_HASHES=3"} {
		if !strings.Contains(env, want) {
			t.Errorf("serverEnv lacks %s: %s", want, env)
		}
	}
}

func TestRawParallelism(t *testing.T) {
	if got := rawParallelism(32, 19456, 0); got != 32 {
		t.Errorf("unknown memory: %d", got)
	}
	if got := rawParallelism(32, 19456, 200*1024); got != 5 { // 100 MiB usable / 19 MiB
		t.Errorf("200 MiB available: %d", got)
	}
	if got := rawParallelism(32, 19456, 1); got != 1 {
		t.Errorf("no memory: %d", got)
	}
}

func TestRunRawStops(t *testing.T) {
	r := runRaw(context.Background(), 2, 64, 1, 1, time.Minute, 10)
	if r.Hashes != 10 || r.PerSecond() <= 0 {
		t.Errorf("capped run: %+v", r)
	}
	r = runRaw(context.Background(), 2, 64, 1, 1, 50*time.Millisecond, 1<<30)
	if r.Hashes == 0 || r.Elapsed > 5*time.Second {
		t.Errorf("timed run: %+v", r)
	}
}

func TestReport(t *testing.T) {
	r := &report{
		Command: benchkit.ShellQuote([]string{"signin", "-url", "http://127.0.0.1:1", "-out", "my report.md"}),
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Mode: "serve", Target: "http://127.0.0.1:1",
		Users: 4, ReadyUsers: 3, PrepFailures: map[string]int{"first sign-in: http 429": 1},
		Duration: time.Second, MaxRequests: 100, MemoryKiB: 19456, Time: 2, Threads: 1, PeakRSSKiB: 204800,
		Machine: benchkit.Machine{NProc: 2, CPUModel: "Test CPU", MemTotalKB: 4 << 20, GoVersion: "go1.26", OSArch: "linux/amd64"},
		Levels: []level{
			{Concurrency: 1, Load: loadResult{Requests: 20, Elapsed: time.Second, P50: 50 * time.Millisecond, P99: 70 * time.Millisecond, ErrorKind: map[string]int{}},
				Raw: rawResult{Parallel: 1, Hashes: 25, Elapsed: time.Second}, PeakRSSKiB: 102400},
			{Concurrency: 8, Load: loadResult{Requests: 40, Errors: 2, ErrorKind: map[string]int{"http 429": 2}, Elapsed: 2 * time.Second, P50: 150 * time.Millisecond, P99: 400 * time.Millisecond},
				Raw: rawResult{Parallel: 5, Hashes: 50, Elapsed: 2 * time.Second}, PeakRSSKiB: -1},
		},
		Notes: []string{"a note"},
	}
	var b strings.Builder
	if err := r.writeMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"signin -url http://127.0.0.1:1 -out 'my report.md'",
		"| 1 | 20.0 | 50.0 ms | 70.0 ms | 20 | 0 | 25.0 | 0.80 | 100.0 MiB |",
		"| 8 | 19.0 | 150.0 ms | 400.0 ms | 40 | 2 | 25.0 (5 goroutines) | 0.76 | unknown |",
		"| 8 | http 429 | 2 |",
		"| preparation | first sign-in: http 429 | 1 |",
		"| server peak RSS (VmHWM) | 200.0 MiB |",
		"| CPUs (nproc) | 2 |",
		"| CPU model | Test CPU |",
		"| Go (this tool) | go1.26 linux/amd64 |",
		"m=19456 KiB, t=2, p=1",
		"- a note",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestRunAgainstURL(t *testing.T) {
	api := newFakeAPI(time.Millisecond)
	api.failFrac = 10
	srv := httptest.NewServer(api)
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "report.md")
	var stderr strings.Builder
	err := run(context.Background(), []string{"signin", "-url", srv.URL, "-users", "5", "-concurrency", "1,3",
		"-duration", "200ms", "-max-requests", "50", "-argon2-memory", "64", "-argon2-time", "1", "-out", out}, io.Discard, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rep := string(b)
	for _, want := range []string{"| 1 | ", "| 3 | ", "5 created, ", "already running", "RSS is unknown", "http 429", "-users 5"} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
	// Every sign-in is accounted for and the cap held.
	if n := api.signins.Load(); n > 5+2*50 {
		t.Errorf("%d sign-ins, cap is 5 + 2×50", n)
	}
}

func TestRunLoadCounts(t *testing.T) {
	api := newFakeAPI(0)
	srv := httptest.NewServer(api)
	defer srv.Close()
	c := newClient(srv.URL, 4, 5*time.Second)
	ctx := context.Background()
	users := newUsers(3)
	ready, failures := prepare(ctx, c, users)
	if len(ready) != 3 || len(failures) != 0 {
		t.Fatalf("prepare: %d ready, %v", len(ready), failures)
	}
	r := runLoad(ctx, c, ready, 4, time.Minute, 40) // the cap ends it
	if r.Requests != 40 || r.Errors != 0 || r.P50 <= 0 || r.P99 < r.P50 {
		t.Errorf("runLoad = %+v", r)
	}
	// Wrong passwords are errors of their own kind.
	wrong := []user{{email: ready[0].email, password: "nope"}}
	r = runLoad(ctx, c, wrong, 1, time.Minute, 3)
	if r.Errors != 3 || r.ErrorKind["http 401 invalid_credentials"] != 3 {
		t.Errorf("wrong password: %+v", r)
	}
	// A dead server: transport errors, and the loop still ends.
	srv.Close()
	r = runLoad(ctx, c, ready, 2, 100*time.Millisecond, 1<<20)
	if r.Errors != r.Requests || r.ErrorKind["transport"] == 0 {
		t.Errorf("dead server: %+v", r)
	}
}

// TestRunServe starts the test binary itself as a fake server, checking
// start-up parsing, the environment, RSS reading and shutdown.
func TestRunServe(t *testing.T) {
	t.Setenv("FAKE_MAMORU_SERVER", "1")
	out := filepath.Join(t.TempDir(), "report.md")
	var stderr strings.Builder
	err := run(context.Background(), []string{"signin", "-serve", os.Args[0], "-users", "3", "-concurrency", "2",
		"-duration", "200ms", "-argon2-memory", "64", "-argon2-time", "1", "-max-concurrent-hashes", "2",
		"-start-timeout", "20s", "-out", out}, io.Discard, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	b, _ := os.ReadFile(out)
	rep := string(b)
	for _, want := range []string{"started by the tool", "3 created, 3 signed in", "| server concurrent hashes | 2 |", "| 2 | "} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
	if strings.Contains(rep, "| server peak RSS (VmHWM) | unknown |") {
		t.Errorf("server RSS not read:\n%s", rep)
	}
}

func TestServeFailsFast(t *testing.T) {
	// A binary that exits at once: the error comes back, not a hang.
	t.Setenv("FAKE_MAMORU_SERVER", "1")
	_, err := benchkit.StartServer(context.Background(), os.Args[0], nil, 20*time.Second) // no argon2 env: refuses
	if err == nil || !strings.Contains(err.Error(), "missing MAMORU_PASSWORD_ARGON2_MEMORY_KIB") {
		t.Errorf("StartServer = %v", err)
	}
}
