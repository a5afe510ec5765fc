package web

import (
	"net/http"
	"strings"

	"github.com/mamoru-id/mamoru"
)

// pageSize is how many events a page of the history or the events list
// shows.
const pageSize = 25

// maxBeforeLen bounds the ?before= event ID.
const maxBeforeLen = 64

// serviceMaxPage is the most events the activity service returns in one
// page (it caps larger limits silently).
const serviceMaxPage = 100

// eventPage fetches one page of a newest-first list: at most limit events
// older than before, and the ID to ask for the next page with ("" when
// there is none). It asks for one more than it shows, to know; at the
// service's cap it cannot, and a full page then always has a next one.
func eventPage(fetch func(mamoru.Page) ([]*mamoru.Event, error), before string, limit int) ([]*mamoru.Event, string, error) {
	if len(before) > maxBeforeLen {
		return nil, "", mamoru.Errorf(mamoru.EInvalidRequest, "before too long")
	}
	ask := min(limit+1, serviceMaxPage)
	list, err := fetch(mamoru.Page{Before: before, Limit: ask})
	if err != nil {
		return nil, "", err
	}
	next := ""
	switch {
	case len(list) > limit:
		list = list[:limit]
		next = list[limit-1].ID
	case ask == limit && len(list) == limit:
		next = list[limit-1].ID
	}
	return list, next, nil
}

// eventListData is the data of the history and events pages.
type eventListData struct {
	Rows   []eventRow
	Older  string // the link to the next (older) page, or ""
	Newest string // the link back to the newest page when this is not it, or ""
	From   string // "activity" or "events": where the answer buttons come back to
}

// eventListView builds the history or events page from fetch.
func (s *Server) eventListView(r *http.Request, st *reqState, title, path, from string,
	fetch func(mamoru.Page) ([]*mamoru.Event, error)) (*view, error) {
	before := r.URL.Query().Get("before")
	list, next, err := eventPage(fetch, before, pageSize)
	if err != nil {
		return nil, err
	}
	v := s.newView(r, title)
	tz := displayZone(st.lang, st.account)
	data := eventListData{From: from}
	for _, e := range list {
		data.Rows = append(data.Rows, s.eventRow(st.lang, tz, e))
	}
	if next != "" {
		data.Older = withQuery(path, "before", next)
	}
	if before != "" {
		data.Newest = path
	}
	v.Data = data
	return v, nil
}

// pageActivity is GET /account/activity[?before=]: the login history.
func (s *Server) pageActivity(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	v, err := s.eventListView(r, st, "web.activity.title", "/account/activity", "activity",
		func(p mamoru.Page) ([]*mamoru.Event, error) {
			return s.activity.LoginHistory(r.Context(), st.account.ID, p)
		})
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "activity", v)
	return nil
}

// pageEvents is GET /account/events[?before=]: the security events, each
// with "Was this you?".
func (s *Server) pageEvents(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	v, err := s.eventListView(r, st, "web.events.title", "/account/events", "events",
		func(p mamoru.Page) ([]*mamoru.Event, error) {
			return s.activity.Events(r.Context(), st.account.ID, p)
		})
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "events", v)
	return nil
}

// answerReturn is the page an answer button goes back to.
func answerReturn(r *http.Request) string {
	if r.PostForm.Get("from") == "activity" {
		return "/account/activity"
	}
	return "/account/events"
}

// postConfirmEvent is POST /account/events/{id}/confirm: "yes, that was
// me".
func (s *Server) postConfirmEvent(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	err = s.activity.ConfirmEvent(r.Context(), st.session, r.PathValue("id"), s.request(r))
	switch mamoru.ErrorCode(err) {
	case "":
		return seeOther(w, r, answerReturn(r)+"?notice=event_confirmed")
	case mamoru.EConflict:
		return seeOther(w, r, answerReturn(r)+"?notice=event_already_answered")
	default:
		return err
	}
}

// postDenyEvent is POST /account/events/{id}/deny: "no, that wasn't me".
// Every session of the account ends, this one too; the browser keeps the
// secure-account flow and goes on to it.
func (s *Server) postDenyEvent(w http.ResponseWriter, r *http.Request) error {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return err
	}
	start, err := s.activity.DenyEvent(r.Context(), st.session, r.PathValue("id"), s.request(r))
	if mamoru.ErrorCode(err) == mamoru.EConflict {
		return seeOther(w, r, answerReturn(r)+"?notice=event_already_answered")
	}
	if err != nil {
		return err
	}
	if err := s.startSecureFlow(w, start); err != nil {
		return err
	}
	clearCookie(w, SessionCookie)
	// Signed out, the pages would fall back to the browser's language:
	// keep the account's for the flow.
	setCookie(w, LanguageCookie, string(st.lang), s.clock.Now().Add(languageCookieTTL))
	return seeOther(w, r, "/secure-account")
}

// startSecureFlow gives the browser the secure-account flow: its ID and
// secret in the __Host-mamoru_secure cookie.
func (s *Server) startSecureFlow(w http.ResponseWriter, start *mamoru.SecureAccountStart) error {
	if start == nil || start.FlowID == "" || start.FlowSecret == "" {
		return mamoru.Errorf(mamoru.EInternal, "secure-account flow without ID or secret")
	}
	setCookie(w, SecureCookie, start.FlowID+"."+start.FlowSecret, s.clock.Now().Add(secureCookieTTL))
	return nil
}

// secureFlow returns the flow ID and secret of the browser's
// secure-account flow, and whether its cookie holds one.
func secureFlow(r *http.Request) (id, secret string, ok bool) {
	v := cookieValue(r, SecureCookie)
	i := strings.LastIndexByte(v, '.')
	if i <= 0 || i == len(v)-1 || len(v) > 256 {
		return "", "", false
	}
	return v[:i], v[i+1:], true
}

// flowGone reports whether err says the secure-account flow is unknown,
// expired or not this client's. (ENotFound from Undo is about the event,
// not the flow; State's ENotFound is checked where it is called.)
func flowGone(err error) bool {
	switch mamoru.ErrorCode(err) {
	case mamoru.EFlowExpired, mamoru.EUnauthorized:
		return true
	}
	return false
}
