package web

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/mamoru-id/mamoru"
)

// reqState is what the middleware learns about a request and the handlers
// read: the language to answer in, the CSRF token of the page, and the
// signed-in session and account when there is one.
type reqState struct {
	lang    mamoru.Language
	csrf    string
	session *mamoru.Session
	account *mamoru.Account
	authErr error // why a session cookie did not authenticate, other than "unauthorized"
}

type stateKey struct{}

// state returns the request's state; a fresh English one if the request did
// not pass through the server's middleware (only in tests of single helpers).
func state(r *http.Request) *reqState {
	if st, ok := r.Context().Value(stateKey{}).(*reqState); ok {
		return st
	}
	return &reqState{lang: mamoru.English}
}

// statusWriter remembers the status written, for the access log and for
// knowing whether a panic can still be answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// outer is the outermost middleware: it sets up the request state with the
// language of the client (cookie, then Accept-Language), recovers panics as
// 500 internal, and writes the access log line. The log has the method, the
// path WITHOUT the query string (which may carry link tokens), the status
// and the duration; never headers, cookies or bodies.
func (s *Server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &reqState{lang: clientLanguage(r)}
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(r.Context(), "panic",
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.Any("panic", p),
					slog.String("stack", string(debug.Stack())))
				if sw.status == 0 {
					s.fail(sw, r, mamoru.Errorf(mamoru.EInternal, "panic"))
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			s.log.InfoContext(r.Context(), "http",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Duration("duration", time.Since(start)))
		}()
		sw.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(sw, r)
	})
}

// dispatch hands the request to the mux, but renders "no such route" and
// "wrong method" itself (JSON under /api/, a page elsewhere) instead of
// the mux's plain-text answers.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	// No pattern: the mux would answer 404, 405 or a redirect to the
	// cleaned path. Ask it which, without letting it write.
	probe := &probeWriter{header: http.Header{}}
	h.ServeHTTP(probe, r)
	switch {
	case probe.status == http.StatusMethodNotAllowed:
		w.Header().Set("Allow", probe.header.Get("Allow"))
		s.fail(w, r, mamoru.Errorf(mamoru.EMethodNotAllowed, "method %s not allowed", r.Method))
	case probe.status == http.StatusMovedPermanently && probe.header.Get("Location") != "":
		http.Redirect(w, r, probe.header.Get("Location"), http.StatusMovedPermanently)
	default:
		s.fail(w, r, mamoru.Errorf(mamoru.ENotFound, "no route"))
	}
}

// probeWriter records what a handler would answer, and discards it.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header { return p.header }
func (p *probeWriter) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *probeWriter) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

// wrap turns a route into a handler: the headers of its kind, for pages the
// session, CSRF cookie and form-token check, then the route's handler with
// its error rendered by kind.
func (s *Server) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch rt.Kind {
		case KindAPI:
			setAPIHeaders(w.Header())
		case KindPage:
			setPageHeaders(w.Header())
			if err := s.preparePage(w, r); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if err := rt.handle(s, w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// contentSecurityPolicy is the policy of every HTML page but the dev outbox
// message page.
const contentSecurityPolicy = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

// setPageHeaders sets the security headers of every HTML response. Every
// page carries a CSRF token or account data, so none may be cached.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}

// preparePage runs before every page handler: it loads the session from
// the cookie (the account's language then wins), makes sure the browser has
// a CSRF cookie, and for non-safe methods parses the form (size-limited)
// and checks its CSRF token.
func (s *Server) preparePage(w http.ResponseWriter, r *http.Request) error {
	s.loadSession(w, r)
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead
	if safe {
		state(r).csrf = s.ensureCSRF(w, r)
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		if isMaxBytes(err) {
			return mamoru.Errorf(mamoru.EPayloadTooLarge, "form too large")
		}
		return mamoru.Errorf(mamoru.EInvalidRequest, "bad form")
	}
	tok, ok := checkCSRF(r)
	if !ok {
		return mamoru.Errorf(mamoru.EForbidden, "CSRF token missing or wrong")
	}
	state(r).csrf = tok
	return nil
}
