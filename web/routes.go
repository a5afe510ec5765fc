package web

import "net/http"

// RouteKind says how a route's responses and errors are rendered.
type RouteKind int

// The route kinds.
const (
	// KindAPI routes answer JSON, with errors in the JSON envelope.
	KindAPI RouteKind = iota
	// KindPage routes answer HTML pages; their non-safe methods need the
	// CSRF form token.
	KindPage
	// KindPlain routes answer plain text or static files (health, CSS).
	KindPlain
)

// Route is one entry of the route table.
type Route struct {
	Method string    // GET, POST, DELETE
	Path   string    // a Go 1.22 ServeMux path pattern
	Kind   RouteKind // how responses and errors are rendered
	Dev    bool      // registered only when Deps.Outbox is set
	handle handlerFunc
}

// handlerFunc is the shape of every route handler: an error it returns is
// rendered by the route's kind (JSON envelope or error page).
type handlerFunc func(s *Server, w http.ResponseWriter, r *http.Request) error

// Pattern returns the ServeMux pattern, e.g. "POST /api/v1/signin".
func (rt Route) Pattern() string { return rt.Method + " " + rt.Path }

// Routes returns every route of the server, in one table. Tests compare it
// with the OpenAPI document.
func Routes() []Route {
	return []Route{
		// JSON API.
		{"POST", "/api/v1/signup", KindAPI, false, (*Server).apiSignUp},
		{"POST", "/api/v1/verify", KindAPI, false, (*Server).apiVerify},
		{"POST", "/api/v1/verify/resend", KindAPI, false, (*Server).apiVerifyResend},
		{"POST", "/api/v1/signin", KindAPI, false, (*Server).apiSignIn},
		{"POST", "/api/v1/signout", KindAPI, false, (*Server).apiSignOut},
		{"GET", "/api/v1/sessions", KindAPI, false, (*Server).apiSessions},
		{"DELETE", "/api/v1/sessions", KindAPI, false, (*Server).apiRevokeAll},
		{"DELETE", "/api/v1/sessions/{id}", KindAPI, false, (*Server).apiRevokeSession},
		{"POST", "/api/v1/password/change", KindAPI, false, (*Server).apiPasswordChange},
		{"POST", "/api/v1/password/forgot", KindAPI, false, (*Server).apiPasswordForgot},
		{"POST", "/api/v1/password/reset", KindAPI, false, (*Server).apiPasswordReset},
		{"GET", "/api/v1/me", KindAPI, false, (*Server).apiMe},
		{"GET", "/api/v1/openapi.json", KindAPI, false, (*Server).apiOpenAPI},
		{"GET", "/api/v1/dev/outbox", KindAPI, true, (*Server).apiDevOutbox},

		// Pages.
		{"GET", "/{$}", KindPage, false, (*Server).pageHome},
		{"GET", "/signup", KindPage, false, (*Server).pageSignUp},
		{"POST", "/signup", KindPage, false, (*Server).postSignUp},
		{"GET", "/verify", KindPage, false, (*Server).pageVerify},
		{"POST", "/verify", KindPage, false, (*Server).postVerify},
		{"POST", "/verify/resend", KindPage, false, (*Server).postVerifyResend},
		{"GET", "/verify/link", KindPage, false, (*Server).pageVerifyLink},
		{"POST", "/verify/link", KindPage, false, (*Server).postVerifyLink},
		{"GET", "/signin", KindPage, false, (*Server).pageSignIn},
		{"POST", "/signin", KindPage, false, (*Server).postSignIn},
		{"POST", "/signout", KindPage, false, (*Server).postSignOut},
		{"GET", "/password/forgot", KindPage, false, (*Server).pageForgot},
		{"POST", "/password/forgot", KindPage, false, (*Server).postForgot},
		{"GET", "/password/reset", KindPage, false, (*Server).pageReset},
		{"POST", "/password/reset", KindPage, false, (*Server).postReset},
		{"GET", "/account", KindPage, false, (*Server).pageAccount},
		{"GET", "/account/security", KindPage, false, (*Server).pageSecurity},
		{"POST", "/account/password", KindPage, false, (*Server).postPasswordChange},
		{"POST", "/account/sessions/{id}/revoke", KindPage, false, (*Server).postRevokeSession},
		{"POST", "/account/sessions/revoke-all", KindPage, false, (*Server).postRevokeAll},
		{"GET", "/lang/{lang}", KindPage, false, (*Server).pageLanguage},
		{"GET", "/dev/outbox", KindPage, true, (*Server).pageOutbox},
		{"GET", "/dev/outbox/{id}", KindPage, true, (*Server).pageOutboxMessage},

		// Plain.
		{"GET", "/static/{file}", KindPlain, false, (*Server).static},
		{"GET", "/healthz", KindPlain, false, (*Server).healthz},
		{"GET", "/readyz", KindPlain, false, (*Server).readyz},
	}
}
