package web

import (
	"context"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/display"
	"github.com/mamoru-id/mamoru/emailaddr"
	"github.com/mamoru-id/mamoru/risk"
)

// API page sizes of the event lists.
const (
	apiDefaultLimit = 50
	apiMaxLimit     = 100
)

// eventJSON is a security event as the API shows it to its owner.
type eventJSON struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Time       string            `json:"time"`
	IP         string            `json:"ip"`
	Place      mamoru.Place      `json:"place"`
	Device     mamoru.Device     `json:"device"`
	PlaceText  string            `json:"place_text"`
	DeviceText string            `json:"device_text"`
	Text       string            `json:"text"`
	Outcome    *string           `json:"outcome"`
	Details    map[string]string `json:"details"`
	Answerable bool              `json:"answerable"`
	Feedback   *string           `json:"feedback"`
	FeedbackAt *string           `json:"feedback_at"`
	Risk       *riskJSON         `json:"risk,omitempty"`
}

// riskJSON is the risk assessment of a sign-in attempt.
type riskJSON struct {
	Score    float64          `json:"score"`
	Decision string           `json:"decision"`
	Audit    bool             `json:"audit"`
	Reasons  []riskReasonJSON `json:"reasons"`
}

type riskReasonJSON struct {
	Code   string            `json:"code"`
	Params map[string]string `json:"params,omitempty"`
	Text   string            `json:"text"`
}

// maskedDetails returns a copy of an event's details with email addresses
// and phone numbers masked, as the pages show them.
func maskedDetails(d map[string]string) map[string]string {
	out := make(map[string]string, len(d))
	maps.Copy(out, d)
	for _, k := range []string{mamoru.DetailOldEmail, mamoru.DetailNewEmail} {
		if v := out[k]; v != "" {
			out[k] = emailaddr.Mask(v)
		}
	}
	for _, k := range []string{mamoru.DetailOldPhone, mamoru.DetailNewPhone} {
		if v := out[k]; v != "" {
			out[k] = maskPhone(v)
		}
	}
	return out
}

// toEventJSON words e in lang for the API.
func (s *Server) toEventJSON(lang mamoru.Language, e *mamoru.Event) eventJSON {
	j := eventJSON{
		ID:         e.ID,
		Type:       string(e.Type),
		Time:       apiTime(e.Time),
		IP:         e.IP,
		Place:      e.Place,
		Device:     e.Device,
		PlaceText:  display.PlaceApprox(s.cat, lang, e.Place),
		DeviceText: display.Device(s.cat, lang, e.Device),
		Text:       s.eventText(lang, e),
		Details:    maskedDetails(e.Details),
		Answerable: answerable(e),
	}
	if e.Outcome != "" {
		o := e.Outcome
		j.Outcome = &o
	}
	if e.Risk != nil {
		j.Risk = &riskJSON{Score: e.Risk.Score, Decision: e.Risk.Decision, Audit: e.Risk.Audit, Reasons: []riskReasonJSON{}}
		for _, r := range e.Risk.Reasons {
			j.Risk.Reasons = append(j.Risk.Reasons, riskReasonJSON{Code: r.Code, Params: r.Params,
				Text: risk.Explain(s.cat, lang, risk.Reason{Code: r.Code, Params: r.Params})})
		}
	}
	if e.Feedback != mamoru.FeedbackNone {
		fb := string(e.Feedback)
		j.Feedback = &fb
		if !e.FeedbackAt.IsZero() {
			at := apiTime(e.FeedbackAt)
			j.FeedbackAt = &at
		}
	}
	return j
}

// eventListJSON is a page of events.
type eventListJSON struct {
	Events     []eventJSON `json:"events"`
	NextBefore *string     `json:"next_before"`
}

