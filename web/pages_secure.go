package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/mamoru-id/mamoru"
)

// The secure-account flow ("this wasn't me") and the one-click links from
// notifications that lead to it. None of these pages needs a session: the
// flow is bound to the browser by the __Host-mamoru_secure cookie, and the
// links carry their own tokens. Links are never used on GET, because mail
// scanners fetch the links in mail: GET shows a page with a button, and
// only its POST acts. Tokens stay out of logs (the access log has no query
// strings) and out of other sites (every page is no-referrer, no-store).

// secureData is the data of the secure-account page.
type secureData struct {
	Step        string // mamoru.SecureStepReset or SecureStepReview
	MaskedEmail string
	Changes     []eventRow
}

// secureView builds the secure-account page from the flow's state.
func (s *Server) secureView(r *http.Request, st *mamoru.SecureAccountState) *view {
	v := s.newView(r, "web.secure.title")
	v.Path = "/secure-account"
	lang := state(r).lang
	tz := displayZone(lang, state(r).account)
	data := secureData{Step: st.Step, MaskedEmail: st.MaskedEmail}
	for _, e := range st.Changes {
		row := s.eventRow(lang, tz, e)
		row.Answerable = false
		row.Undone = slices.Contains(st.Undone, e.ID)
		data.Changes = append(data.Changes, row)
	}
	v.Data = data
	return v
}

// secureExpired renders the page for a missing, expired or foreign flow,
// and drops the cookie.
func (s *Server) secureExpired(w http.ResponseWriter, r *http.Request) error {
	if cookieValue(r, SecureCookie) != "" {
		clearCookie(w, SecureCookie)
	}
	v := s.newView(r, "web.secure.expired_title")
	v.Path = "/secure-account"
	v.Notice = ""
	v.Form["expired"] = "1"
	s.render(w, r, http.StatusBadRequest, "secure_account", v)
	return nil
}

// secureState returns the state of the browser's flow; ok is false when
// the flow is gone (and the expired page has been rendered).
func (s *Server) secureState(w http.ResponseWriter, r *http.Request) (id, secret string, st *mamoru.SecureAccountState, ok bool, err error) {
	id, secret, ok = secureFlow(r)
	if !ok {
		return "", "", nil, false, s.secureExpired(w, r)
	}
	st, err = s.secure.State(r.Context(), id, secret)
	if flowGone(err) || mamoru.ErrorCode(err) == mamoru.ENotFound {
		return "", "", nil, false, s.secureExpired(w, r)
	}
	if err != nil {
		return "", "", nil, false, err
	}
	return id, secret, st, true, nil
}

// pageSecure is GET /secure-account: the step the flow is at.
func (s *Server) pageSecure(w http.ResponseWriter, r *http.Request) error {
	_, _, st, ok, err := s.secureState(w, r)
	if !ok {
		return err
	}
	s.render(w, r, http.StatusOK, "secure_account", s.secureView(r, st))
	return nil
}

// secureFormError re-renders the secure-account page after err from a
// step, with the flow's current state.
func (s *Server) secureFormError(w http.ResponseWriter, r *http.Request, stepErr error, text string) error {
	if flowGone(stepErr) {
		return s.secureExpired(w, r)
	}
	_, _, st, ok, err := s.secureState(w, r)
	if !ok {
		return err
	}
	v := s.secureView(r, st)
	if text != "" {
		v.Error = text
		s.render(w, r, statusOf(errorCode(stepErr)), "secure_account", v)
		return nil
	}
	return s.formError(w, r, "secure_account", v, stepErr)
}

// postSecureReset is POST /secure-account/reset: the emailed code and the
// new password. It signs nobody in; the flow moves on to the review.
func (s *Server) postSecureReset(w http.ResponseWriter, r *http.Request) error {
	id, secret, ok := secureFlow(r)
	if !ok {
		return s.secureExpired(w, r)
	}
	_, err := s.secure.ResetPassword(r.Context(), id, secret,
		strings.TrimSpace(r.PostForm.Get("code")), r.PostForm.Get("password"), s.request(r))
	if err != nil {
		return s.secureFormError(w, r, err, "")
	}
	return seeOther(w, r, "/secure-account?notice=secure_password_set")
}

// postSecureResend is POST /secure-account/resend: a new code.
func (s *Server) postSecureResend(w http.ResponseWriter, r *http.Request) error {
	id, secret, ok := secureFlow(r)
	if !ok {
		return s.secureExpired(w, r)
	}
	if err := s.secure.ResendCode(r.Context(), id, secret, s.request(r)); err != nil {
		return s.secureFormError(w, r, err, "")
	}
	return seeOther(w, r, "/secure-account?notice=code_resent")
}

