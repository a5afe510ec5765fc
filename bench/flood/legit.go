package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamoru-id/mamoru/bench/internal/benchkit"
)

// apiClient speaks the JSON API as browsers of legitimate users do, one
// address and User-Agent per user, with the user's cookies. It uses
// net/http: the legitimate load is small.
type apiClient struct {
	base string
	http *http.Client
}

func newAPIClient(base string, timeout time.Duration) *apiClient {
	tr := &http.Transport{
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     60 * time.Second,
	}
	return &apiClient{base: base, http: &http.Client{Transport: tr, Timeout: timeout}}
}

// user is a legitimate user: its account and the cookies its browser
// keeps. The server's cookies are Secure (__Host-) while the bench speaks
// plain http on loopback, so they are kept and sent by hand rather than
// by a cookie jar, which would drop them.
type user struct {
	*account
	mu      sync.Mutex
	cookies map[string]string
}

func newUser(a *account) *user { return &user{account: a, cookies: map[string]string{}} }

// cookieHeader returns the Cookie header of the user's next request.
func (u *user) cookieHeader() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	parts := make([]string, 0, len(u.cookies))
	for _, name := range benchkit.SortedKeys(u.cookies) {
		parts = append(parts, name+"="+u.cookies[name])
	}
	return strings.Join(parts, "; ")
}

// keep stores the cookies an answer sets (and drops those it clears).
func (u *user) keep(resp *http.Response) {
	cs := resp.Cookies()
	if len(cs) == 0 {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, c := range cs {
		if c.MaxAge < 0 || c.Value == "" || (!c.Expires.IsZero() && c.Expires.Before(time.Now())) {
			delete(u.cookies, c.Name)
		} else {
			u.cookies[c.Name] = c.Value
		}
	}
}

// answer is the status, Retry-After header and up to 64 KiB of the body
// of an answer.
type answer struct {
	status     int
	retryAfter string
	body       []byte
}

// do sends one request as u.
func (c *apiClient) do(ctx context.Context, u *user, method, path string, body []byte) (answer, error) {
	target := path
	if !strings.HasPrefix(path, "http://") {
		target = c.base + path
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", u.userAgent)
	req.Header.Set("X-Forwarded-For", u.ip)
	if ch := u.cookieHeader(); ch != "" {
		req.Header.Set("Cookie", ch)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	u.keep(resp)
	out, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	io.Copy(io.Discard, resp.Body)
	return answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: out}, err
}

// signupBody and signinBody are the JSON bodies; captcha is omitted when "".
func signupBody(a *account) []byte {
	b, _ := json.Marshal(map[string]string{"email": a.email, "password": a.password, "language": "en"})
	return b
}

func signinBody(a *account, captcha string) []byte {
	m := map[string]string{"email": a.email, "password": a.password}
	if captcha != "" {
		m["captcha"] = captcha
	}
	b, _ := json.Marshal(m)
	return b
}

// outcome is how one legitimate sign-in ended.
type outcome struct {
	at         time.Time     // when it was due (open loop: its latency counts from here)
	latency    time.Duration // until the final answer, CAPTCHA included
	class      class
	other      string // for cOther and cTransport
	status     int
	captcha    bool          // a CAPTCHA was asked and solved
	solveTime  time.Duration // spent solving it
	captchaErr string        // why a CAPTCHA could not be answered
}

// defaultChallengeURL is where a captcha_required answer that names no
// challenge_url sends the client.
const defaultChallengeURL = "/api/v1/captcha/challenge"

// signIn signs u in with its right password from its device; when the
// server asks for a CAPTCHA it fetches the challenge, solves it and tries
// once more, as the browser would.
func (c *apiClient) signIn(ctx context.Context, u *user) outcome {
	var o outcome
	a, err := c.do(ctx, u, http.MethodPost, "/api/v1/signin", signinBody(u.account, ""))
	if err != nil {
		return transportOutcome(ctx, err)
	}
	o.status = a.status
	o.class, o.other = classify(a.status, a.body)
	if o.class != cCaptcha {
		return o
	}
	payload, solve, err := c.captcha(ctx, u, a.body)
	o.solveTime = solve
	if err != nil {
		o.captchaErr = err.Error()
		return o
	}
	o.captcha = true
	a, err = c.do(ctx, u, http.MethodPost, "/api/v1/signin", signinBody(u.account, payload))
	if err != nil {
		t := transportOutcome(ctx, err)
		t.captcha, t.solveTime = true, solve
		return t
	}
	o.status = a.status
	o.class, o.other = classify(a.status, a.body)
	return o
}

// captcha answers the CAPTCHA a captcha_required body asks for: it GETs
// the challenge and solves it. It returns the answer and the solving time.
func (c *apiClient) captcha(ctx context.Context, u *user, required []byte) (string, time.Duration, error) {
	// The server puts the captcha object in the error envelope
	// ({"error":{"code":"captcha_required","captcha":{...}}}); a
	// top-level one is read too.
	type info struct {
		Type         string `json:"type"`
		ChallengeURL string `json:"challenge_url"`
	}
	var rb struct {
		Error struct {
			Captcha *info `json:"captcha"`
		} `json:"error"`
		Captcha *info `json:"captcha"`
	}
	json.Unmarshal(required, &rb)
	ci := rb.Error.Captcha
	if ci == nil {
		ci = rb.Captcha
	}
	if ci == nil {
		ci = &info{}
	}
	if t := ci.Type; t != "" && !strings.EqualFold(t, "altcha") {
		return "", 0, fmt.Errorf("captcha type %q not supported", t)
	}
	target, err := c.challengeURL(ci.ChallengeURL)
	if err != nil {
		return "", 0, err
	}
	a, err := c.do(ctx, u, http.MethodGet, target, nil)
	if err != nil {
		return "", 0, fmt.Errorf("captcha challenge: %v", err)
	}
	if a.status != http.StatusOK {
		return "", 0, fmt.Errorf("captcha challenge: http %d", a.status)
	}
	var ch altchaChallenge
	if err := json.Unmarshal(a.body, &ch); err != nil {
		return "", 0, fmt.Errorf("captcha challenge: %v", err)
	}
	start := time.Now()
	payload, _, err := solveAltcha(ch)
	return payload, time.Since(start), err
}

// challengeURL resolves the challenge URL of a captcha_required answer
// against the server; it must stay on the server.
func (c *apiClient) challengeURL(raw string) (string, error) {
	if raw == "" {
		raw = defaultChallengeURL
	}
	base, err := url.Parse(c.base + "/")
	if err != nil {
		return "", err
	}
	ref, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("captcha challenge_url %q: %v", raw, err)
	}
	u := base.ResolveReference(ref)
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return "", fmt.Errorf("captcha challenge_url %q leaves the server", raw)
	}
	return u.String(), nil
}

