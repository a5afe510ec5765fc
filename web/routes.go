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
	Method string    // GET, POST, PATCH, DELETE
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
		{"POST", "/api/v1/signin/code", KindAPI, false, (*Server).apiSignInCode},
		{"POST", "/api/v1/signin/code/resend", KindAPI, false, (*Server).apiSignInCodeResend},
		{"POST", "/api/v1/signin/webauthn/options", KindAPI, false, (*Server).apiSignInWebAuthnOptions},
		{"POST", "/api/v1/signin/passkey/options", KindAPI, false, (*Server).apiSignInPasskeyOptions},
		{"POST", "/api/v1/signin/passkey", KindAPI, false, (*Server).apiSignInPasskey},
		{"POST", "/api/v1/signin/approval", KindAPI, false, (*Server).apiSignInApproval},
		{"GET", "/api/v1/signin/approval/events", KindAPI, false, (*Server).apiSignInApprovalEvents},
		{"POST", "/api/v1/signout", KindAPI, false, (*Server).apiSignOut},
		{"GET", "/api/v1/sessions", KindAPI, false, (*Server).apiSessions},
		{"DELETE", "/api/v1/sessions", KindAPI, false, (*Server).apiRevokeAll},
		{"DELETE", "/api/v1/sessions/{id}", KindAPI, false, (*Server).apiRevokeSession},
		{"POST", "/api/v1/password/change", KindAPI, false, (*Server).apiPasswordChange},
		{"POST", "/api/v1/password/forgot", KindAPI, false, (*Server).apiPasswordForgot},
		{"POST", "/api/v1/password/reset", KindAPI, false, (*Server).apiPasswordReset},
		{"GET", "/api/v1/me", KindAPI, false, (*Server).apiMe},
		{"PATCH", "/api/v1/account", KindAPI, false, (*Server).apiUpdateAccount},
		{"POST", "/api/v1/account/email", KindAPI, false, (*Server).apiStartEmailChange},
		{"POST", "/api/v1/account/email/confirm", KindAPI, false, (*Server).apiConfirmEmailChange},
		{"POST", "/api/v1/account/phone", KindAPI, false, (*Server).apiStartPhoneChange},
		{"POST", "/api/v1/account/phone/confirm", KindAPI, false, (*Server).apiConfirmPhoneChange},
		{"POST", "/api/v1/account/phone/remove", KindAPI, false, (*Server).apiRemovePhone},
		{"GET", "/api/v1/account/two-step", KindAPI, false, (*Server).apiTwoStep},
		{"POST", "/api/v1/account/two-step/totp", KindAPI, false, (*Server).apiTwoStepTOTP},
		{"POST", "/api/v1/account/two-step/totp/confirm", KindAPI, false, (*Server).apiTwoStepTOTPConfirm},
		{"POST", "/api/v1/account/two-step/webauthn/options", KindAPI, false, (*Server).apiTwoStepWebAuthnOptions},
		{"POST", "/api/v1/account/two-step/webauthn", KindAPI, false, (*Server).apiTwoStepWebAuthn},
		{"POST", "/api/v1/account/two-step/backup-codes", KindAPI, false, (*Server).apiTwoStepBackupCodes},
		{"POST", "/api/v1/account/two-step/sms", KindAPI, false, (*Server).apiTwoStepSMS},
		{"DELETE", "/api/v1/account/two-step/devices", KindAPI, false, (*Server).apiTwoStepForgetDevices},
		{"DELETE", "/api/v1/account/two-step/{id}", KindAPI, false, (*Server).apiTwoStepRemove},
		{"POST", "/api/v1/step-up", KindAPI, false, (*Server).apiStepUp},
		{"POST", "/api/v1/step-up/sms", KindAPI, false, (*Server).apiStepUpSMS},
		{"POST", "/api/v1/step-up/webauthn/options", KindAPI, false, (*Server).apiStepUpWebAuthnOptions},
		{"GET", "/api/v1/account/logins", KindAPI, false, (*Server).apiLogins},
		{"GET", "/api/v1/account/events", KindAPI, false, (*Server).apiEvents},
		{"POST", "/api/v1/account/events/{id}/confirm", KindAPI, false, (*Server).apiConfirmEvent},
		{"POST", "/api/v1/account/events/{id}/deny", KindAPI, false, (*Server).apiDenyEvent},
		{"GET", "/api/v1/secure-account", KindAPI, false, (*Server).apiSecureState},
		{"POST", "/api/v1/secure-account/resend", KindAPI, false, (*Server).apiSecureResend},
		{"POST", "/api/v1/secure-account/reset", KindAPI, false, (*Server).apiSecureReset},
		{"POST", "/api/v1/secure-account/undo", KindAPI, false, (*Server).apiSecureUndo},
		{"POST", "/api/v1/events/answer", KindAPI, false, (*Server).apiAnswer},
		{"POST", "/api/v1/email/revert", KindAPI, false, (*Server).apiRevertEmail},
		{"GET", "/api/v1/captcha/challenge", KindAPI, false, (*Server).apiCaptchaChallenge},
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
		{"POST", "/signin/code", KindPage, false, (*Server).postSignInCode},
		{"POST", "/signin/code/resend", KindPage, false, (*Server).postSignInCodeResend},
		{"POST", "/signin/code/method", KindPage, false, (*Server).postSignInCodeMethod},
		{"POST", "/signin/webauthn/options", KindPage, false, (*Server).postSignInWebAuthnOptions},
		{"POST", "/signin/passkey/options", KindPage, false, (*Server).postSignInPasskeyOptions},
		{"POST", "/signin/passkey", KindPage, false, (*Server).postSignInPasskey},
		{"POST", "/signin/approval", KindPage, false, (*Server).postSignInApproval},
		{"GET", "/signin/approval-request", KindPage, false, (*Server).pageApprovalRequest},
		{"POST", "/signin/approval-request", KindPage, false, (*Server).postApprovalRequest},
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
		{"GET", "/account/activity", KindPage, false, (*Server).pageActivity},
		{"GET", "/account/events", KindPage, false, (*Server).pageEvents},
		{"POST", "/account/events/{id}/confirm", KindPage, false, (*Server).postConfirmEvent},
		{"POST", "/account/events/{id}/deny", KindPage, false, (*Server).postDenyEvent},
		{"GET", "/account/settings", KindPage, false, (*Server).pageSettings},
		{"POST", "/account/settings", KindPage, false, (*Server).postSettings},
		{"GET", "/account/email", KindPage, false, (*Server).pageEmail},
		{"POST", "/account/email", KindPage, false, (*Server).postEmail},
		{"POST", "/account/email/confirm", KindPage, false, (*Server).postEmailConfirm},
		{"GET", "/account/phone", KindPage, false, (*Server).pagePhone},
		{"POST", "/account/phone", KindPage, false, (*Server).postPhone},
		{"POST", "/account/phone/confirm", KindPage, false, (*Server).postPhoneConfirm},
		{"POST", "/account/phone/remove", KindPage, false, (*Server).postPhoneRemove},
		{"GET", "/account/step-up", KindPage, false, (*Server).pageStepUp},
		{"POST", "/account/step-up", KindPage, false, (*Server).postStepUp},
		{"POST", "/account/step-up/sms", KindPage, false, (*Server).postStepUpSMS},
		{"POST", "/account/step-up/webauthn/options", KindPage, false, (*Server).postStepUpWebAuthnOptions},
		{"GET", "/account/two-step", KindPage, false, (*Server).pageTwoStep},
		{"GET", "/account/two-step/totp", KindPage, false, (*Server).pageTwoStepTOTP},
		{"GET", "/account/two-step/totp/qr", KindPage, false, (*Server).pageTwoStepTOTPQR},
		{"POST", "/account/two-step/totp", KindPage, false, (*Server).postTwoStepTOTP},
		{"POST", "/account/two-step/webauthn/options", KindPage, false, (*Server).postTwoStepWebAuthnOptions},
		{"POST", "/account/two-step/webauthn", KindPage, false, (*Server).postTwoStepWebAuthn},
		{"POST", "/account/two-step/backup", KindPage, false, (*Server).postTwoStepBackup},
		{"POST", "/account/two-step/sms", KindPage, false, (*Server).postTwoStepSMS},
		{"POST", "/account/two-step/devices/forget", KindPage, false, (*Server).postTwoStepForgetDevices},
		{"POST", "/account/two-step/{id}/remove", KindPage, false, (*Server).postTwoStepRemove},
		{"GET", "/secure-account", KindPage, false, (*Server).pageSecure},
		{"POST", "/secure-account/reset", KindPage, false, (*Server).postSecureReset},
		{"POST", "/secure-account/resend", KindPage, false, (*Server).postSecureResend},
		{"POST", "/secure-account/undo", KindPage, false, (*Server).postSecureUndo},
		{"GET", "/events/answer", KindPage, false, (*Server).pageAnswer},
		{"POST", "/events/answer", KindPage, false, (*Server).postAnswer},
		{"GET", "/events/answer/done", KindPage, false, (*Server).pageAnswerDone},
		{"GET", "/email/revert", KindPage, false, (*Server).pageRevert},
		{"POST", "/email/revert", KindPage, false, (*Server).postRevert},
		{"GET", "/account/unlock", KindPage, false, (*Server).pageUnlock},
		{"POST", "/account/unlock", KindPage, false, (*Server).postUnlock},
		{"GET", "/lang/{lang}", KindPage, false, (*Server).pageLanguage},
		{"GET", "/dev/outbox", KindPage, true, (*Server).pageOutbox},
		{"GET", "/dev/outbox/{id}", KindPage, true, (*Server).pageOutboxMessage},

		// Plain.
		{"GET", "/static/{file}", KindPlain, false, (*Server).static},
		{"GET", "/healthz", KindPlain, false, (*Server).healthz},
		{"GET", "/readyz", KindPlain, false, (*Server).readyz},
		{"GET", "/metrics", KindPlain, false, (*Server).metrics},
		{"GET", jwksPath, KindPlain, false, (*Server).wellKnownJWKS},
	}
}
