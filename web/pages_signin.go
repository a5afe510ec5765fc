package web

import (
	"net/http"
	"strings"

	"github.com/mamoru-id/mamoru"
)

// signInStatusTexts are the catalog IDs of what the sign-in page says for
// the outcomes that do not sign in.
var signInStatusTexts = map[mamoru.SignInStatus]string{
	mamoru.InvalidCredentials:    "web.signin.invalid",
	mamoru.ChallengeRequired:     "web.signin.challenge_required",
	mamoru.ApprovalRequired:      "web.signin.approval_required",
	mamoru.PasswordResetRequired: "web.signin.password_reset_required",
	mamoru.Locked:                "web.signin.locked",
	mamoru.Restricted:            "web.signin.restricted",
}

// pageSignIn is GET /signin: it begins a flow bound to this browser and
// shows the form.
func (s *Server) pageSignIn(w http.ResponseWriter, r *http.Request) error {
	returnTo := localReturnTo(r.URL.Query().Get("return_to"), "")
	if state(r).account != nil {
		return seeOther(w, r, localReturnTo(returnTo, "/account"))
	}
	v := s.newView(r, "web.signin.title")
	v.Form["return_to"] = returnTo
	if err := s.beginSignIn(w, r, v); err != nil {
		return err
	}
	s.showCaptcha(r, v, false)
	s.render(w, r, http.StatusOK, "signin", v)
	return nil
}

// beginSignIn starts a flow, gives its secret to the browser and its ID to
// the form.
func (s *Server) beginSignIn(w http.ResponseWriter, r *http.Request, v *view) error {
	start, err := s.signIn.Begin(r.Context(), s.request(r))
	if err != nil {
		return err
	}
	setCookie(w, FlowCookie, start.FlowSecret, s.clock.Now().Add(flowCookieTTL))
	v.Form["flow_id"] = start.FlowID
	return nil
}

// postSignIn is POST /signin: the password step of the browser's flow.
func (s *Server) postSignIn(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "web.signin.title")
	v.Path = "/signin"
	email := strings.TrimSpace(r.PostForm.Get("email"))
	returnTo := localReturnTo(r.PostForm.Get("return_to"), "")
	v.Form["email"] = email
	v.Form["return_to"] = returnTo
	v.Form["flow_id"] = r.PostForm.Get("flow_id")

	req, keepDevice := s.signInRequest(r)
	res, err := s.signIn.SubmitPassword(r.Context(), mamoru.PasswordStep{
		FlowID:     r.PostForm.Get("flow_id"),
		FlowSecret: cookieValue(r, FlowCookie),
		Email:      email,
		Password:   r.PostForm.Get("password"),
		Captcha:    s.captchaAnswer(r),
	}, req)
	if mamoru.ErrorCode(err) == mamoru.EFlowExpired {
		// The page sat too long (or the cookie is gone): a new flow, and a
		// note instead of an error.
		return s.restartSignIn(w, r, v, http.StatusOK, s.errorText(v.Lang, mamoru.EFlowExpired), false)
	}
	if err != nil {
		return s.formError(w, r, "signin", v, err)
	}
	if res.FlowID != "" {
		v.Form["flow_id"] = res.FlowID
	}
	if res.FlowSecret != "" {
		setCookie(w, FlowCookie, res.FlowSecret, s.clock.Now().Add(flowCookieTTL))
	}
	switch res.Status {
	case mamoru.SignedIn, mamoru.ChallengeRequired, mamoru.ApprovalRequired, mamoru.PasswordResetRequired:
		keepDevice(w)
	}
	if res.Status == mamoru.SignedIn {
		if res.Session == nil || res.SessionToken == "" {
			return mamoru.Errorf(mamoru.EInternal, "signed_in without session")
		}
		setSessionCookie(w, res.Session, res.SessionToken)
		clearCookie(w, FlowCookie)
		return seeOther(w, r, localReturnTo(returnTo, "/account"))
	}
	if res.Status == mamoru.ChallengeRequired {
		// The second step: its own page (pages_signin_twostep.go).
		st := signInCodeFromResult(v.Form["flow_id"], returnTo, res)
		s.render(w, r, http.StatusOK, "signin_code", s.signInCodeView(r, st))
		return nil
	}
	id, ok := signInStatusTexts[res.Status]
	if !ok {
		return mamoru.Errorf(mamoru.EInternal, "unknown sign-in status %q", res.Status)
	}
	v.Error = v.T(id)
	v.Form["status"] = string(res.Status)
	v.Form["sent_to"] = res.SentTo
	if res.Status == mamoru.ApprovalRequired {
		v.Error, v.Notice = "", "web.approval.sent"
	}
	if res.Status == mamoru.InvalidCredentials || res.Status == mamoru.Locked {
		s.showCaptcha(r, v, false)
	}
	status := http.StatusOK
	switch res.Status {
	case mamoru.InvalidCredentials, mamoru.Locked, mamoru.Restricted:
		status = http.StatusUnauthorized
	}
	s.render(w, r, status, "signin", v)
	return nil
}

// postSignOut is POST /signout.
func (s *Server) postSignOut(w http.ResponseWriter, r *http.Request) error {
	if sess := state(r).session; sess != nil {
		if err := s.sessions.SignOut(r.Context(), sess); err != nil {
			return err
		}
	}
	clearCookie(w, SessionCookie)
	return seeOther(w, r, "/signin?notice=signed_out")
}
