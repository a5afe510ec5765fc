package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
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
		{"-url", "http://127.0.0.1:8080/", "-pid", "42"},
		{"-serve", "./mamoru", "-users", "3", "-victims", "0", "-duration", "2s", "-settle", "0s", "-attack-rate", "500"},
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
		{"-url", "http://127.0.0.1:1", "-users", "0"},
		{"-url", "http://127.0.0.1:1", "-legit-rate", "0"},
		{"-url", "http://127.0.0.1:1", "-concurrency", "0"},
		{"-url", "http://127.0.0.1:1", "-ips", "0"},
		{"-url", "http://127.0.0.1:1", "-known-share", "1.5"},
		{"-url", "http://127.0.0.1:1", "-ipv6-share", "-0.1"},
		{"-url", "http://127.0.0.1:1", "-duration", "0s"},
		{"-url", "http://127.0.0.1:1", "-passwords", "/nonexistent"},
		{"-url", "http://127.0.0.1:1", "extra"},
	}
	for _, args := range bad {
		c, err := parseConfig(args, io.Discard)
		if err == nil && args[len(args)-1] == "/nonexistent" {
			if _, err = loadPasswords(c.passwords); err != nil {
				continue // refused when loaded
			}
		}
		if err == nil {
			t.Errorf("parseConfig(%q) accepted", args)
		}
	}
	c, _ := parseConfig([]string{"-serve", "x"}, io.Discard)
	env := strings.Join(c.serverEnv(), " ")
	for _, want := range []string{"MAMORU_TRUSTED_PROXIES=127.0.0.1/32", "MAMORU_PROXY_HEADER=X-Forwarded-For", "MAMORU_LOG_LEVEL=warn"} {
		if !strings.Contains(env, want) {
			t.Errorf("serverEnv lacks %s: %s", want, env)
		}
	}
	if !strings.HasSuffix(c.passwords, defaultPasswordList) {
		t.Errorf("default password list %q", c.passwords)
	}
}

