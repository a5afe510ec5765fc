package web

import (
	"net/http"
	"strings"
	"testing"
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
	for _, bad := range []string{id, id + ".", id + ".AAAAAAAAAAAAAAAAAAAAAA", "x" + value[1:], value + "x", strings.Repeat("a", 300), "."} {
		rec = e.api("POST", "/api/v1/signin", body, &http.Cookie{Name: DeviceCookie, Value: bad})
		if e.signIn.req.DeviceID == id || e.signIn.req.DeviceID == "" || setCookies(rec)[DeviceCookie] == "" {
			t.Errorf("cookie %q: device %q trusted or not replaced", bad, e.signIn.req.DeviceID)
		}
	}
}