// apiEventList answers a page of events from fetch, paged by ?before= and
// ?limit=.
func (s *Server) apiEventList(w http.ResponseWriter, r *http.Request, fetch func(mamoru.Page) ([]*mamoru.Event, error)) error {
	q := r.URL.Query()
	limit := apiDefaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return mamoru.Errorf(mamoru.EInvalidRequest, "limit must be a positive integer")
		}
		limit = min(n, apiMaxLimit)
	}
	list, next, err := eventPage(fetch, q.Get("before"), limit)
	if err != nil {
		return err
	}
	lang := state(r).lang
	out := eventListJSON{Events: make([]eventJSON, 0, len(list))}
	for _, e := range list {
		out.Events = append(out.Events, s.toEventJSON(lang, e))
	}
	if next != "" {
		out.NextBefore = &next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// apiLogins is GET /api/v1/account/logins: the login history.
func (s *Server) apiLogins(w http.ResponseWriter, r *http.Request) error {
	_, acct, err := s.authAPI(w, r)
	if err != nil {
		return err
	}
	return s.apiEventList(w, r, func(p mamoru.Page) ([]*mamoru.Event, error) {
		return s.activity.LoginHistory(r.Context(), acct.ID, p)
	})
}

// apiEvents is GET /api/v1/account/events: the security events.
func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) error {
	_, acct, err := s.authAPI(w, r)
	if err != nil {
		return err
	}
	return s.apiEventList(w, r, func(p mamoru.Page) ([]*mamoru.Event, error) {
		return s.activity.Events(r.Context(), acct.ID, p)
	})
}

