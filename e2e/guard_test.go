package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// solvePoW answers an ALTCHA challenge from GET /api/v1/captcha/challenge.
func solvePoW(t *testing.T, c *client, header ...string) string {
	t.Helper()
	r := c.do("GET", "/api/v1/captcha/challenge", nil, header...)
	if r.Status != http.StatusOK {
		t.Fatalf("challenge: %d %s", r.Status, r.Body)
	}
	var ch struct {
		Algorithm, Challenge, Salt, Signature string
		MaxNumber                             int `json:"maxnumber"`
	}
	if err := json.Unmarshal(r.Body, &ch); err != nil {
		t.Fatal(err)
	}
	for n := 0; n <= ch.MaxNumber; n++ {
		sum := sha256.Sum256([]byte(ch.Salt + strconv.Itoa(n)))
		if hex.EncodeToString(sum[:]) == ch.Challenge {
			b, _ := json.Marshal(map[string]any{"algorithm": ch.Algorithm, "challenge": ch.Challenge, "number": n,
				"salt": ch.Salt, "signature": ch.Signature})
			return base64.StdEncoding.EncodeToString(b)
		}
	}
	t.Fatal("no solution")
	return ""
}

// TestLockoutThroughTheAPI: the lock of seed 002 as clients see it: after
// the threshold the right password answers {"status":"locked"} exactly as
// for an address with no account; the owner is mailed once with an unlock
// link that works from its page; forgot-password keeps working.
func TestLockoutThroughTheAPI(t *testing.T) {
	t.Parallel()
	s := start(t, sqliteDB(t), append(geoEnv(t), "MAMORU_GUARD_LOCKOUT_THRESHOLD=4",
		"MAMORU_GUARD_CAPTCHA_AFTER_IP_FAILURES=1000", "MAMORU_GUARD_CAPTCHA_AFTER_IDENTIFIER_FAILURES=1000")...)
	const addr, pw = "taro@example.com", "kegon-falls-97m"
	owner := riskOwner(t, s, addr, pw)
	tokyo := []string{"X-Forwarded-For", "106.128.1.1", "User-Agent", firefoxLinux}
	attacker := newClient(t, s)
	for _, who := range []string{addr, "nobody@example.com"} {
		for i := range 4 {
			r := attacker.do("POST", "/api/v1/signin", map[string]any{"email": who, "password": "guess-" + strconv.Itoa(i)},
				"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
			if r.Status != http.StatusUnauthorized || string(r.Body) != `{"status":"invalid_credentials"}` {
				t.Fatalf("%s guess %d: %d %s", who, i, r.Status, r.Body)
			}
		}
	}
	known := owner.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw}, tokyo...)
	unknown := attacker.do("POST", "/api/v1/signin", map[string]any{"email": "nobody@example.com", "password": pw}, tokyo...)
	if known.Status != http.StatusUnauthorized || string(known.Body) != `{"status":"locked"}` ||
		unknown.Status != known.Status || string(unknown.Body) != string(known.Body) {
		t.Fatalf("locked: %d %s vs %d %s", known.Status, known.Body, unknown.Status, unknown.Body)
	}
	if r := owner.do("POST", "/api/v1/password/forgot", map[string]any{"email": addr}, tokyo...); r.Status != http.StatusAccepted {
		t.Fatalf("forgot during the lock: %d %s", r.Status, r.Body)
	}
	m := owner.mail(addr, nil, "temporarily locked")
	token := linkToken(t, m)
	page := owner.do("GET", "/account/unlock?token="+token, nil)
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), `action="/account/unlock"`) {
		t.Fatalf("unlock page: %d", page.Status)
	}
	// The page's form, as a browser without JavaScript posts it.
	csrf := between(string(page.Body), `name="csrf_token" value="`, `"`)
	r := owner.do("POST", "/account/unlock", "csrf_token="+csrf+"&token="+token,
		"Content-Type", "application/x-www-form-urlencoded", "Origin", s.URL)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("unlock: %d %s", r.Status, r.Body)
	}
	if r := owner.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw}, tokyo...); r.json(t)["status"] != "signed_in" {
		t.Fatalf("after unlocking: %d %s", r.Status, r.Body)
	}
}

// between returns the text of s between the first before and the next after.
func between(s, before, after string) string {
	_, rest, ok := strings.Cut(s, before)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, after)
	return v
}

