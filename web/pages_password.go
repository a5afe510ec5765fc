package web

import (
	"net/http"
	"strings"

	"github.com/mamoru-id/mamoru"
)

// pageForgot is GET /password/forgot.
func (s *Server) pageForgot(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "web.forgot.title")
	v.Form["email"] = r.URL.Query().Get("email")
	s.render(w, r, http.StatusOK, "forgot", v)
	return nil
}

// postForgot is POST /password/forgot. The answer is the same whether the
// account exists or not.
func (s *Server) postForgot(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "web.forgot.title")
	email := strings.TrimSpace(r.PostForm.Get("email"))
	v.Form["email"] = email
	if err := s.accounts.ForgotPassword(r.Context(), email, s.request(r)); err != nil {
		return s.formError(w, r, "forgot", v, err)
	}
	return seeOther(w, r, withQuery("/password/reset", "email", email, "notice", "reset_sent"))
}

// pageReset is GET /password/reset: with ?token= (the emailed link) it
// checks the token without using it and asks for the new password; without,
// it asks for email, code and new password.
func (s *Server) pageReset(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "web.reset.title")
	if tok := r.URL.Query().Get("token"); tok != "" {
		if err := s.accounts.CheckResetLink(r.Context(), tok); err != nil {
			v.Form["invalid_link"] = "1"
			return s.formError(w, r, "reset", v, err)
		}
		v.Form["token"] = tok
	} else {
		v.Form["email"] = r.URL.Query().Get("email")
	}
	s.render(w, r, http.StatusOK, "reset", v)
	return nil
}

// postReset is POST /password/reset. It never signs in: every session of
// the account ends, and the browser goes to sign-in.
func (s *Server) postReset(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "web.reset.title")
	in := mamoru.ResetInput{
		Email:    strings.TrimSpace(r.PostForm.Get("email")),
		Code:     strings.TrimSpace(r.PostForm.Get("code")),
		Token:    r.PostForm.Get("token"),
		Password: r.PostForm.Get("password"),
	}
	v.Form["email"] = in.Email
	v.Form["token"] = in.Token
	if err := s.accounts.ResetPassword(r.Context(), in, s.request(r)); err != nil {
		if in.Token != "" && mamoru.ErrorCode(err) == mamoru.EInvalidCode {
			v.Form["invalid_link"] = "1"
		}
		return s.formError(w, r, "reset", v, err)
	}
	if state(r).session != nil {
		clearCookie(w, SessionCookie)
	}
	return seeOther(w, r, "/signin?notice=password_reset")
}
