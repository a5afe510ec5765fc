package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Cookie names of the server (web/cookies.go).
const (
	flowCookie   = "__Host-mamoru_flow"
	deviceCookie = "__Host-mamoru_device"
	csrfCookie   = "__Host-mamoru_csrf"
)

// userAgent is the waiting clients' browser.
const userAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// account is one owner and its waiting sign-in.
type account struct {
	email, password string
	ownerIP         string // where the owner signed up and clicks from
	clientIP        string // the new device that waits
	flowID          string
	flowSecret      string // the __Host-mamoru_flow cookie
	device          string // the __Host-mamoru_device cookie, if set
	stream          *stream
}

// newAccounts makes n accounts with random passwords and distinct public
// addresses (two each), named bench-approval-RUN-I@example.com.
func newAccounts(runID string, n int) []*account {
	ips := publicIPv4s(2 * n)
	out := make([]*account, n)
	for i := range out {
		out[i] = &account{
			email:    fmt.Sprintf("bench-approval-%s-%d@example.com", runID, i),
			password: "ap-" + randomHex(12),
			ownerIP:  ips[2*i],
			clientIP: ips[2*i+1],
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// publicIPv4s returns n distinct random IPv4 addresses that are public
// unicast (not private, loopback, link-local, multicast, CGNAT, reserved
// or documentation ranges), so that the server's per-address limits and
// risk signals treat every client as its own.
func publicIPv4s(n int) []string {
	seen := make(map[netip.Addr]bool, n)
	out := make([]string, 0, n)
	var b [4]byte
	for len(out) < n {
		rand.Read(b[:])
		a := netip.AddrFrom4(b)
		if seen[a] || !isPublic4(a) {
			continue
		}
		seen[a] = true
		out = append(out, a.String())
	}
	return out
}

var nonPublic4 = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
		"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3"} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

func isPublic4(a netip.Addr) bool {
	for _, p := range nonPublic4 {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// apiClient sends the JSON and form requests of preparation and of the
// approvals with net/http (the streams use raw connections).
type apiClient struct {
	base string
	http *http.Client
}

func newAPIClient(base string, timeout time.Duration) *apiClient {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 60 * time.Second}
	return &apiClient{base: base, http: &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// answer is a response read whole (up to 1 MiB).
type answer struct {
	status  int
	header  http.Header
	cookies []*http.Cookie
	body    []byte
}

// do sends one request. body is sent as JSON unless contentType says
// otherwise; header holds name, value pairs.
func (c *apiClient) do(ctx context.Context, method, path string, body []byte, contentType string, header ...string) (answer, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		if contentType == "" {
			contentType = "application/json"
		}
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return answer{status: resp.StatusCode, header: resp.Header, cookies: resp.Cookies(), body: b}, err
}

func cookieOf(a answer, name string) string {
	for _, c := range a.cookies {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func jsonBody(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// describe names a failed answer for the report: "http 429 rate_limited".
func describe(a answer) string {
	var e struct {
		Status string `json:"status"`
		Error  struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	json.Unmarshal(a.body, &e)
	s := "http " + strconv.Itoa(a.status)
	if e.Error.Code != "" {
		s += " " + e.Error.Code
	} else if e.Status != "" {
		s += " " + e.Status
	}
	return s
}

// signUp creates a's account from the owner's address, waiting out
// rate_limited answers (Retry-After, at most 10 s, three times).
func (c *apiClient) signUp(ctx context.Context, a *account) error {
	for try := 0; ; try++ {
		ans, err := c.do(ctx, http.MethodPost, "/api/v1/signup",
			jsonBody(map[string]string{"email": a.email, "password": a.password, "language": "en"}), "",
			"X-Forwarded-For", a.ownerIP, "User-Agent", userAgent, "Accept", "application/json")
		if err != nil {
			return err
		}
		if ans.status == http.StatusAccepted {
			return nil
		}
		if ans.status == http.StatusTooManyRequests && try < 3 {
			wait := 2 * time.Second
			if ra, err := strconv.Atoi(ans.header.Get("Retry-After")); err == nil && ra > 0 {
				wait = min(time.Duration(ra)*time.Second, 10*time.Second)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			continue
		}
		return errors.New("sign-up: " + describe(ans))
	}
}

// signIn signs a in from a new device with the right password; the server
// must answer approval_required with a flow and its cookie.
func (c *apiClient) signIn(ctx context.Context, a *account) error {
	ans, err := c.do(ctx, http.MethodPost, "/api/v1/signin",
		jsonBody(map[string]string{"email": a.email, "password": a.password}), "",
		"X-Forwarded-For", a.clientIP, "User-Agent", userAgent, "Accept", "application/json")
	if err != nil {
		return err
	}
	var res struct {
		Status string `json:"status"`
		FlowID string `json:"flow_id"`
	}
	json.Unmarshal(ans.body, &res)
	if ans.status != http.StatusOK || res.Status != "approval_required" || res.FlowID == "" {
		return errors.New("sign-in: " + describe(ans))
	}
	a.flowID, a.flowSecret, a.device = res.FlowID, cookieOf(ans, flowCookie), cookieOf(ans, deviceCookie)
	if a.flowSecret == "" {
		return errors.New("sign-in: approval_required without a " + flowCookie + " cookie")
	}
	return nil
}

// clientCookies is the Cookie header of the waiting client.
func (a *account) clientCookies() string {
	s := flowCookie + "=" + a.flowSecret
	if a.device != "" {
		s += "; " + deviceCookie + "=" + a.device
	}
	return s
}

// parallel runs f on every account, workers at a time, and returns the
// accounts for which it succeeded and the failures by message. progress,
// if set, is called after each.
func parallel(ctx context.Context, accts []*account, workers int, f func(context.Context, *account) error, progress func(done int)) ([]*account, map[string]int) {
	failures := map[string]int{}
	ok := make([]bool, len(accts))
	var mu sync.Mutex
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, len(accts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(accts) || ctx.Err() != nil {
					return
				}
				err := f(ctx, accts[i])
				mu.Lock()
				if err == nil {
					ok[i] = true
				} else {
					failures[shortError(ctx, err)]++
				}
				mu.Unlock()
				if n := done.Add(1); progress != nil {
					progress(int(n))
				}
			}
		}()
	}
	wg.Wait()
	var out []*account
	for i, a := range accts {
		if ok[i] {
			out = append(out, a)
		}
	}
	return out, failures
}

// shortError turns an error into a short key for the report.
func shortError(ctx context.Context, err error) string {
	switch {
	case ctx.Err() != nil:
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded), strings.Contains(err.Error(), "Timeout"):
		return "timeout"
	}
	s := err.Error()
	if i := strings.Index(s, "dial tcp"); i >= 0 {
		return "transport: " + s[i:]
	}
	return s
}

// every returns a progress function that logs at most every 5 s.
func every(logf func(string, ...any), what string, total int) func(int) {
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	return func(done int) {
		l, now := last.Load(), time.Now().UnixNano()
		if now-l > int64(5*time.Second) && last.CompareAndSwap(l, now) {
			logf("  %d/%d %s", done, total, what)
		}
	}
}
