package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

var (
	approveLinkRe = regexp.MustCompile(`/signin/approval-request\?answer=approve&token=([A-Za-z0-9_\-]+)`)
	csrfFieldRe   = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
)

// approval is one timed approval.
type approval struct {
	click     time.Duration // the approve POST's own answer
	toEvent   time.Duration // approve POST sent → "event: decided" on the waiting stream
	toSession time.Duration // approve POST sent → the waiting client's signed_in answer
	followUp  time.Duration // the waiting client's POST /api/v1/signin/approval alone
	err       string        // "" when the client signed in
}

// approvalMail waits (up to the request timeout) for the owner's mail and
// returns the link's token.
func (c *apiClient) approvalMail(ctx context.Context, a *account, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		ans, err := c.do(ctx, http.MethodGet, "/api/v1/dev/outbox?to="+url.QueryEscape(a.email), nil, "")
		if err != nil {
			return "", err
		}
		if ans.status != http.StatusOK {
			return "", errors.New("dev outbox: " + describe(ans) + " (is the server in --dev mode?)")
		}
		var out struct {
			Messages []struct {
				Text string `json:"text"`
			} `json:"messages"`
		}
		json.Unmarshal(ans.body, &out)
		for _, m := range out.Messages { // newest first
			if t := approveLinkRe.FindStringSubmatch(m.Text); t != nil {
				return t[1], nil
			}
		}
		if time.Now().After(deadline) {
			return "", errors.New("no approval mail")
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// approve has the owner of a approve its waiting sign-in from the mail's
// page, and the waiting client, told by its stream, sign in. Only the
// approve POST and what follows are timed.
func (c *apiClient) approve(ctx context.Context, a *account, timeout time.Duration) approval {
	fail := func(format string, args ...any) approval { return approval{err: fmt.Sprintf(format, args...)} }
	token, err := c.approvalMail(ctx, a, timeout)
	if err != nil {
		return fail("mail: %s", shortError(ctx, err))
	}
	owner := []string{"X-Forwarded-For", a.ownerIP, "User-Agent", userAgent}
	page, err := c.do(ctx, http.MethodGet, "/signin/approval-request?answer=approve&token="+token, nil, "", owner...)
	if err != nil {
		return fail("page: %s", shortError(ctx, err))
	}
	csrf, field := cookieOf(page, csrfCookie), csrfFieldRe.FindSubmatch(page.body)
	if page.status != http.StatusOK || csrf == "" || field == nil {
		return fail("page: http %d, csrf cookie %t, csrf field %t", page.status, csrf != "", field != nil)
	}
	form := url.Values{"csrf_token": {string(field[1])}, "token": {token}, "answer": {"approve"}}.Encode()
	post := append(owner, "Origin", c.base, "Cookie", csrfCookie+"="+csrf)

	// Drop a "decided" left over from before (there is none unless the
	// same account was approved twice).
	select {
	case <-a.stream.decided:
	default:
	}
	clicked := time.Now()
	ans, err := c.do(ctx, http.MethodPost, "/signin/approval-request", []byte(form), "application/x-www-form-urlencoded", post...)
	var r approval
	r.click = time.Since(clicked)
	if err != nil {
		return fail("approve: %s", shortError(ctx, err))
	}
	if ans.status != http.StatusOK || !strings.Contains(string(ans.body), "Approved") {
		return fail("approve: http %d", ans.status)
	}
	var evAt time.Time
	select {
	case evAt = <-a.stream.decided:
	case <-time.After(timeout):
		return fail("no event within %v", timeout)
	case <-ctx.Done():
		return fail("cancelled")
	}
	r.toEvent = evAt.Sub(clicked)
	sent := time.Now()
	ans, err = c.do(ctx, http.MethodPost, "/api/v1/signin/approval", jsonBody(map[string]string{"flow_id": a.flowID}), "",
		"X-Forwarded-For", a.clientIP, "User-Agent", userAgent, "Accept", "application/json", "Cookie", a.clientCookies())
	done := time.Now()
	if err != nil {
		return fail("follow-up: %s", shortError(ctx, err))
	}
	var res struct {
		Status  string `json:"status"`
		Token   string `json:"token"`
		Session *struct {
			ID string `json:"id"`
		} `json:"session"`
	}
	json.Unmarshal(ans.body, &res)
	if ans.status != http.StatusOK || res.Status != "signed_in" || res.Token == "" || res.Session == nil {
		return fail("follow-up: %s", describe(ans))
	}
	r.followUp, r.toSession = done.Sub(sent), done.Sub(clicked)
	return r
}
