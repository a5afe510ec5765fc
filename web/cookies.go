package web

import (
	"net/http"
	"time"
)

// The cookie names. The __Host- prefix makes the browser insist on Secure,
// Path=/ and no Domain, so no other host (a sibling subdomain, a plain-HTTP
// man in the middle) can set or overwrite them.
const (
	SessionCookie  = "__Host-mamoru_session" // the session token
	FlowCookie     = "__Host-mamoru_flow"    // the secret binding a sign-in flow to this browser
	CSRFCookie     = "__Host-mamoru_csrf"    // the CSRF double-submit token
	LanguageCookie = "__Host-mamoru_lang"    // the language chosen with the switch link
	SecureCookie   = "__Host-mamoru_secure"  // "<flow ID>.<secret>" of a secure-account flow
	DeviceCookie   = "__Host-mamoru_device"  // "<device ID>.<HMAC>": this browser, for the risk engine
)

const (
	// flowCookieTTL is how long the browser keeps a flow secret; the flow
	// itself expires on the service's schedule, usually sooner.
	flowCookieTTL = 30 * time.Minute
	// secureCookieTTL is how long the browser keeps a secure-account flow.
	secureCookieTTL = 30 * time.Minute
	// languageCookieTTL is how long the language choice is remembered.
	languageCookieTTL = 365 * 24 * time.Hour
	// deviceCookieTTL is how long a browser keeps its device ID (browsers
	// cap cookies at 400 days).
	deviceCookieTTL = 400 * 24 * time.Hour
)

// newCookie returns a cookie with the attributes every mamoru cookie has:
// Secure, HttpOnly, SameSite=Lax, Path=/, no Domain. expires zero makes a
// browser-session cookie.
func newCookie(name, value string, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Expires:  expires,
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// setCookie sets a cookie, expiring at expires (zero: end of the browser session).
func setCookie(w http.ResponseWriter, name, value string, expires time.Time) {
	http.SetCookie(w, newCookie(name, value, expires))
}

// clearCookie tells the browser to drop a cookie at once.
func clearCookie(w http.ResponseWriter, name string) {
	c := newCookie(name, "", time.Unix(0, 0))
	c.MaxAge = -1
	http.SetCookie(w, c)
}

// cookieValue returns the value of the named cookie, "" if absent.
func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}