// postSecureUndo is POST /secure-account/undo: revert one of the listed
// changes.
func (s *Server) postSecureUndo(w http.ResponseWriter, r *http.Request) error {
	id, secret, ok := secureFlow(r)
	if !ok {
		return s.secureExpired(w, r)
	}
	_, err := s.secure.Undo(r.Context(), id, secret, r.PostForm.Get("event_id"), s.request(r))
	if mamoru.ErrorCode(err) == mamoru.EConflict {
		return s.secureFormError(w, r, err, s.cat.T(state(r).lang, "web.secure.undo_conflict", nil))
	}
	if err != nil {
		return s.secureFormError(w, r, err, "")
	}
	return seeOther(w, r, "/secure-account?notice=change_undone")
}

// linkInvalid renders the one page for a link that cannot be used,
// whatever the reason (unknown, used, expired, replaced).
func (s *Server) linkInvalid(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "web.link_invalid.title")
	v.Notice = ""
	s.render(w, r, http.StatusBadRequest, "link_invalid", v)
	return nil
}

// parseAnswer reads an answer=yes|no value.
func parseAnswer(a string) (yes, ok bool) {
	switch a {
	case "yes":
		return true, true
	case "no":
		return false, true
	}
	return false, false
}

// answerData is the data of the one-click answer page.
type answerData struct {
	Event eventRow
}

// pageAnswer is GET /events/answer?token=…&answer=yes|no: the event the
// link is about and one button to confirm the choice (both buttons when
// the answer is missing). It only checks the link.
func (s *Server) pageAnswer(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	tok := q.Get("token")
	if tok == "" {
		return s.linkInvalid(w, r)
	}
	e, err := s.activity.CheckAnswerLink(r.Context(), tok)
	if mamoru.ErrorCode(err) == mamoru.EInvalidCode {
		return s.linkInvalid(w, r)
	}
	if err != nil {
		return err
	}
	v := s.newView(r, "web.answer.title")
	v.Form["token"] = tok
	if _, ok := parseAnswer(q.Get("answer")); ok {
		v.Form["answer"] = q.Get("answer")
	}
	lang := state(r).lang
	v.Data = answerData{Event: s.eventRow(lang, displayZone(lang, state(r).account), e)}
	s.render(w, r, http.StatusOK, "answer", v)
	return nil
}

// postAnswer is POST /events/answer: uses the link. Yes confirms the
// event; no starts the secure-account flow in this browser.
func (s *Server) postAnswer(w http.ResponseWriter, r *http.Request) error {
	yes, ok := parseAnswer(r.PostForm.Get("answer"))
	if !ok {
		return mamoru.Errorf(mamoru.EInvalidRequest, "answer must be yes or no")
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		return s.linkInvalid(w, r)
	}
	start, err := s.activity.AnswerLink(r.Context(), tok, yes, s.request(r))
	if mamoru.ErrorCode(err) == mamoru.EInvalidCode {
		return s.linkInvalid(w, r)
	}
	if err != nil {
		return err
	}
	if yes {
		return seeOther(w, r, "/events/answer/done")
	}
	if err := s.startSecureFlow(w, start); err != nil {
		return err
	}
	return seeOther(w, r, "/secure-account")
}

// pageAnswerDone is GET /events/answer/done: thanks for confirming.
func (s *Server) pageAnswerDone(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "answer_done", s.newView(r, "web.answer_done.title"))
	return nil
}

// pageRevert is GET /email/revert?token=…: what reverting does, and the
// button. There is no way to check the link without using it, so the
// POST tells whether it works.
func (s *Server) pageRevert(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("token")
	if tok == "" {
		return s.linkInvalid(w, r)
	}
	v := s.newView(r, "web.revert.title")
	v.Form["token"] = tok
	s.render(w, r, http.StatusOK, "revert", v)
	return nil
}

// postRevert is POST /email/revert: the old address comes back and the
// secure-account flow starts in this browser.
func (s *Server) postRevert(w http.ResponseWriter, r *http.Request) error {
	tok := r.PostForm.Get("token")
	if tok == "" {
		return s.linkInvalid(w, r)
	}
	start, err := s.activity.RevertEmail(r.Context(), tok, s.request(r))
	switch mamoru.ErrorCode(err) {
	case "":
	case mamoru.EInvalidCode:
		return s.linkInvalid(w, r)
	case mamoru.EConflict:
		v := s.newView(r, "web.revert.title")
		v.Notice = ""
		v.Error = v.T("web.revert.conflict")
		s.render(w, r, http.StatusConflict, "revert", v)
		return nil
	default:
		return err
	}
	if err := s.startSecureFlow(w, start); err != nil {
		return err
	}
	return seeOther(w, r, "/secure-account")
}