func TestLoadPasswords(t *testing.T) {
	c, err := parseConfig([]string{"-serve", "x"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	list, err := loadPasswords(c.passwords)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 49233 || list[0] != "123456" { // breach/data/SOURCE.md
		t.Errorf("%d passwords, first %q", len(list), list[0])
	}
	plain := filepath.Join(t.TempDir(), "pw.txt")
	os.WriteFile(plain, []byte("a\r\n\nb\"c\n"), 0o600)
	if list, err := loadPasswords(plain); err != nil || len(list) != 2 || list[1] != `b"c` {
		t.Errorf("plain list: %q, %v", list, err)
	}
	if got := jsonString(`b"c`); got != `"b\"c"` {
		t.Errorf("jsonString = %s", got)
	}
}

func TestAddrGen(t *testing.T) {
	g := newAddrGen(rand.New(rand.NewPCG(1, 2)))
	addrs := g.strings(20000, 0.1)
	seen, v6 := map[string]bool{}, 0
	for _, s := range addrs {
		a := netip.MustParseAddr(s)
		if seen[s] {
			t.Fatalf("%s twice", s)
		}
		seen[s] = true
		switch {
		case a.Is4() && !isPublic4(a):
			t.Errorf("%s is not public", s)
		case a.Is6():
			v6++
			if !isPublic6(a) || a.IsPrivate() || a.IsLoopback() {
				t.Errorf("%s is not a public IPv6 address", s)
			}
		}
	}
	if v6 < 1500 || v6 > 2500 {
		t.Errorf("%d IPv6 addresses of 20000 at share 0.1", v6)
	}
	for _, s := range []string{"10.1.2.3", "192.168.0.1", "127.0.0.1", "100.64.0.1", "224.0.0.1", "203.0.113.9", "255.255.255.255", "0.1.2.3"} {
		if isPublic4(netip.MustParseAddr(s)) {
			t.Errorf("%s counted as public", s)
		}
	}
	if !isPublic4(netip.MustParseAddr("93.184.216.34")) || isPublic6(netip.MustParseAddr("2001:db8::1")) {
		t.Error("public4/public6 misjudged")
	}
}

func TestSolveAltcha(t *testing.T) {
	salt := "abcdef0123?expires=1700000000&level=low&"
	sum := sha256.Sum256([]byte(salt + "12345"))
	ch := altchaChallenge{Algorithm: "SHA-256", Challenge: hex.EncodeToString(sum[:]), MaxNumber: 20000, Salt: salt, Signature: "sig"}
	payload, n, err := solveAltcha(ch)
	if err != nil || n != 12345 {
		t.Fatalf("solveAltcha = %d, %v", n, err)
	}
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"algorithm": "SHA-256", "challenge": ch.Challenge, "number": float64(12345), "salt": salt, "signature": "sig"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("payload %s = %v, want %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("payload has %d fields: %s", len(got), raw)
	}
	ch.MaxNumber = 100
	if _, _, err := solveAltcha(ch); err == nil {
		t.Error("solved beyond maxnumber")
	}
	ch.Algorithm = "SHA-512"
	if _, _, err := solveAltcha(ch); err == nil {
		t.Error("accepted SHA-512")
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		status   int
		body     string
		want     class
		other    string
		rejected bool
	}{
		{200, `{"status":"signed_in","token":"x"}`, cSignedIn, "", false},
		{401, `{"status":"invalid_credentials"}`, cInvalid, "", true},
		{200, `{"status":"challenge_required","flow_id":"f"}`, cChallenge, "", false},
		{200, `{"status": "password_reset_required"}`, cResetRequired, "", false},
		{401, `{"status":"locked"}`, cLocked, "", true},
		{401, `{"error":{"code":"locked","message":"m"}}`, cLocked, "", true},
		{401, `{"status":"restricted"}`, cRestricted, "", true},
		{429, `{"error":{"code":"rate_limited","message":"m"}}`, cRateLimited, "", true},
		{429, `{"error":{"code":"captcha_required","message":"m"},"captcha":{"type":"altcha"}}`, cCaptcha, "", true},
		{503, `{"error":{"code":"unavailable","message":"m"}}`, cOther, "http 503 unavailable", true},
		{500, `{"error":{"code":"internal","message":"m"}}`, cOther, "http 500 internal", false},
		{429, `slow down`, cOther, "http 429", true},
		{400, `{"error":{"code":"new_thing"}}`, cOther, "http 400 new_thing", true},
		{500, `{"status":"signed_in"}`, cOther, "http 500 signed_in", false},
	}
	for _, tt := range tests {
		c, other := classify(tt.status, []byte(tt.body))
		if c != tt.want || other != tt.other || rejected(c, tt.status) != tt.rejected {
			t.Errorf("classify(%d, %s) = %v %q rejected=%v; want %v %q %v", tt.status, tt.body, c, other, rejected(c, tt.status), tt.want, tt.other, tt.rejected)
		}
	}
	if got := jsonField([]byte(`{"statusx":"a","status" : "b"}`), keyStatus); string(got) != "b" {
		t.Errorf("jsonField = %q", got)
	}
	if got := jsonField([]byte(`{"status":1}`), keyStatus); got != nil {
		t.Errorf("jsonField of a number = %q", got)
	}
}

func TestParseMetrics(t *testing.T) {
	m := parseMetrics(`# HELP mamoru_password_verifications_total Verifications.
# TYPE mamoru_password_verifications_total counter
mamoru_password_verifications_total{result="ok"} 12
mamoru_password_verifications_total{result="fail"} 30 1700000000000
mamoru_guard_rejections_total{reason="ip",action="signin"} 7
mamoru_guard_rejections_total{action="signin",reason="captcha \"x\""} 5
mamoru_guard_rejections_total{reason="ip",action="code"} 1
mamoru_other 3
`)
	if !m.ok || m.verifications != 42 || m.guard["ip"] != 8 || m.guard[`captcha "x"`] != 5 || len(m.guard) != 2 {
		t.Errorf("parseMetrics = %+v", m)
	}
	if m := parseMetrics("mamoru_password_verifications_total 1.5e3\n"); !m.ok || m.verifications != 1500 {
		t.Errorf("unlabelled = %+v", m)
	}
	if m := parseMetrics("go_goroutines 3\n"); m.ok || m.why == "" {
		t.Errorf("missing counter = %+v", m)
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	if m := scrapeMetrics(context.Background(), srv.Client(), srv.URL); m.ok || !strings.Contains(m.why, "404") {
		t.Errorf("404 = %+v", m)
	}
}

func TestUserCookies(t *testing.T) {
	u := newUser(&account{})
	rec := httptest.NewRecorder()
	http.SetCookie(rec, &http.Cookie{Name: "__Host-mamoru_device", Value: "d1", Secure: true, Path: "/"})
	http.SetCookie(rec, &http.Cookie{Name: "__Host-mamoru_session", Value: "s1", Secure: true, Path: "/"})
	u.keep(rec.Result())
	if got := u.cookieHeader(); got != "__Host-mamoru_device=d1; __Host-mamoru_session=s1" {
		t.Errorf("cookies = %q", got)
	}
	rec = httptest.NewRecorder()
	http.SetCookie(rec, &http.Cookie{Name: "__Host-mamoru_session", MaxAge: -1})
	u.keep(rec.Result())
	if got := u.cookieHeader(); got != "__Host-mamoru_device=d1" {
		t.Errorf("cookies after clearing = %q", got)
	}
}

// TestRawConn checks the attack's HTTP client on the answers a Go server
// gives: sized and chunked bodies, Retry-After, Connection: close, and a
// keep-alive connection the server closed while idle.
func TestRawConn(t *testing.T) {
	var conns int
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/chunked":
			w.Write([]byte(`{"status":`))
			w.(http.Flusher).Flush()
			w.Write([]byte(`"invalid_credentials"}`))
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write(body)
		case "/limited":
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(429)
			w.Write([]byte(`{"error":{"code":"rate_limited"}}`))
		default:
			w.Write(body)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns++
		}
	}
	srv.Start()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	c := newRawConn(addr, 5*time.Second)
	defer c.close()
	req := func(path, body string) []byte {
		return []byte("POST " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	}
	for i := range 3 {
		r, err := c.roundTrip(req("/echo", `{"n":`+strconv.Itoa(i)+`}`))
		if err != nil || r.status != 200 || string(r.body) != `{"n":`+strconv.Itoa(i)+`}` {
			t.Fatalf("echo %d: %d %q %v", i, r.status, r.body, err)
		}
	}
	if r, err := c.roundTrip(req("/chunked", "{}")); err != nil || string(r.body) != `{"status":"invalid_credentials"}` {
		t.Errorf("chunked: %q %v", r.body, err)
	}
	if r, err := c.roundTrip(req("/limited", "{}")); err != nil || r.status != 429 || !r.retryAfter {
		t.Errorf("limited: %+v %v", r, err)
	}
	if conns != 1 {
		t.Errorf("%d connections for 5 keep-alive requests", conns)
	}
	if r, err := c.roundTrip(req("/close", "x")); err != nil || string(r.body) != "x" || c.conn != nil {
		t.Errorf("close: %q %v, conn kept: %v", r.body, err, c.conn != nil)
	}
	if _, err := c.roundTrip(req("/echo", "y")); err != nil || conns != 2 {
		t.Errorf("after close: %v, %d connections", err, conns)
	}
	// The server drops idle connections: the request goes out again on a
	// new one.
	srv.CloseClientConnections()
	time.Sleep(50 * time.Millisecond)
	if r, err := c.roundTrip(req("/echo", "z")); err != nil || string(r.body) != "z" {
		t.Errorf("after the server closed: %q %v", r.body, err)
	}
	// Building and sending an attack attempt allocates (next to) nothing
	// (measured against a responder that allocates nothing either: the
	// count is the whole process's).
	addr = cannedResponder(t, "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 32\r\n\r\n{\"status\":\"invalid_credentials\"}")
	c2 := newRawConn(addr, 5*time.Second)
	defer c2.close()
	plan := &attackPlan{addr: addr, ips: []string{"93.184.216.34", "2a00::1"}, known: []string{`"a@example.com"`}, unknown: "x-", passwords: []string{`"123456"`, `"pass\"word"`}, knownShare: 0.5}
	rng := rand.New(rand.NewPCG(1, 1))
	buf, scratch := make([]byte, 0, 1024), make([]byte, 0, 256)
	var cnt counts
	allocs := testing.AllocsPerRun(200, func() {
		buf, scratch = plan.appendRequest(buf, scratch, rng)
		r, err := c2.roundTrip(buf)
		if err != nil || r.status != 401 {
			t.Fatalf("attempt: %d %v", r.status, err)
		}
		cl, other := classify(r.status, r.body)
		cnt.record(cl, other, r.status)
	})
	if allocs > 0.5 || cnt.n[cInvalid] == 0 || cnt.rejected != cnt.n[cInvalid] {
		t.Errorf("%.1f allocations per attack attempt; counts %+v", allocs, cnt)
	}
	// What the server got is a well-formed sign-in.
	var in struct{ Email, Password string }
	if err := json.Unmarshal(scratch, &in); err != nil || in.Email == "" || in.Password == "" {
		t.Errorf("body %s: %v", scratch, err)
	}
}

// cannedResponder serves HTTP/1.1 keep-alive connections on 127.0.0.1,
// answering every request with resp, allocating nothing per request. It
// returns its address.
func cannedResponder(t *testing.T, resp string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := []byte(resp)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for {
					length := 0
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(line) <= 2 {
							break
						}
						const cl = "content-length:"
						if len(line) > len(cl) && strings.EqualFold(string(line[:len(cl)]), cl) {
							for _, d := range line[len(cl):] {
								if d >= '0' && d <= '9' {
									length = length*10 + int(d-'0')
								}
							}
						}
					}
					if _, err := br.Discard(length); err != nil {
						return
					}
					if _, err := conn.Write(out); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestRunAgainstGuardedFake runs the whole tool over -url against a fake
// server with the protection's contract: CAPTCHA in attack mode, rate
// limits, /metrics.
func TestRunAgainstGuardedFake(t *testing.T) {
	fake := newFakeGuarded()
	fake.perIP = 40
	srv := httptest.NewServer(fake)
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "report.md")
	var stderr strings.Builder
	err := run(context.Background(), []string{"flood", "-url", srv.URL, "-users", "3", "-victims", "5", "-ips", "20",
		"-legit-rate", "20", "-baseline", "300ms", "-duration", "1500ms", "-settle", "500ms", "-concurrency", "4", "-out", out}, io.Discard, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	b, _ := os.ReadFile(out)
	rep := string(b)
	for _, want := range []string{
		"| server metrics | available |",
		"| legitimate users | 3 created, 3 signed in once",
		"| victim accounts | 5 created, 5 ready",
		"of the 8 accounts",
		"| attack attempts rejected per second ≥ 20000 (wave after 500ms) |",
		"| legitimate p99 in the wave ≤ 2 × baseline p99",
		"| attack attempts reaching the password hash ≤ 1% (wave after 500ms) |",
		"| captcha_required |", "| rate_limited |", "| invalid_credentials |",
		"| captcha |", "| ip |", // guard reasons from /metrics
		"already running",
		"-users 3",
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
	// Legitimate users solved CAPTCHAs in the wave and came back with
	// their device cookie.
	if m := regexp.MustCompile(`\| CAPTCHAs solved by legitimate users \| 0 \| (\d+) \(mean`).FindStringSubmatch(rep); m == nil {
		t.Errorf("no CAPTCHAs solved in the wave:\n%s", rep)
	}
	if fake.captchaOK.Load() == 0 || fake.knownDevice.Load() == 0 {
		t.Errorf("fake saw %d CAPTCHA answers, %d sign-ins from known devices", fake.captchaOK.Load(), fake.knownDevice.Load())
	}
	// The hash figure is a number, and the attack in attack mode rarely
	// reaches the hash.
	if m := regexp.MustCompile(`\*\*attack attempts that reached the hash\*\* \| — \| \*\*(\d+) \(`).FindStringSubmatch(rep); m == nil {
		t.Errorf("no attack hash figure:\n%s", rep)
	}
	if strings.Contains(rep, "| **server CPU per rejection** | — | unknown") == false {
		t.Errorf("server CPU should be unknown without -pid:\n%s", rep)
	}
}

// TestRunAgainstServer builds cmd/mamoru and runs the whole tool against
// it briefly: today's server (with or without attack protection) must
// give a complete, sane report. FLOOD_TEST_SERVER=BIN uses a built binary.
func TestRunAgainstServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	bin := benchkit.ServerBinary(t, "FLOOD_TEST_SERVER")
	out := filepath.Join(t.TempDir(), "report.md")
	var stderr strings.Builder
	start := time.Now()
	err := run(context.Background(), []string{"flood", "-serve", bin, "-users", "3", "-victims", "5", "-legit-rate", "5",
		"-baseline", "1s", "-duration", "2s", "-settle", "1s", "-concurrency", "8", "-ips", "1000",
		"-start-timeout", "20s", "-out", out}, io.Discard, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	b, _ := os.ReadFile(out)
	rep := string(b)
	for _, want := range []string{
		"started by the tool",
		"`MAMORU_TRUSTED_PROXIES=127.0.0.1/32`",
		"| legitimate users | 3 created, 3 signed in once",
		"| victim accounts | 5 created, 5 ready",
		"## Targets", "## Results", "### Attack answers", "### Legitimate answers",
		"| signed_in |",
		"| CPUs (nproc) |",
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
	// Every row has a column per phase, and the numbers are sane.
	if strings.Contains(rep, "NaN") || strings.Contains(rep, "Inf") {
		t.Errorf("report has NaN or Inf:\n%s", rep)
	}
	m := regexp.MustCompile(`\| attack attempts \| — \| (\d+) \| (\d+) \|`).FindStringSubmatch(rep)
	if m == nil {
		t.Fatalf("no attack attempts row:\n%s", rep)
	}
	if n, _ := strconv.Atoi(m[1]); n == 0 {
		t.Errorf("no attack attempt was answered:\n%s", rep)
	}
	if strings.Contains(rep, "| server peak RSS (VmHWM) | unknown |") || strings.Contains(rep, "| server CPU | unknown") {
		t.Errorf("server CPU or RSS not read:\n%s", rep)
	}
	if !regexp.MustCompile(`\| \*\*legitimate success\*\* \| \*\*100\.00%\*\* \|`).MatchString(rep) {
		t.Errorf("baseline sign-ins failed:\n%s", rep)
	}
	t.Logf("whole run %v", time.Since(start))
}

// TestReportFigures checks the arithmetic of the targets on made-up
// phases.
func TestReportFigures(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	snapAt := func(sec int, cpu time.Duration, verifs float64, guard map[string]float64) snapshot {
		return snapshot{at: t0.Add(time.Duration(sec) * time.Second), serverCPU: cpu, toolCPU: cpu / 10,
			metrics: metrics{ok: true, verifications: verifs, guard: guard}}
	}
	legit := func(n int, lat time.Duration, c class, from int) []outcome {
		var out []outcome
		for i := range n {
			out = append(out, outcome{at: t0.Add(time.Duration(from)*time.Second + time.Duration(i)*time.Millisecond), latency: lat, class: c})
		}
		return out
	}
	wave := &counts{sent: 300000, rejected: 299000}
	wave.n[cInvalid], wave.n[cCaptcha], wave.n[cRateLimited], wave.n[cTransport] = 5000, 200000, 94000, 1000
	steady := &counts{sent: 200000, rejected: 200000}
	steady.n[cCaptcha], steady.n[cRateLimited] = 150000, 50000
	s0, s1 := snapAt(0, 0, 0, nil), snapAt(10, 2*time.Second, 100, nil)
	s2 := snapAt(20, 6*time.Second, 5250, map[string]float64{"captcha": 50000})
	s3 := snapAt(40, 14*time.Second, 5550, map[string]float64{"captcha": 200000, "ip": 94000})
	r := &report{
		Command: "flood -serve ./mamoru", Started: t0, Mode: "serve", Target: "http://127.0.0.1:1",
		Cfg:      config{users: 50, victims: 2000, legitRate: 10, concurrency: 64, ips: 50000, ipv6Share: 0.1, knownShare: 0.5, baseline: 10 * time.Second, duration: 30 * time.Second, settle: 10 * time.Second, requestTimeout: 10 * time.Second, passwords: "/x/" + defaultPasswordList},
		Baseline: phase{Name: "baseline", Elapsed: 10 * time.Second, Legit: legit(100, 40*time.Millisecond, cSignedIn, 0), From: s0, To: s1},
		Wave:     phase{Name: "wave", Elapsed: 30 * time.Second, Attack: wave, Legit: append(legit(100, 70*time.Millisecond, cSignedIn, 10), legit(200, 60*time.Millisecond, cSignedIn, 20)...), From: s1, To: s3},
		Steady:   &phase{Name: "wave after 10s", Elapsed: 20 * time.Second, Attack: steady, Legit: legit(200, 60*time.Millisecond, cSignedIn, 20), From: s2, To: s3},
		Machine:  benchkitMachine(), PeakRSSKiB: 2048, Passwords: 49233, ReadyUsers: 50, ReadyVictims: 2000, KnownAccounts: 2050,
	}
	var b strings.Builder
	if err := r.writeMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		// 200000 rejections in 20 s.
		"| attack attempts rejected per second ≥ 20000 (wave after 10s) | 10000.0 | FAIL |",
		// 70 ms ≤ 2 × 40 ms.
		"| legitimate p99 in the wave ≤ 2 × baseline p99 (≤ 80.0 ms) | 70.0 ms | PASS |",
		// (5550 − 5250) − 200 legitimate = 100 of 200000 = 0.05%.
		"| attack attempts reaching the password hash ≤ 1% (wave after 10s) | 0.05% | PASS |",
		"| **rejected/s** | — | **9966.7** | **10000.0** |",
		// 12 s / 299000 and 8 s / 200000.
		"| **server CPU per rejection** | — | **40 µs** | **40 µs** |",
		// Wave: 5450 − 300 legitimate = 5150 of 300000.
		"| **attack attempts that reached the hash** | — | **5150 (1.72%)** | **100 (0.05%)** |",
		"| password verifications (server) | 100 | 5450 | 300 |",
		"| server CPU | 2.0 s (0.20 cores) | 12.0 s (0.40 cores) | 8.0 s (0.40 cores) |",
		"| legitimate share of requests | 100% | 0.10% | 0.10% |",
		"| captcha_required | 200000 | 150000 |",
		"| transport error | 1000 | 0 |",
		"| captcha | 0 | 200000 | 150000 |",
		"| ip | 0 | 94000 | 94000 |",
		"| server metrics | available |",
		"(breach/data/common-passwords.txt.gz)",
		"| server peak RSS (VmHWM) | 2.0 MiB |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// Without metrics the hash figures are unknown, not zero.
	r.Wave.From.metrics, r.Steady.From.metrics = metrics{why: "GET /metrics answered 404"}, metrics{why: "GET /metrics answered 404"}
	b.Reset()
	r.writeMarkdown(&b)
	out = b.String()
	for _, want := range []string{
		"| attack attempts reaching the password hash ≤ 1% (wave after 10s) | unknown | UNKNOWN |",
		"| **attack attempts that reached the hash** | — | unknown | unknown |",
		"| server metrics | unknown: GET /metrics answered 404 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report without metrics lacks %q:\n%s", want, out)
		}
	}
}

func benchkitMachine() benchkit.Machine {
	return benchkit.Machine{NProc: 2, CPUModel: "Test CPU", GoVersion: "go1.26", OSArch: "linux/amd64"}
}

func TestCaptchaInfoShapes(t *testing.T) {
	fake := newFakeGuarded()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := newAPIClient(srv.URL, 5*time.Second)
	u := newUser(&account{ip: "93.184.216.34", userAgent: "x"})
	for _, body := range []string{
		`{"error":{"code":"captcha_required","captcha":{"type":"altcha","challenge_url":"/api/v1/captcha/challenge","field":"altcha"}}}`,
		`{"error":{"code":"captcha_required"},"captcha":{"type":"altcha","challenge_url":"/api/v1/captcha/challenge"}}`,
		`{"error":{"code":"captcha_required"}}`, // the default URL
	} {
		payload, _, err := c.captcha(context.Background(), u, []byte(body))
		if err != nil || !fake.verifyCaptcha(payload) {
			t.Errorf("%s: %v", body, err)
		}
	}
	for _, body := range []string{
		`{"error":{"code":"captcha_required","captcha":{"type":"turnstile","site_key":"k"}}}`,
		`{"error":{"code":"captcha_required","captcha":{"type":"altcha","challenge_url":"http://example.com/c"}}}`,
	} {
		if _, _, err := c.captcha(context.Background(), u, []byte(body)); err == nil {
			t.Errorf("%s accepted", body)
		}
	}
}
