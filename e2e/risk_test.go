package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// riskOwner signs up and verifies an account from Tokyo and signs it in
// three times from the same browser, so that the risk engine knows its
// device and place; it returns the owner's client.
func riskOwner(t *testing.T, s *server, addr, pw string) *client {
	t.Helper()
	owner := newClient(t, s)
	tokyo := []string{"X-Forwarded-For", "106.128.1.1", "User-Agent", firefoxLinux}
	owner.do("POST", "/api/v1/signup", map[string]any{"email": addr, "password": pw, "language": "en"}, tokyo...)
	owner.do("POST", "/api/v1/verify", map[string]any{"email": addr, "code": code(t, owner.mail(addr, nil, "Confirm"))}, tokyo...)
	for i := range 3 {
		if r := owner.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw}, tokyo...); r.json(t)["status"] != "signed_in" {
			t.Fatalf("owner's sign-in %d from a known place: %s", i, r.Body)
		}
	}
	return owner
}

// outboxCount counts the messages to addr whose subject contains word.
func outboxCount(t *testing.T, c *client, addr, word string) int {
	t.Helper()
	r := c.do("GET", "/api/v1/dev/outbox?to="+addr, nil)
	var out struct {
		Messages []map[string]any `json:"messages"`
	}
	json.Unmarshal(r.Body, &out)
	n := 0
	for _, m := range out.Messages {
		if s, _ := m["subject"].(string); strings.Contains(s, word) {
			n++
		}
	}
	return n
}

// TestRiskEngine: a known device and place passes silently; a new device
// in another country is challenged with an emailed code and the owner is
// told; impossible travel is challenged; a deny-listed network is refused
// with the answer of a wrong password.
func TestRiskEngine(t *testing.T) {
	t.Parallel()
	s := start(t, sqliteDB(t), append(geoEnv(t), "MAMORU_RISK_DENY_CIDRS=3.80.0.0/16")...)
	const addr, pw = "hanako@example.com", "shinkansen-nozomi-700"
	owner := riskOwner(t, s, addr, pw)
	tokyo := []string{"X-Forwarded-For", "106.128.1.1", "User-Agent", firefoxLinux}
	before := outboxCount(t, owner, addr, "New sign-in")
	if r := owner.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw}, tokyo...); r.json(t)["status"] != "signed_in" {
		t.Fatalf("known device and place: %s", r.Body)
	}
	if n := outboxCount(t, owner, addr, "New sign-in"); n != before {
		t.Fatalf("a known device and place was notified (%d → %d)", before, n)
	}

	// A new device in Moscow: a code, the owner told.
	stranger := newClient(t, s)
	moscow := []string{"X-Forwarded-For", "95.165.1.1", "User-Agent", chromeWindows}
	r := stranger.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw}, moscow...)
	res := r.json(t)
	if res["status"] != "challenge_required" || res["flow_id"] == nil {
		t.Fatalf("new device in another country: %d %s", r.Status, r.Body)
	}
	m := owner.mail(addr, nil, "sign-in code")
	if text := m["text"].(string); !strings.Contains(text, "95.165.1.1") || !strings.Contains(text, "Russia") {
		t.Errorf("the code mail does not describe the attempt:\n%s", text)
	}
	r = stranger.do("POST", "/api/v1/signin/code", map[string]any{"flow_id": res["flow_id"], "code": code(t, m)}, moscow...)
	if r.Status != http.StatusOK || r.json(t)["status"] != "signed_in" {
		t.Fatalf("code: %d %s", r.Status, r.Body)
	}
	owner.mail(addr, nil, "New sign-in")

	// The history shows the assessment and its reasons.
	hist := owner.do("GET", "/api/v1/account/logins", nil, tokyo...)
	if !strings.Contains(string(hist.Body), `"decision":"challenge"`) || !strings.Contains(string(hist.Body), `"code":"new_`) {
		t.Errorf("login history lacks the assessment: %s", hist.Body)
	}

	// Impossible travel: the owner's own browser, minutes later in London.
	london := []string{"X-Forwarded-For", "81.2.69.142", "User-Agent", firefoxLinux}
	if r := owner.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw}, london...); r.json(t)["status"] != "challenge_required" {
		t.Fatalf("impossible travel: %s", r.Body)
	}

	// A deny-listed network: refused like a wrong password.
	newYork := []string{"X-Forwarded-For", "3.80.0.10", "User-Agent", firefoxLinux}
	r = owner.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw}, newYork...)
	if r.Status != http.StatusUnauthorized || string(r.Body) != `{"status":"invalid_credentials"}` {
		t.Fatalf("deny-listed network: %d %s", r.Status, r.Body)
	}
	hist = owner.do("GET", "/api/v1/account/logins", nil, tokyo...)
	if !strings.Contains(string(hist.Body), `"decision":"deny"`) {
		t.Errorf("the refusal is not in the history: %s", hist.Body)
	}

	// A forged device cookie is not trusted: a browser (in Frankfurt, over
	// IPv6) with a made-up cookie is still a new device.
	forged := newClient(t, s)
	r = forged.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw},
		"X-Forwarded-For", "2a02:ff0::1", "User-Agent", chromeWindows,
		"Cookie", "__Host-mamoru_device=aaaaaaaaaaaaaaaaaaaaaaaaaa.AAAAAAAAAAAAAAAAAAAAAA")
	if r.json(t)["status"] != "challenge_required" {
		t.Fatalf("forged device cookie: %s", r.Body)
	}
}
