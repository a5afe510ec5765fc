package web

import (
	"net"
	"net/http"
	"strings"

	"github.com/mamoru-id/mamoru"
)

// request describes the client for the services.
func (s *Server) request(r *http.Request) mamoru.Request {
	return mamoru.Request{IP: s.clientIP(r), UserAgent: r.UserAgent(), Language: state(r).lang, DeviceID: s.deviceID(r)}
}

// clientIP is the client's address: the peer's, or behind a trusted proxy
// the one the proxy forwarded (Config.ClientIP decides; nil means the
// peer's).
func (s *Server) clientIP(r *http.Request) string {
	if ip := s.cfg.ClientIP.ClientIP(r); ip.IsValid() {
		return ip.String()
	}
	// Not an IP address (a Unix socket): as the server gave it.
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return ip
}

// bearerToken returns the token of an "Authorization: Bearer" header, and
// whether the header was present at all.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(tok), true
}

// authAPI authenticates an API call by the bearer header, or when there is
// none by the session cookie, and switches the answer to the account's
// language. A present but invalid bearer header is not rescued by a cookie.
func (s *Server) authAPI(w http.ResponseWriter, r *http.Request) (*mamoru.Session, *mamoru.Account, error) {
	tok, bearer := bearerToken(r)
	if !bearer {
		tok = cookieValue(r, SessionCookie)
	}
	if tok == "" {
		return nil, nil, mamoru.Errorf(mamoru.EUnauthorized, "no session")
	}
	sess, acct, err := s.sessions.Authenticate(r.Context(), tok, s.request(r))
	if err != nil {
		if !bearer && mamoru.ErrorCode(err) == mamoru.EUnauthorized {
			clearCookie(w, SessionCookie)
		}
		return nil, nil, err
	}
	s.signedIn(r, sess, acct)
	return sess, acct, nil
}

// loadSession authenticates a page request by its session cookie, if it
// has one. A stale cookie is cleared; any other failure is kept so that a
// page that needs the account reports it instead of asking to sign in.
func (s *Server) loadSession(w http.ResponseWriter, r *http.Request) {
	tok := cookieValue(r, SessionCookie)
	if tok == "" {
		return
	}
	sess, acct, err := s.sessions.Authenticate(r.Context(), tok, s.request(r))
	if err != nil {
		if mamoru.ErrorCode(err) == mamoru.EUnauthorized {
			clearCookie(w, SessionCookie)
		} else {
			state(r).authErr = err
		}
		return
	}
	s.signedIn(r, sess, acct)
}

// signedIn records the session in the request state; the account's
// language wins over the client's.
func (s *Server) signedIn(r *http.Request, sess *mamoru.Session, acct *mamoru.Account) {
	st := state(r)
	st.session, st.account = sess, acct
	if l, ok := mamoru.ParseLanguage(string(acct.Language)); ok {
		st.lang = l
	}
}

// setSessionCookie hands the session token to the browser, until the
// session's absolute expiry.
func setSessionCookie(w http.ResponseWriter, sess *mamoru.Session, token string) {
	setCookie(w, SessionCookie, token, sess.ExpiresAt)
}

// localReturnTo returns p if it is a path on this site, and def otherwise.
// It refuses everything a browser could read as another origin:
// "//evil.com", "/\evil.com", "https://evil.com", control characters.
func localReturnTo(p, def string) string {
	if p == "" || len(p) > 2048 || p[0] != '/' {
		return def
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return def
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return def
		}
	}
	return p
}