// TestStuffingWaveTurnsAttackModeOnAndOff: failed sign-ins with leaked
// lists from many IPs (each far below its own limit) against a populated
// database turn attack mode on: sign-ins then need a CAPTCHA (the answer
// says which), a solved one passes, and the right password of a victim
// used from the attackers' side is forced to a reset. When the wave ends,
// the mode ends by itself. /metrics tells the operator.
func TestStuffingWaveTurnsAttackModeOnAndOff(t *testing.T) {
	t.Parallel()
	s := start(t, sqliteDB(t), append(geoEnv(t), "MAMORU_GUARD_ATTACK_MIN_FAILURES=20", "MAMORU_GUARD_ATTACK_HOLD=10s",
		"MAMORU_GUARD_CAPTCHA_AFTER_IP_FAILURES=1000")...)
	const victim, vpw = "victim@example.com", "reused-everywhere-2019"
	owner := riskOwner(t, s, victim, vpw)
	for i := range 5 {
		c := newClient(t, s)
		a := fmt.Sprintf("user%d@example.com", i)
		c.do("POST", "/api/v1/signup", map[string]any{"email": a, "password": "populated-db-" + strconv.Itoa(i), "language": "en"})
	}
	// Each attempt from a fresh client: one device trying many accounts
	// would be caught on its own (the device's attack mode) first.
	for i := range 25 {
		attacker := newClient(t, s)
		who := fmt.Sprintf("user%d@example.com", i%5)
		if i%2 == 1 {
			who = fmt.Sprintf("leaked%d@example.net", i)
		}
		r := attacker.do("POST", "/api/v1/signin", map[string]any{"email": who, "password": "123456" + strconv.Itoa(i)},
			"X-Forwarded-For", fmt.Sprintf("203.0.%d.%d", 113+i%3, i+1))
		if r.Status != http.StatusUnauthorized && r.Status != http.StatusTooManyRequests {
			t.Fatalf("attempt %d: %d %s", i, r.Status, r.Body)
		}
	}
	// Attack mode: a client without a device cookie gets no sign-in
	// without a CAPTCHA; the answer says which to solve.
	tokyo := []string{"X-Forwarded-For", "106.128.1.1", "User-Agent", firefoxLinux}
	fresh := newClient(t, s)
	r := fresh.do("POST", "/api/v1/signin", map[string]any{"email": "user2@example.com", "password": "populated-db-2"}, "X-Forwarded-For", "106.160.1.1")
	if r.Status != http.StatusTooManyRequests || !strings.Contains(string(r.Body), `"code":"captcha_required"`) ||
		!strings.Contains(string(r.Body), `"challenge_url":"/api/v1/captcha/challenge"`) {
		t.Fatalf("in attack mode without CAPTCHA: %d %s", r.Status, r.Body)
	}
	r = fresh.do("POST", "/api/v1/signin", map[string]any{"email": "user2@example.com", "password": "populated-db-2",
		"captcha": solvePoW(t, fresh, "X-Forwarded-For", "106.160.1.1")}, "X-Forwarded-For", "106.160.1.1")
	if r.Status == http.StatusTooManyRequests {
		t.Fatalf("with a solved CAPTCHA: %d %s", r.Status, r.Body)
	}
	// The owner's known device (its device cookie) is spared the CAPTCHA.
	r = owner.do("POST", "/api/v1/signin", map[string]any{"email": victim, "password": vpw}, tokyo...)
	if r.json(t)["status"] != "signed_in" {
		t.Fatalf("owner's known device in attack mode: %d %s", r.Status, r.Body)
	}
	// The attackers' list has the victim's password; used from their side
	// (a new device abroad), it forces a reset instead of a code.
	moscow := []string{"X-Forwarded-For", "95.165.1.1", "User-Agent", chromeWindows}
	attacker := newClient(t, s)
	r = attacker.do("POST", "/api/v1/signin", map[string]any{"email": victim, "password": vpw, "captcha": solvePoW(t, attacker, moscow...)}, moscow...)
	if r.json(t)["status"] != "password_reset_required" {
		t.Fatalf("stranger with the right password in a wave: %d %s", r.Status, r.Body)
	}
	owner.mail(victim, nil, "new password is required")
	metrics := owner.do("GET", "/metrics", nil)
	if !strings.Contains(string(metrics.Body), "mamoru_guard_attack_mode 1") ||
		!strings.Contains(string(metrics.Body), `mamoru_guard_rejections_total{reason="captcha"}`) {
		t.Errorf("metrics during the wave:\n%s", grepLines(string(metrics.Body), "mamoru_guard"))
	}
	// The wave stops; attack mode ends by itself after its hold. (Watched
	// through /metrics: sign-ins refused for want of a CAPTCHA would keep
	// the wave alive, as the attackers' own do.)
	deadline := time.Now().Add(40 * time.Second)
	for !strings.Contains(string(owner.do("GET", "/metrics", nil).Body), "mamoru_guard_attack_mode 0") {
		if time.Now().After(deadline) {
			t.Fatal("attack mode did not end")
		}
		time.Sleep(500 * time.Millisecond)
	}
	r = newClient(t, s).do("POST", "/api/v1/signin", map[string]any{"email": "user1@example.com", "password": "populated-db-1"},
		"X-Forwarded-For", "106.160.1.1")
	if r.Status == http.StatusTooManyRequests {
		t.Fatalf("after the wave: %d %s", r.Status, r.Body)
	}
}

func grepLines(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
