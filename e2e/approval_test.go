package e2e

import (
	"bufio"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var approveLinkRe = regexp.MustCompile(`/signin/approval-request\?answer=approve&token=([A-Za-z0-9_\-]+)`)

// TestSignInApproval is seed 004 through the real binary: a right password
// on a new device waits for the owner's approval; the owner's mail has
// Approve / Deny; the page has only buttons and gives the clicker no
// session; the waiting client, listening to server-sent events, is told
// and signs in; reopening the link shows when and from where it was
// approved. A denial ends the attempt and requires a new password.
func TestSignInApproval(t *testing.T) {
	t.Parallel()
	s := start(t, sqliteDB(t), append(geoEnv(t), "MAMORU_RISK_OVERRIDES=new_device=approval")...)
	const addr, pw = "akiko@example.com", "biwako-otsu-2024"
	owner := riskOwner(t, s, addr, pw)
	stranger := newClient(t, s)
	moscow := []string{"X-Forwarded-For", "95.165.1.1", "User-Agent", chromeWindows}
	r := stranger.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw}, moscow...)
	res := r.json(t)
	if res["status"] != "approval_required" || res["flow_id"] == nil || res["sent_to"] != "a***@example.com" {
		t.Fatalf("new device: %d %s", r.Status, r.Body)
	}
	flowID := res["flow_id"].(string)

	// The waiting client listens.
	decided := make(chan time.Time, 1)
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", s.URL+"/api/v1/signin/approval/events?flow_id="+flowID, nil)
		for i := 0; i+1 < len(moscow); i += 2 {
			req.Header.Set(moscow[i], moscow[i+1])
		}
		resp, err := stranger.http.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if sc.Text() == "event: decided" {
				decided <- time.Now()
				return
			}
		}
	}()
	if r := stranger.do("POST", "/api/v1/signin/approval", map[string]any{"flow_id": flowID}, moscow...); r.json(t)["status"] != "approval_required" {
		t.Fatalf("before the answer: %s", r.Body)
	}

	m := owner.mail(addr, nil, "sign-in attempt detected")
	text := m["text"].(string)
	if !strings.Contains(text, "Someone who knows your password") || !strings.Contains(text, "95.165.1.1") || !strings.Contains(text, "Russia") {
		t.Errorf("approval mail:\n%s", text)
	}
	token := approveLinkRe.FindStringSubmatch(text)
	if token == nil {
		t.Fatalf("no approve link in\n%s", text)
	}
	clicker := newClient(t, s)
	page := clicker.do("GET", "/signin/approval-request?answer=approve&token="+token[1], nil)
	body := string(page.Body)
	if page.Status != http.StatusOK || strings.Contains(body, `type="password"`) || !strings.Contains(body, `value="approve"`) ||
		!strings.Contains(body, `value="deny"`) || !strings.Contains(body, "95.165.1.1") {
		t.Fatalf("approval page: %d\n%s", page.Status, body)
	}
	csrf := between(body, `name="csrf_token" value="`, `"`)
	clicked := time.Now()
	r = clicker.do("POST", "/signin/approval-request", "csrf_token="+csrf+"&token="+token[1]+"&answer=approve",
		"Content-Type", "application/x-www-form-urlencoded", "Origin", s.URL)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "Approved") {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	if strings.Contains(r.Header.Get("Set-Cookie"), "session") {
		t.Fatal("the clicker got a session")
	}
	select {
	case at := <-decided:
		t.Logf("approve → event: %v", at.Sub(clicked))
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting client was not told")
	}
	r = stranger.do("POST", "/api/v1/signin/approval", map[string]any{"flow_id": flowID}, moscow...)
	if r.json(t)["status"] != "signed_in" {
		t.Fatalf("after approval: %d %s", r.Status, r.Body)
	}
	// Reopened, the link says what happened, when and from where.
	again := clicker.do("GET", "/signin/approval-request?answer=approve&token="+token[1], nil)
	if !strings.Contains(string(again.Body), "already approved") || strings.Contains(string(again.Body), `value="approve"`) {
		t.Fatalf("reopened link: %s", again.Body)
	}

	// A second attempt, denied: nobody signs in, a new password is required.
	other := newClient(t, s)
	r = other.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw}, "X-Forwarded-For", "81.2.69.142", "User-Agent", chromeWindows)
	flow2, _ := r.json(t)["flow_id"].(string)
	m = owner.mail(addr, map[string]bool{m["id"].(string): true}, "sign-in attempt detected")
	token = approveLinkRe.FindStringSubmatch(m["text"].(string))
	page = clicker.do("GET", "/signin/approval-request?answer=deny&token="+token[1], nil)
	csrf = between(string(page.Body), `name="csrf_token" value="`, `"`)
	r = clicker.do("POST", "/signin/approval-request", "csrf_token="+csrf+"&token="+token[1]+"&answer=deny",
		"Content-Type", "application/x-www-form-urlencoded", "Origin", s.URL)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "Denied") {
		t.Fatalf("deny: %d %s", r.Status, r.Body)
	}
	r = other.do("POST", "/api/v1/signin/approval", map[string]any{"flow_id": flow2}, "X-Forwarded-For", "81.2.69.142")
	if r.Status != http.StatusUnauthorized || string(r.Body) != `{"status":"approval_denied"}` {
		t.Fatalf("after denial: %d %s", r.Status, r.Body)
	}
	owner.mail(addr, nil, "new password is required")
}
