package web

import (
	"net/http"
	"time"

	"github.com/mamoru-id/mamoru"
)

// requireAccount returns the signed-in account of a page request. Without
// one it answers itself (303 to sign-in, coming back afterwards) and
// returns nil.
func (s *Server) requireAccount(w http.ResponseWriter, r *http.Request) (*reqState, error) {
	st := state(r)
	if st.account != nil {
		return st, nil
	}
	if st.authErr != nil {
		return nil, st.authErr
	}
	back := r.URL.RequestURI()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		back = "/account/security"
	}
	http.Redirect(w, r, withQuery("/signin", "return_to", back), http.StatusSeeOther)
	return nil, nil
}

// pageAccount is GET /account.
func (s *Server) pageAccount(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	v := s.newView(r, "web.account.title")
	data := accountData{TimeZone: timeZoneName(st.account.TimeZone)}
	if st.account.Phone != "" {
		data.Phone = maskPhone(st.account.Phone)
	}
	v.Data = data
	s.render(w, r, http.StatusOK, "account", v)
	return nil
}

// accountData is the data of the account page.
type accountData struct {
	Phone    string // masked, "" for none
	TimeZone string
}

// sessionRow is one line of the sessions table.
type sessionRow struct {
	ID         string
	Current    bool
	Device     string
	IP         string
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// securityData is the data of the security page.
type securityData struct {
	Sessions []sessionRow
}

// securityView builds the security page: the sessions and the forms.
func (s *Server) securityView(r *http.Request, st *reqState) (*view, error) {
	list, err := s.sessions.ListSessions(r.Context(), st.account.ID)
	if err != nil {
		return nil, err
	}
	v := s.newView(r, "web.security.title")
	v.Path = "/account/security"
	var data securityData
	for _, se := range list {
		data.Sessions = append(data.Sessions, sessionRow{
			ID:         se.ID,
			Current:    se.ID == st.session.ID,
			Device:     s.device(st.lang, se.UserAgent),
			IP:         se.IP,
			CreatedAt:  se.CreatedAt,
			LastSeenAt: se.LastSeenAt,
		})
	}
	v.Data = data
	return v, nil
}

// pageSecurity is GET /account/security.
func (s *Server) pageSecurity(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	v, err := s.securityView(r, st)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "security", v)
	return nil
}

// postPasswordChange is POST /account/password. The service replaces this
// browser's session with a fresh one, whose token becomes the cookie.
func (s *Server) postPasswordChange(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	others := r.PostForm.Get("sign_out_others") != ""
	newSess, tok, err := s.accounts.ChangePassword(r.Context(), st.session, mamoru.ChangePasswordInput{
		Current:       r.PostForm.Get("current_password"),
		New:           r.PostForm.Get("new_password"),
		SignOutOthers: others,
	}, s.request(r))
	if stepUpNeeded(w, r, err, "/account/security") {
		return nil
	}
	if err != nil {
		v, verr := s.securityView(r, st)
		if verr != nil {
			return verr
		}
		if !others {
			v.Form["keep_others"] = "1"
		}
		return s.formError(w, r, "security", v, err)
	}
	setSessionCookie(w, newSess, tok)
	return seeOther(w, r, "/account/security?notice=password_changed")
}

// postRevokeSession is POST /account/sessions/{id}/revoke: "sign out" on
// one line of the sessions table.
func (s *Server) postRevokeSession(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	id := r.PathValue("id")
	if err := s.sessions.RevokeSession(r.Context(), st.account.ID, id); err != nil {
		return err
	}
	if id == st.session.ID {
		clearCookie(w, SessionCookie)
		return seeOther(w, r, "/signin?notice=signed_out")
	}
	return seeOther(w, r, "/account/security?notice=session_revoked")
}

// postRevokeAll is POST /account/sessions/revoke-all: "sign out
// everywhere", this browser included.
func (s *Server) postRevokeAll(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	if err := s.sessions.RevokeAll(r.Context(), st.account.ID); err != nil {
		return err
	}
	clearCookie(w, SessionCookie)
	return seeOther(w, r, "/signin?notice=signed_out_everywhere")
}
