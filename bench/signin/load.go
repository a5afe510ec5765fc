package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamoru-id/mamoru/bench/internal/benchkit"
)

// user is an account created for the run.
type user struct {
	email    string
	password string
}

// newUsers returns n users with addresses and passwords unique to this run
// (so that reruns against the same server do not collide).
func newUsers(n int) []user {
	run := randomHex(4)
	users := make([]user, n)
	for i := range users {
		users[i] = user{
			email:    fmt.Sprintf("bench-%s-%d@example.com", run, i),
			password: "bench-" + randomHex(12),
		}
	}
	return users
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// client speaks the server's JSON API.
type client struct {
	base string
	http *http.Client
}

// newClient returns a client for base with enough idle connections for
// maxConc concurrent requests.
func newClient(base string, maxConc int, timeout time.Duration) *client {
	tr := &http.Transport{
		MaxIdleConns:        maxConc * 2,
		MaxIdleConnsPerHost: maxConc * 2,
		IdleConnTimeout:     30 * time.Second,
	}
	return &client{base: base, http: &http.Client{Transport: tr, Timeout: timeout}}
}

// post sends body as JSON and returns the status and up to 64 KiB of the
// response.
func (c *client) post(ctx context.Context, path string, body any) (int, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, out, err
}

// signup creates u; the server answers 202 whether or not it existed.
func (c *client) signup(ctx context.Context, u user) error {
	status, _, err := c.post(ctx, "/api/v1/signup", map[string]string{"email": u.email, "password": u.password, "language": "en"})
	if err != nil {
		return err
	}
	if status != http.StatusAccepted {
		return fmt.Errorf("sign-up: HTTP %d", status)
	}
	return nil
}

// signin signs u in and returns "" on success or the kind of failure,
// e.g. "http 401 invalid_credentials", "http 429", "transport".
func (c *client) signin(ctx context.Context, u user) string {
	status, body, err := c.post(ctx, "/api/v1/signin", map[string]string{"email": u.email, "password": u.password})
	if err != nil {
		if ctx.Err() != nil {
			return "cancelled"
		}
		return "transport"
	}
	var r struct {
		Status string `json:"status"`
	}
	json.Unmarshal(body, &r)
	if status == http.StatusOK && r.Status == "signed_in" {
		return ""
	}
	if r.Status != "" {
		return fmt.Sprintf("http %d %s", status, r.Status)
	}
	return fmt.Sprintf("http %d", status)
}

// prepare signs every user up and then in once (4 at a time), and returns
// those who could sign in, and the failures by kind.
func prepare(ctx context.Context, c *client, users []user) ([]user, map[string]int) {
	failures := map[string]int{}
	ok := make([]bool, len(users))
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(4, len(users)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(users) || ctx.Err() != nil {
					return
				}
				kind := ""
				if err := c.signup(ctx, users[i]); err != nil {
					kind = "sign-up: " + err.Error()
				} else if k := c.signin(ctx, users[i]); k != "" {
					kind = "first sign-in: " + k
				}
				mu.Lock()
				if kind == "" {
					ok[i] = true
				} else {
					failures[kind]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var ready []user
	for i, u := range users {
		if ok[i] {
			ready = append(ready, u)
		}
	}
	return ready, failures
}

// loadResult is one concurrency level of sign-ins.
type loadResult struct {
	Requests  int
	Errors    int
	ErrorKind map[string]int
	Elapsed   time.Duration
	P50, P99  time.Duration
}

// PerSecond is successful sign-ins per second.
func (r loadResult) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests-r.Errors) / r.Elapsed.Seconds()
}

// runLoad runs conc workers signing users in, round robin, until d has
// passed, maxRequests have been sent, or ctx ends.
func runLoad(ctx context.Context, c *client, users []user, conc int, d time.Duration, maxRequests int) loadResult {
	var next atomic.Int64
	deadline := time.Now().Add(d)
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(c.http.Timeout))
	defer cancel()
	lat := make([][]time.Duration, conc)
	kinds := make([]map[string]int, conc)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kinds[w] = map[string]int{}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := next.Add(1) - 1
				if i >= int64(maxRequests) {
					return
				}
				t := time.Now()
				kind := c.signin(ctx, users[i%int64(len(users))])
				lat[w] = append(lat[w], time.Since(t))
				if kind != "" {
					kinds[w][kind]++
				}
			}
		}()
	}
	wg.Wait()
	r := loadResult{Elapsed: time.Since(start), ErrorKind: map[string]int{}}
	var all []time.Duration
	for w := range conc {
		all = append(all, lat[w]...)
		for k, n := range kinds[w] {
			r.ErrorKind[k] += n
			r.Errors += n
		}
	}
	r.Requests = len(all)
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r.P50 = benchkit.Percentile(all, 50)
	r.P99 = benchkit.Percentile(all, 99)
	return r
}
