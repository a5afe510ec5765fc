package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mamoru-id/mamoru"
)

// TestDeviceCookie: a sign-in without a device cookie gets one; a signed
// one is passed to the service as the device ID; a forged or tampered one
// is ignored (never trusted) and replaced.
func TestDeviceCookie(t *testing.T) {
	e := newEnv(t, false)
	body := `{"email":"` + goodEmail + `","password":"` + goodPassword + `"}`
	rec := e.api("POST", "/api/v1/signin", body)
	set := setCookies(rec)[DeviceCookie]
	for _, want := range []string{"Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Expires="} {
		if !strings.Contains(set, want) {
			t.Errorf("device cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(strings.ToLower(set), "domain=") {
		t.Errorf("device cookie has a Domain: %q", set)
	}
	value := strings.TrimPrefix(strings.SplitN(set, ";", 2)[0], DeviceCookie+"=")
	id, _, _ := strings.Cut(value, ".")
	if e.signIn.req.DeviceID != id || id == "" {
		t.Fatalf("first sign-in: device %q, cookie %q", e.signIn.req.DeviceID, value)
	}

	// The signed cookie comes back: same ID, no new cookie.
	rec = e.api("POST", "/api/v1/signin", body, &http.Cookie{Name: DeviceCookie, Value: value})
	if e.signIn.req.DeviceID != id || setCookies(rec)[DeviceCookie] != "" {
		t.Fatalf("known device: %q, set %q", e.signIn.req.DeviceID, setCookies(rec)[DeviceCookie])
	}
	// Forged and tampered cookies are not trusted.
	// One character of the ID changed (to one it is not).
	other := "x"
	if value[0] == 'x' {
		other = "y"
	}
	for _, bad := range []string{id, id + ".", id + ".AAAAAAAAAAAAAAAAAAAAAA", other + value[1:], value + "x", strings.Repeat("a", 300), "."} {
		rec = e.api("POST", "/api/v1/signin", body, &http.Cookie{Name: DeviceCookie, Value: bad})
		if e.signIn.req.DeviceID == id || e.signIn.req.DeviceID == "" || setCookies(rec)[DeviceCookie] == "" {
			t.Errorf("cookie %q: device %q trusted or not replaced", bad, e.signIn.req.DeviceID)
		}
	}
}

// TestSignInCodeStep: a sign-in stopped by the risk engine finishes with
// the emailed code, in the API and on the page.
func TestSignInCodeStep(t *testing.T) {
	e := newEnv(t, false)
	flow := &http.Cookie{Name: FlowCookie, Value: "flow-secret-api"}
	rec := e.api("POST", "/api/v1/signin/code", `{"flow_id":"flow-api","code":"000000"}`, flow)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "invalid_code") {
		t.Fatalf("wrong code: %d %s", rec.Code, rec.Body)
	}
	rec = e.api("POST", "/api/v1/signin/code", `{"flow_id":"flow-api","code":"123456"}`)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "flow_expired") {
		t.Fatalf("no flow cookie: %d %s", rec.Code, rec.Body)
	}
	rec = e.api("POST", "/api/v1/signin/code", `{"flow_id":"flow-api","code":" 123456 "}`, flow)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"signed_in"`) || setCookies(rec)[SessionCookie] == "" {
		t.Fatalf("right code: %d %s", rec.Code, rec.Body)
	}

	// The page: the sign-in form turns into a code form.
	e.signIn.status = mamoru.ChallengeRequired
	rec = e.form("/signin", url.Values{"flow_id": {"flow-1"}, "email": {goodEmail}, "password": {goodPassword}},
		&http.Cookie{Name: FlowCookie, Value: "flow-secret"})
	if body := rec.Body.String(); !strings.Contains(body, `action="/signin/code"`) || strings.Contains(body, `name="password"`) {
		t.Fatalf("challenge page: %s", body)
	}
	rec = e.form("/signin/code", url.Values{"flow_id": {"flow-1"}, "code": {"123456"}}, &http.Cookie{Name: FlowCookie, Value: "flow-secret"})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/account" {
		t.Fatalf("code page: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	rec = e.form("/signin/code", url.Values{"flow_id": {"flow-1"}, "code": {"999999"}}, &http.Cookie{Name: FlowCookie, Value: "flow-secret"})
	if !strings.Contains(rec.Body.String(), `action="/signin/code"`) {
		t.Fatalf("wrong code on the page should show the code form again: %d", rec.Code)
	}
}
