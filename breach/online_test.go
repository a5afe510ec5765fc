package breach

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// rangeAPI is a stand-in for the Pwned Passwords range API on 127.0.0.1:
// it knows the passwords of counts, pads every answer with count-0 lines
// when asked to, and counts the requests it answers.
type rangeAPI struct {
	*httptest.Server
	counts   map[string]int64 // password -> count
	requests atomic.Int64
	lastPath atomic.Value // string
	padding  atomic.Bool  // the last request asked for padding
}

func newRangeAPI(t *testing.T, counts map[string]int64) *rangeAPI {
	api := &rangeAPI{counts: counts}
	api.Server = httptest.NewServer(http.HandlerFunc(api.serve))
	t.Cleanup(api.Close)
	return api
}

func (api *rangeAPI) serve(w http.ResponseWriter, r *http.Request) {
	api.requests.Add(1)
	api.lastPath.Store(r.URL.Path)
	api.padding.Store(r.Header.Get("Add-Padding") == "true")
	prefix, ok := strings.CutPrefix(r.URL.Path, "/range/")
	if !ok || len(prefix) != 5 || r.Header.Get("User-Agent") == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var b strings.Builder
	for pw, n := range api.counts {
		h := fmt.Sprintf("%X", sha1.Sum([]byte(pw)))
		if h[:5] == prefix {
			fmt.Fprintf(&b, "%s:%d\r\n", h[5:], n)
		}
	}
	if api.padding.Load() {
		for i := range 20 {
			fmt.Fprintf(&b, "%035X:0\r\n", i)
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprint(w, strings.TrimSuffix(b.String(), "\r\n")) // the real API has no final line end
}

func newOnline(t *testing.T, cfg OnlineConfig) *Online {
	t.Helper()
	o, err := NewOnline(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOnlineCount(t *testing.T) {
	api := newRangeAPI(t, map[string]int64{"password1": 2_418_984, "hunter2": 17, "Tr0ub4dor&3": 3})
	o := newOnline(t, OnlineConfig{BaseURL: api.URL + "/", Timeout: time.Second})
	ctx := context.Background()
	for pw, want := range map[string]int64{"password1": 2_418_984, "hunter2": 17, "Tr0ub4dor&3": 3, "Password1": 0, "correct horse battery staple": 0, "": 0} {
		n, err := o.Count(ctx, pw)
		if err != nil || n != want {
			t.Errorf("Count(%q) = %d, %v; want %d", pw, n, err, want)
		}
		if !api.padding.Load() {
			t.Error("padding not asked for")
		}
	}
	// Only the prefix leaves: /range/ and the first five hex digits.
	o.Count(ctx, "")
	if p := api.lastPath.Load().(string); p != "/range/"+fmt.Sprintf("%X", sha1.Sum(nil))[:5] {
		t.Errorf("path %q", p)
	}
}

func TestParseRange(t *testing.T) {
	pw := fmt.Sprintf("%X", sha1.Sum([]byte("password1")))
	for _, tc := range []struct {
		name, body string
		want       int64
		bad        bool
	}{
		{"crlf", "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n" + pw[5:] + ":2418984\r\n", 2418984, false},
		{"lf", pw[5:] + ":7\n", 7, false},
		{"lowercase", strings.ToLower(pw[5:]) + ":7", 7, false},
		{"padding", pw[5:] + ":0\r\n00000000000000000000000000000000000:0", 0, false},
		{"empty", "", 0, false},
		{"other suffixes", "0018A45C4D1DEF81644B54AB7F969B88D65:1", 0, false},
		{"html", "<html>rate limited</html>", 0, true},
		{"short suffix", pw[6:] + ":1", 0, true},
		{"negative", pw[5:] + ":-1", 0, true},
		{"no count", pw[5:] + ":", 0, true},
		{"huge count", pw[5:] + ":99999999999999999999", 0, true},
		{"blank line inside", pw[5:] + ":1\r\n\r\n" + pw[5:] + ":1", 0, true},
	} {
		es, err := parseRange([]byte(tc.body))
		if (err != nil) != tc.bad {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := es.count([]byte(pw[5:])); got != tc.want {
			t.Errorf("%s: count %d, want %d", tc.name, got, tc.want)
		}
	}
	// The padding lines are not kept.
	if es, _ := parseRange([]byte("00000000000000000000000000000000000:0\r\n0018A45C4D1DEF81644B54AB7F969B88D65:1")); len(es) != 1 {
		t.Errorf("%d entries", len(es))
	}
}

func TestOnlineFailures(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	mux := http.NewServeMux()
	mux.HandleFunc("/5xx/range/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/slow/range/", func(w http.ResponseWriter, r *http.Request) {
		select { // never answers in time
		case <-r.Context().Done():
		case <-release:
		}
	})
	mux.HandleFunc("/slowbody/range/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	mux.HandleFunc("/big/range/", func(w http.ResponseWriter, r *http.Request) {
		for range 2000 { // 80 KB
			fmt.Fprint(w, "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n")
		}
	})
	mux.HandleFunc("/malformed/range/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html>maintenance</html>")
	})
	mux.HandleFunc("/redirect/range/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:1/range/x", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		path string
		want string
	}{
		{"/5xx", "503"},
		{"/slow", "no answer within 100ms"},
		{"/slowbody", "no answer within 100ms"},
		{"/big", "larger than 65536 bytes"},
		{"/malformed", "line 1 is not SUFFIX:COUNT"},
		{"/redirect", "another host"},
	} {
		o := newOnline(t, OnlineConfig{BaseURL: srv.URL + tc.path, Timeout: 100 * time.Millisecond, MaxResponseBytes: 64 << 10})
		start := time.Now()
		n, err := o.Count(context.Background(), "password1")
		if mamoru.ErrorCode(err) != mamoru.EUnavailable || !strings.Contains(err.Error(), tc.want) || n != 0 {
			t.Errorf("%s: %d, %v; want %q", tc.path, n, err, tc.want)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %s", tc.path, d)
		}
	}

	// The caller's context ending is not the API's fault.
	o := newOnline(t, OnlineConfig{BaseURL: srv.URL + "/slow", Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := o.Count(ctx, "password1"); !errors.Is(err, context.DeadlineExceeded) || mamoru.ErrorCode(err) == mamoru.EUnavailable {
		t.Errorf("caller's deadline: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := o.Count(ctx, "password1"); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}

	// Nothing listens there.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	o = newOnline(t, OnlineConfig{BaseURL: dead.URL, Timeout: time.Second})
	if _, err := o.Count(context.Background(), "password1"); mamoru.ErrorCode(err) != mamoru.EUnavailable {
		t.Errorf("closed port: %v", err)
	}
}

func TestNewOnline(t *testing.T) {
	o, err := NewOnline(OnlineConfig{})
	if err != nil || o.base != DefaultBaseURL || o.timeout != 3*time.Second || o.maxBytes != 1<<20 || o.cache != nil || o.client == nil {
		t.Errorf("defaults: %+v %v", o, err)
	}
	for _, base := range []string{"api.pwnedpasswords.com", "ftp://example.com", "https://", "https://example.com/?x=1", "http://[::1"} {
		if _, err := NewOnline(OnlineConfig{BaseURL: base}); mamoru.ErrorCode(err) != mamoru.EInvalidRequest {
			t.Errorf("%q: %v", base, err)
		}
	}
	if _, err := NewOnline(OnlineConfig{CacheSize: -1}); mamoru.ErrorCode(err) != mamoru.EInvalidRequest {
		t.Errorf("negative cache: %v", err)
	}
}

func TestOnlineCache(t *testing.T) {
	api := newRangeAPI(t, map[string]int64{"password1": 5})
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	o := newOnline(t, OnlineConfig{BaseURL: api.URL, CacheSize: 2, CacheTTL: time.Minute, Now: func() time.Time { return now }})
	ctx := context.Background()
	count := func(pw string, want int64) {
		t.Helper()
		if n, err := o.Count(ctx, pw); err != nil || n != want {
			t.Fatalf("Count(%q) = %d, %v", pw, n, err)
		}
	}
	count("password1", 5)
	count("password1", 5)
	if n := api.requests.Load(); n != 1 {
		t.Errorf("%d requests for one prefix", n)
	}
	now = now.Add(time.Minute) // expired
	count("password1", 5)
	if n := api.requests.Load(); n != 2 {
		t.Errorf("%d requests after the TTL", n)
	}
	// Three prefixes in a cache of two: the least recently used goes.
	count("a", 0)
	count("password1", 5) // cached; "a" is now the oldest
	count("b", 0)         // evicts "a"
	count("password1", 5)
	if n := api.requests.Load(); n != 4 {
		t.Errorf("%d requests", n)
	}
	count("a", 0)
	if n := api.requests.Load(); n != 5 || o.cache.len() != 2 {
		t.Errorf("%d requests, %d kept", n, o.cache.len())
	}
	// A failure is not kept.
	api.Close()
	if _, err := o.Count(ctx, "c"); err == nil {
		t.Error("no error from a closed server")
	}
	count("password1", 5)
}
