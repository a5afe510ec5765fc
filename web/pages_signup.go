package web

import (
	"net/http"
	"strings"

	"github.com/mamoru-id/mamoru"
)

// pageHome is GET /: the account page when signed in, else sign-in.
func (s *Server) pageHome(w http.ResponseWriter, r *http.Request) error {
	if state(r).account != nil {
		return seeOther(w, r, "/account")
	}
	return seeOther(w, r, "/signin")
}

// pageSignUp is GET /signup.
func (s *Server) pageSignUp(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "signup", s.newView(r, "web.signup.title"))
	return nil
}

// postSignUp is POST /signup.
func (s *Server) postSignUp(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "web.signup.title")
	email := strings.TrimSpace(r.PostForm.Get("email"))
	v.Form["email"] = email
	v.Form["language"] = r.PostForm.Get("language")
	lang, ok := mamoru.ParseLanguage(r.PostForm.Get("language"))
	if !ok {
		return s.formError(w, r, "signup", v, mamoru.Errorf(mamoru.EInvalidLanguage, "bad language"))
	}
	in := mamoru.SignUpInput{Email: email, Password: r.PostForm.Get("password"), Language: lang}
	if err := s.accounts.SignUp(r.Context(), in, s.request(r)); err != nil {
		return s.formError(w, r, "signup", v, err)
	}
	return seeOther(w, r, withQuery("/verify", "email", email, "notice", "verification_sent"))
}

// pageVerify is GET /verify: the code form and the resend form.
func (s *Server) pageVerify(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "web.verify.title")
	v.Form["email"] = r.URL.Query().Get("email")
	if v.Form["email"] == "" && v.Account != nil {
		v.Form["email"] = v.Account.Email
	}
	s.render(w, r, http.StatusOK, "verify", v)
	return nil
}

// postVerify is POST /verify.
func (s *Server) postVerify(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "web.verify.title")
	email := strings.TrimSpace(r.PostForm.Get("email"))
	v.Form["email"] = email
	if err := s.accounts.VerifyEmail(r.Context(), email, strings.TrimSpace(r.PostForm.Get("code"))); err != nil {
		return s.formError(w, r, "verify", v, err)
	}
	return s.afterVerified(w, r)
}

// afterVerified goes on after a verified address: to the account page when
// signed in, else to sign-in.
func (s *Server) afterVerified(w http.ResponseWriter, r *http.Request) error {
	if state(r).account != nil {
		return seeOther(w, r, "/account?notice=verified")
	}
	return seeOther(w, r, "/signin?notice=verified")
}

// postVerifyResend is POST /verify/resend.
func (s *Server) postVerifyResend(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "web.verify.title")
	v.Path = "/verify"
	email := strings.TrimSpace(r.PostForm.Get("email"))
	v.Form["email"] = email
	if err := s.accounts.ResendVerification(r.Context(), email, s.request(r)); err != nil {
		return s.formError(w, r, "verify", v, err)
	}
	return seeOther(w, r, withQuery("/verify", "email", email, "notice", "verification_sent"))
}

// pageVerifyLink is GET /verify/link?token=…: a page with a button that
// POSTs the token. The token is never used on GET, because mail scanners
// fetch the links in mail.
func (s *Server) pageVerifyLink(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("token")
	if tok == "" {
		return seeOther(w, r, "/verify")
	}
	v := s.newView(r, "web.verify_link.title")
	v.Form["token"] = tok
	s.render(w, r, http.StatusOK, "verify_link", v)
	return nil
}

// postVerifyLink is POST /verify/link.
func (s *Server) postVerifyLink(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "web.verify_link.title")
	v.Path = "/verify"
	if err := s.accounts.VerifyEmailLink(r.Context(), r.PostForm.Get("token")); err != nil {
		return s.formError(w, r, "verify_link", v, err)
	}
	return s.afterVerified(w, r)
}