// apiConfirmEvent is POST /api/v1/account/events/{id}/confirm.
func (s *Server) apiConfirmEvent(w http.ResponseWriter, r *http.Request) error {
	sess, _, err := s.authAPI(w, r)
	if err != nil {
		return err
	}
	if err := s.decodeEmptyJSON(w, r); err != nil {
		return err
	}
	if err := s.activity.ConfirmEvent(r.Context(), sess, r.PathValue("id"), s.request(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// secureStartJSON is the answer that starts a secure-account flow.
type secureStartJSON struct {
	Status string `json:"status"`
	FlowID string `json:"flow_id"`
}

// answerSecureStart sets the flow cookie and answers secure_account.
func (s *Server) answerSecureStart(w http.ResponseWriter, start *mamoru.SecureAccountStart) error {
	if err := s.startSecureFlow(w, start); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, secureStartJSON{Status: "secure_account", FlowID: start.FlowID})
	return nil
}

// apiDenyEvent is POST /api/v1/account/events/{id}/deny: every session
// ends (the caller's too) and the secure-account flow starts, bound to
// the __Host-mamoru_secure cookie.
func (s *Server) apiDenyEvent(w http.ResponseWriter, r *http.Request) error {
	sess, _, err := s.authAPI(w, r)
	if err != nil {
		return err
	}
	if err := s.decodeEmptyJSON(w, r); err != nil {
		return err
	}
	start, err := s.activity.DenyEvent(r.Context(), sess, r.PathValue("id"), s.request(r))
	if err != nil {
		return err
	}
	clearCookie(w, SessionCookie) // ended, like every session of the account
	return s.answerSecureStart(w, start)
}

// secureStateJSON is a secure-account flow as the API shows it.
type secureStateJSON struct {
	Step        string      `json:"step"`
	MaskedEmail string      `json:"masked_email"`
	Changes     []eventJSON `json:"changes"`
	Undone      []string    `json:"undone"`
}

func (s *Server) writeSecureState(w http.ResponseWriter, r *http.Request, st *mamoru.SecureAccountState) {
	lang := state(r).lang
	out := secureStateJSON{Step: st.Step, MaskedEmail: st.MaskedEmail,
		Changes: make([]eventJSON, 0, len(st.Changes)), Undone: append([]string{}, st.Undone...)}
	for _, e := range st.Changes {
		j := s.toEventJSON(lang, e)
		j.Answerable = false
		out.Changes = append(out.Changes, j)
	}
	writeJSON(w, http.StatusOK, out)
}

// apiSecureFlow returns the caller's secure-account flow from the cookie;
// flow_expired when there is none.
func apiSecureFlow(r *http.Request) (id, secret string, err error) {
	id, secret, ok := secureFlow(r)
	if !ok {
		return "", "", mamoru.Errorf(mamoru.EFlowExpired, "no secure-account flow cookie")
	}
	return id, secret, nil
}

// secureAPIError turns a gone flow into flow_expired (dropping the cookie).
func secureAPIError(w http.ResponseWriter, err error, stateCall bool) error {
	if flowGone(err) || stateCall && mamoru.ErrorCode(err) == mamoru.ENotFound {
		clearCookie(w, SecureCookie)
		return mamoru.WrapError(mamoru.EFlowExpired, err, "secure-account flow gone")
	}
	return err
}

// apiSecureState is GET /api/v1/secure-account.
func (s *Server) apiSecureState(w http.ResponseWriter, r *http.Request) error {
	id, secret, err := apiSecureFlow(r)
	if err != nil {
		return err
	}
	st, err := s.secure.State(r.Context(), id, secret)
	if err != nil {
		return secureAPIError(w, err, true)
	}
	s.writeSecureState(w, r, st)
	return nil
}

// apiSecureResend is POST /api/v1/secure-account/resend.
func (s *Server) apiSecureResend(w http.ResponseWriter, r *http.Request) error {
	id, secret, err := apiSecureFlow(r)
	if err != nil {
		return err
	}
	if err := s.decodeEmptyJSON(w, r); err != nil {
		return err
	}
	if err := s.secure.ResendCode(r.Context(), id, secret, s.request(r)); err != nil {
		return secureAPIError(w, err, false)
	}
	writeJSON(w, http.StatusAccepted, statusJSON{"code_sent"})
	return nil
}

// apiSecureReset is POST /api/v1/secure-account/reset {code, password}.
func (s *Server) apiSecureReset(w http.ResponseWriter, r *http.Request) error {
	id, secret, err := apiSecureFlow(r)
	if err != nil {
		return err
	}
	var in struct {
		Code     string `json:"code"`
		Password string `json:"password"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	st, err := s.secure.ResetPassword(r.Context(), id, secret, strings.TrimSpace(in.Code), in.Password, s.request(r))
	if err != nil {
		return secureAPIError(w, err, false)
	}
	s.writeSecureState(w, r, st)
	return nil
}

// apiSecureUndo is POST /api/v1/secure-account/undo {event_id}.
func (s *Server) apiSecureUndo(w http.ResponseWriter, r *http.Request) error {
	id, secret, err := apiSecureFlow(r)
	if err != nil {
		return err
	}
	var in struct {
		EventID string `json:"event_id"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	st, err := s.secure.Undo(r.Context(), id, secret, in.EventID, s.request(r))
	if err != nil {
		return secureAPIError(w, err, false)
	}
	s.writeSecureState(w, r, st)
	return nil
}

// apiAnswer is POST /api/v1/events/answer {token, answer}: the one-click
// link of a notification, used.
func (s *Server) apiAnswer(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token  string `json:"token"`
		Answer string `json:"answer"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	yes, ok := parseAnswer(in.Answer)
	if !ok {
		return mamoru.Errorf(mamoru.EInvalidRequest, "answer must be yes or no")
	}
	if in.Token == "" {
		return mamoru.Errorf(mamoru.EInvalidCode, "no token")
	}
	start, err := s.activity.AnswerLink(r.Context(), in.Token, yes, s.request(r))
	if err != nil {
		return err
	}
	if yes {
		writeJSON(w, http.StatusOK, statusJSON{"confirmed"})
		return nil
	}
	return s.answerSecureStart(w, start)
}

// apiRevertEmail is POST /api/v1/email/revert {token}.
func (s *Server) apiRevertEmail(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token string `json:"token"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Token == "" {
		return mamoru.Errorf(mamoru.EInvalidCode, "no token")
	}
	start, err := s.activity.RevertEmail(r.Context(), in.Token, s.request(r))
	if err != nil {
		return err
	}
	return s.answerSecureStart(w, start)
}

// apiUpdateAccount is PATCH /api/v1/account {language?, time_zone?}.
func (s *Server) apiUpdateAccount(w http.ResponseWriter, r *http.Request) error {
	sess, _, err := s.authAPI(w, r)
	if err != nil {
		return err
	}
	var in struct {
		Language *string `json:"language"`
		TimeZone *string `json:"time_zone"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	var set mamoru.SettingsInput
	if in.Language != nil {
		l, ok := mamoru.ParseLanguage(*in.Language)
		if !ok {
			return mamoru.Errorf(mamoru.EInvalidLanguage, "unsupported language")
		}
		set.Language = &l
	}
	if in.TimeZone != nil {
		tz, err := parseTimeZone(*in.TimeZone)
		if err != nil {
			return err
		}
		set.TimeZone = &tz
	}
	acct, err := s.profile.UpdateSettings(r.Context(), sess, set, s.request(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAccountJSON(acct))
	return nil
}

// apiStartEmailChange is POST /api/v1/account/email {email, password}.
func (s *Server) apiStartEmailChange(w http.ResponseWriter, r *http.Request) error {
	sess, _, err := s.authAPI(w, r)
	if err != nil {
		return err
	}
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.profile.StartEmailChange(r.Context(), sess, strings.TrimSpace(in.Email), in.Password, s.request(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, statusJSON{"code_sent"})
	return nil
}

// codeInput is the body of the confirm endpoints.
type codeInput struct {
	Code string `json:"code"`
}

// apiConfirmEmailChange is POST /api/v1/account/email/confirm {code}.
func (s *Server) apiConfirmEmailChange(w http.ResponseWriter, r *http.Request) error {
	return s.apiConfirmChange(w, r, s.profile.ConfirmEmailChange)
}

// apiConfirmChange checks the {code} of an email or phone change with
// confirm and answers the account.
func (s *Server) apiConfirmChange(w http.ResponseWriter, r *http.Request,
	confirm func(ctx context.Context, sess *mamoru.Session, code string, req mamoru.Request) (*mamoru.Account, error)) error {
	sess, _, err := s.authAPI(w, r)
	if err != nil {
		return err
	}
	var in codeInput
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	acct, err := confirm(r.Context(), sess, strings.TrimSpace(in.Code), s.request(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAccountJSON(acct))
	return nil
}

// apiStartPhoneChange is POST /api/v1/account/phone {phone, password}.
func (s *Server) apiStartPhoneChange(w http.ResponseWriter, r *http.Request) error {
	sess, _, err := s.authAPI(w, r)
	if err != nil {
		return err
	}
	var in struct {
		Phone    string `json:"phone"`
		Password string `json:"password"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.profile.StartPhoneChange(r.Context(), sess, strings.TrimSpace(in.Phone), in.Password, s.request(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, statusJSON{"code_sent"})
	return nil
}

// apiConfirmPhoneChange is POST /api/v1/account/phone/confirm {code}.
func (s *Server) apiConfirmPhoneChange(w http.ResponseWriter, r *http.Request) error {
	return s.apiConfirmChange(w, r, s.profile.ConfirmPhoneChange)
}

// apiRemovePhone is POST /api/v1/account/phone/remove {password}. (A POST
// rather than a DELETE with a body, which some clients and proxies drop.)
func (s *Server) apiRemovePhone(w http.ResponseWriter, r *http.Request) error {
	sess, _, err := s.authAPI(w, r)
	if err != nil {
		return err
	}
	var in struct {
		Password string `json:"password"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	acct, err := s.profile.RemovePhone(r.Context(), sess, in.Password, s.request(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAccountJSON(acct))
	return nil
}

// jwksPath is where the signing keys are published.
const jwksPath = "/.well-known/jwks.json"

// wellKnownJWKS is GET /.well-known/jwks.json: Deps.JWKS, or 404 without it.
func (s *Server) wellKnownJWKS(w http.ResponseWriter, r *http.Request) error {
	if s.jwks == nil {
		return mamoru.Errorf(mamoru.ENotFound, "no JWKS")
	}
	s.jwks.ServeHTTP(w, r)
	return nil
}
