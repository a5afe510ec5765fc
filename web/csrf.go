package web

import (
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/mamoru-id/mamoru"
)

// CSRF protection has two independent layers.
//
//  1. http.CrossOriginProtection wraps every route, API included: a
//     non-safe request that the browser marks cross-site (Sec-Fetch-Site),
//     or whose Origin differs from the host, is refused with 403 before any
//     handler runs.
//  2. Every HTML form carries a token that must equal the __Host-mamoru_csrf
//     cookie (double submit, compared with crypto/subtle). Double submit is
//     weak when an attacker can plant the cookie; the __Host- prefix closes
//     that hole, as no subdomain or plain-HTTP response can set a __Host-
//     cookie. We chose it over an HMAC-bound token because it needs no
//     server key shared by every instance behind a load balancer, and it
//     also protects the sign-in form (login CSRF), where there is no
//     session to bind to yet.
//
// The JSON API does not use form tokens: its non-safe requests must be
// application/json, which a cross-origin page can only send after a CORS
// preflight that this server never grants, and layer 1 applies as well.
// Bearer-token clients are not browsers and are not exposed to CSRF.

// csrfField is the name of the hidden form field with the token.
const csrfField = "csrf_token"

// csrfTokenLen is the length of a token from mamoru.NewSecret.
const csrfTokenLen = 43

// ensureCSRF returns the browser's CSRF token, issuing a new cookie when it
// has none (or a malformed one).
func (s *Server) ensureCSRF(w http.ResponseWriter, r *http.Request) string {
	if tok := cookieValue(r, CSRFCookie); len(tok) == csrfTokenLen {
		return tok
	}
	tok := mamoru.NewSecret()
	setCookie(w, CSRFCookie, tok, time.Time{})
	return tok
}

// checkCSRF compares the form token with the cookie in constant time and
// returns the token when they match. The form must have been parsed.
func checkCSRF(r *http.Request) (string, bool) {
	cookie := cookieValue(r, CSRFCookie)
	form := r.PostForm.Get(csrfField)
	if len(cookie) != csrfTokenLen || len(form) != csrfTokenLen {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(cookie), []byte(form)) != 1 {
		return "", false
	}
	return cookie, true
}