func transportOutcome(ctx context.Context, err error) outcome {
	o := outcome{class: cTransport, other: "transport error"}
	if ctx.Err() != nil {
		o.other = "cancelled"
	} else if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Timeout") {
		o.other = "timeout"
	}
	return o
}

// retrySignup signs a up, waiting out rate_limited answers (Retry-After,
// at most 10 s each, three times).
func (c *apiClient) retrySignup(ctx context.Context, u *user) string {
	for try := 0; ; try++ {
		a, err := c.do(ctx, u, http.MethodPost, "/api/v1/signup", signupBody(u.account))
		if err != nil {
			return "sign-up: " + transportOutcome(ctx, err).other
		}
		if a.status == http.StatusAccepted {
			return ""
		}
		cl, other := classify(a.status, a.body)
		if cl == cRateLimited && try < 3 {
			wait := 2 * time.Second
			if ra, err := strconv.Atoi(a.retryAfter); err == nil && ra > 0 {
				wait = time.Duration(ra) * time.Second
			}
			select {
			case <-ctx.Done():
				return "cancelled"
			case <-time.After(min(wait, 10*time.Second)):
			}
			continue
		}
		if cl == cOther {
			return "sign-up: " + other
		}
		return fmt.Sprintf("sign-up: http %d %s", a.status, cl)
	}
}

// prepare signs every user up and, with signIn, in once (which gives it
// its device cookie and its first sign-in from its address), several at a
// time. It returns those that are ready and the failures by kind.
func (c *apiClient) prepare(ctx context.Context, users []*user, signIn bool, progress func(done int)) ([]*user, map[string]int) {
	failures := map[string]int{}
	ok := make([]bool, len(users))
	var mu sync.Mutex
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range min(max(4, 2*runtime.NumCPU()), len(users)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(users) || ctx.Err() != nil {
					return
				}
				kind := c.retrySignup(ctx, users[i])
				if kind == "" && signIn {
					if o := c.signIn(ctx, users[i]); o.class != cSignedIn {
						kind = "first sign-in: " + o.describe()
					}
				}
				mu.Lock()
				if kind == "" {
					ok[i] = true
				} else {
					failures[kind]++
				}
				mu.Unlock()
				if n := done.Add(1); progress != nil {
					progress(int(n))
				}
			}
		}()
	}
	wg.Wait()
	var ready []*user
	for i, u := range users {
		if ok[i] {
			ready = append(ready, u)
		}
	}
	return ready, failures
}

// describe names the outcome for the report.
func (o outcome) describe() string {
	switch {
	case o.captchaErr != "":
		return "captcha not answered: " + o.captchaErr
	case o.class == cOther || o.class == cTransport:
		return o.other
	}
	return o.class.String()
}

// runLegit signs users in, round robin, open loop: one sign-in every
// 1/rate seconds from start until start+d, each in its own goroutine so
// that a slow server does not delay the next (latency counts from when a
// sign-in was due). It returns when all have ended.
func (c *apiClient) runLegit(ctx context.Context, users []*user, rate float64, start time.Time, d time.Duration) []outcome {
	interval := time.Duration(float64(time.Second) / rate)
	var mu sync.Mutex
	var out []outcome
	var wg sync.WaitGroup
	for k := 0; ; k++ {
		at := start.Add(time.Duration(k) * interval)
		if !at.Before(start.Add(d)) {
			break
		}
		if wait := time.Until(at); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		u := users[k%len(users)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := c.signIn(ctx, u)
			o.at, o.latency = at, time.Since(at)
			mu.Lock()
			out = append(out, o)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
