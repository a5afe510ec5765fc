package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mamoru-id/mamoru/geoip/geoiptest"
)

const (
	firefoxLinux  = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
	chromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

var noLinkRe = regexp.MustCompile(`/events/answer\?answer=no&token=([A-Za-z0-9_\-]+)`)

// geoEnv makes the server believe X-Forwarded-For from the test (it runs
// on 127.0.0.1) and locate addresses with the test GeoIP databases.
func geoEnv(t *testing.T) []string {
	city, asn := geoiptest.Fixture(t)
	return []string{"MAMORU_TRUSTED_PROXIES=127.0.0.1/32", "MAMORU_GEOIP_CITY_DB=" + city, "MAMORU_GEOIP_ASN_DB=" + asn}
}

// TestStrangerSignInIsNoticedAndUndone: the owner signs up and signs in
// from Tokyo; someone who knows the password signs in from Moscow on
// another device; the owner is told (in Japanese, with the approximate
// place, the device and the IP) and answers "this wasn't me" from the
// email; every session ends, the password stops working and the owner sets
// a new one with the emailed code.
func TestStrangerSignInIsNoticedAndUndone(t *testing.T) {
	t.Parallel()
	// Without the risk engine, which would stop the stranger for a code
	// (TestRiskEngine): here the stranger gets in, as with a password alone.
	s := start(t, sqliteDB(t), append(geoEnv(t), "MAMORU_RISK_ENABLED=false")...)
	const addr = "taro@example.com"
	const pw = "hakone-onsen-ryokan-77"
	owner := newClient(t, s)
	tokyo := []string{"X-Forwarded-For", "106.128.1.1", "User-Agent", firefoxLinux}
	moscow := []string{"X-Forwarded-For", "95.165.1.1", "User-Agent", chromeWindows}

	r := owner.do("POST", "/api/v1/signup", map[string]any{"email": addr, "password": pw, "language": "ja"}, tokyo...)
	if r.Status != http.StatusAccepted {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	v := owner.mail(addr, nil, "メールアドレスの確認")
	if r := owner.do("POST", "/api/v1/verify", map[string]any{"email": addr, "code": code(t, v)}, tokyo...); r.Status >= 300 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	if r := owner.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw}, tokyo...); r.json(t)["status"] != "signed_in" {
		t.Fatalf("owner sign-in: %s", r.Body)
	}

	attacker := newClient(t, s)
	if r := attacker.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw}, moscow...); r.json(t)["status"] != "signed_in" {
		t.Fatalf("attacker sign-in: %s", r.Body)
	}
	m := owner.mail(addr, nil, "新しいログイン")
	text := m["text"].(string)
	for _, want := range []string{"95.165.1.1", "Windows 10 の Chrome 131", "ロシア", "おおよその位置", s.URL + "/events/answer?"} {
		if !strings.Contains(text, want) {
			t.Errorf("new sign-in mail lacks %q:\n%s", want, text)
		}
	}

	// The login history shows both sign-ins with their places.
	hist := owner.do("GET", "/api/v1/account/logins", nil, tokyo...)
	if hist.Status != 200 || !strings.Contains(string(hist.Body), `"RU"`) || !strings.Contains(string(hist.Body), `"JP"`) {
		t.Fatalf("login history: %d %s", hist.Status, hist.Body)
	}

	// "This wasn't me", from the email, in another browser.
	no := noLinkRe.FindStringSubmatch(text)
	if no == nil {
		t.Fatalf("no 'this wasn't me' link in:\n%s", text)
	}
	rescue := newClient(t, s)
	if r := rescue.do("GET", "/events/answer?answer=no&token="+no[1], nil, tokyo...); r.Status != 200 {
		t.Fatalf("answer page: %d", r.Status)
	}
	ans := rescue.do("POST", "/api/v1/events/answer", map[string]any{"token": no[1], "answer": "no"}, tokyo...)
	if ans.Status != 200 || ans.json(t)["status"] != "secure_account" {
		t.Fatalf("answer no: %d %s", ans.Status, ans.Body)
	}
	// Both sessions are gone; the known password no longer signs in.
	for name, c := range map[string]*client{"owner": owner, "attacker": attacker} {
		if r := c.do("GET", "/api/v1/me", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("%s still signed in: %d", name, r.Status)
		}
	}
	if r := attacker.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": pw}, moscow...); r.json(t)["status"] == "signed_in" {
		t.Fatalf("the old password still signs in: %s", r.Body)
	}
	st := rescue.do("GET", "/api/v1/secure-account", nil, tokyo...)
	if st.Status != 200 || st.json(t)["step"] != "reset" {
		t.Fatalf("secure-account state: %d %s", st.Status, st.Body)
	}
	sec := owner.mail(addr, nil, "アカウントの保護")
	const newPW = "a-new-and-better-passphrase"
	rs := rescue.do("POST", "/api/v1/secure-account/reset", map[string]any{"code": code(t, sec), "password": newPW}, tokyo...)
	if rs.Status != 200 || rs.json(t)["step"] != "review" {
		t.Fatalf("secure-account reset: %d %s", rs.Status, rs.Body)
	}
	if r := owner.do("POST", "/api/v1/signin", map[string]any{"email": addr, "password": newPW}, tokyo...); r.json(t)["status"] != "signed_in" {
		t.Fatalf("new password: %s", r.Body)
	}
	// The link worked once.
	if r := rescue.do("POST", "/api/v1/events/answer", map[string]any{"token": no[1], "answer": "no"}, tokyo...); r.Status < 400 {
		t.Fatalf("answer link reused: %d %s", r.Status, r.Body)
	}
	// The events page shows the answer.
	ev := owner.do("GET", "/api/v1/account/events", nil, tokyo...)
	for _, want := range []string{"event.denied", "secure_account.started", "password.reset", "session.ended"} {
		if !strings.Contains(string(ev.Body), want) {
			t.Errorf("events lack %s: %s", want, ev.Body)
		}
	}
}
