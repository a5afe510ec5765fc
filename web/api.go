package web

import (
	"net/http"
	"sort"
	"time"

	"github.com/mamoru-id/mamoru"
)

// accountJSON is an account as the API shows it.
type accountJSON struct {
	ID            string  `json:"id"`
	Email         string  `json:"email"`
	EmailVerified bool    `json:"email_verified"`
	Language      string  `json:"language"`
	TimeZone      string  `json:"time_zone"` // IANA name; "UTC" when none is set
	Phone         *string `json:"phone"`     // masked ("***5678"); null when none
}

func toAccountJSON(a *mamoru.Account) accountJSON {
	j := accountJSON{ID: a.ID, Email: a.Email, EmailVerified: a.EmailVerified(), Language: string(a.Language),
		TimeZone: timeZoneName(a.TimeZone)}
	if a.Phone != "" {
		p := maskPhone(a.Phone)
		j.Phone = &p
	}
	return j
}

// apiTime formats a time for the API: RFC 3339 in UTC.
func apiTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// statusJSON is the body of answers that only say what happened.
type statusJSON struct {
	Status string `json:"status"`
}

// invalidCredentialsBody is the one answer to every failed password step:
// the same bytes for an unknown email, a wrong password and an unusable
// account, with nothing random in it.
var invalidCredentialsBody = []byte(`{"status":"invalid_credentials"}`)

// apiSignUp is POST /api/v1/signup.
func (s *Server) apiSignUp(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Language string `json:"language"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	lang := state(r).lang
	if in.Language != "" {
		l, ok := mamoru.ParseLanguage(in.Language)
		if !ok {
			return mamoru.Errorf(mamoru.EInvalidLanguage, "unsupported language %q", in.Language)
		}
		lang = l
	}
	err := s.accounts.SignUp(r.Context(), mamoru.SignUpInput{Email: in.Email, Password: in.Password, Language: lang}, s.request(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, statusJSON{"verification_sent"})
	return nil
}

// apiVerify is POST /api/v1/verify.
func (s *Server) apiVerify(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
		Code  string `json:"code"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.accounts.VerifyEmail(r.Context(), in.Email, in.Code); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusJSON{"verified"})
	return nil
}

// apiVerifyResend is POST /api/v1/verify/resend.
func (s *Server) apiVerifyResend(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.accounts.ResendVerification(r.Context(), in.Email, s.request(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, statusJSON{"verification_sent"})
	return nil
}

// signInJSON is the answer of POST /api/v1/signin other than
// invalid_credentials.
type signInJSON struct {
	Status  string             `json:"status"`
	FlowID  string             `json:"flow_id,omitempty"`
	SentTo  string             `json:"sent_to,omitempty"`
	Methods []string           `json:"methods,omitempty"` // challenge_required
	Token   string             `json:"token,omitempty"`
	Session *signInSessionJSON `json:"session,omitempty"`
	Account *accountJSON       `json:"account,omitempty"`
}

type signInSessionJSON struct {
	ID        string `json:"id"`
	ExpiresAt string `json:"expires_at"`
}

// apiSignIn is POST /api/v1/signin: a whole password sign-in in one call.
func (s *Server) apiSignIn(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Captcha  string `json:"captcha"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	req, keepDevice := s.signInRequest(r)
	res, err := s.signIn.SubmitPassword(r.Context(), mamoru.PasswordStep{Email: in.Email, Password: in.Password, Captcha: in.Captcha}, req)
	if err != nil {
		return err
	}
	switch res.Status {
	case mamoru.InvalidCredentials:
		writeInvalidCredentials(w)
	case mamoru.SignedIn:
		keepDevice(w)
		return writeSignedIn(w, res)
	case mamoru.Locked, mamoru.Restricted:
		// One constant body each: no flow (nothing can follow) and nothing
		// that differs between a known and an unknown address.
		writeJSON(w, http.StatusUnauthorized, signInJSON{Status: string(res.Status)})
	case mamoru.ChallengeRequired, mamoru.ApprovalRequired, mamoru.PasswordResetRequired:
		keepDevice(w)
		if res.FlowSecret != "" {
			setCookie(w, FlowCookie, res.FlowSecret, s.clock.Now().Add(flowCookieTTL))
		}
		out := signInJSON{Status: string(res.Status), FlowID: res.FlowID, SentTo: res.SentTo}
		if res.Status == mamoru.ChallengeRequired {
			out.Methods = signInMethodNames(res.Methods)
		}
		writeJSON(w, http.StatusOK, out)
	default:
		return mamoru.Errorf(mamoru.EInternal, "unknown sign-in status %q", res.Status)
	}
	return nil
}

// apiSignInCode and the other calls of the second step and of passkeys
// are in api_signin_twostep.go.

// writeSignedIn answers a signed-in result: the session cookie and the
// token, session and account.
func writeSignedIn(w http.ResponseWriter, res *mamoru.SignInResult) error {
	if res.Session == nil || res.Account == nil || res.SessionToken == "" {
		return mamoru.Errorf(mamoru.EInternal, "signed_in without session")
	}
	setSessionCookie(w, res.Session, res.SessionToken)
	acct := toAccountJSON(res.Account)
	writeJSON(w, http.StatusOK, signInJSON{
		Status:  string(res.Status),
		Token:   res.SessionToken,
		Session: &signInSessionJSON{ID: res.Session.ID, ExpiresAt: apiTime(res.Session.ExpiresAt)},
		Account: &acct,
	})
	return nil
}

// writeInvalidCredentials answers the one body of every failed sign-in,
// byte for byte.
func writeInvalidCredentials(w http.ResponseWriter) {
	setAPIHeaders(w.Header())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	w.Write(invalidCredentialsBody)
}

// apiSignOut is POST /api/v1/signout: it ends the caller's session.
func (s *Server) apiSignOut(w http.ResponseWriter, r *http.Request) error {
	sess, _, err := s.authAPI(w, r)
	if err != nil {
		return err
	}
	if err := s.decodeEmptyJSON(w, r); err != nil {
		return err
	}
	if err := s.sessions.SignOut(r.Context(), sess); err != nil {
		return err
	}
	clearCookie(w, SessionCookie)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sessionJSON is one entry of the session list.
type sessionJSON struct {
	ID         string `json:"id"`
	Current    bool   `json:"current"`
	Device     string `json:"device"`
	IP         string `json:"ip"`
	CreatedAt  string `json:"created_at"`
	LastSeenAt string `json:"last_seen_at"`
	ExpiresAt  string `json:"expires_at"`
}

// apiSessions is GET /api/v1/sessions.
func (s *Server) apiSessions(w http.ResponseWriter, r *http.Request) error {
	cur, acct, err := s.authAPI(w, r)
	if err != nil {
		return err
	}
	list, err := s.sessions.ListSessions(r.Context(), acct.ID)
	if err != nil {
		return err
	}
	lang := state(r).lang
	out := struct {
		Sessions []sessionJSON `json:"sessions"`
	}{Sessions: make([]sessionJSON, 0, len(list))}
	for _, se := range list {
		out.Sessions = append(out.Sessions, sessionJSON{
			ID:         se.ID,
			Current:    se.ID == cur.ID,
			Device:     s.device(lang, se.UserAgent),
			IP:         se.IP,
			CreatedAt:  apiTime(se.CreatedAt),
			LastSeenAt: apiTime(se.LastSeenAt),
			ExpiresAt:  apiTime(se.ExpiresAt),
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// apiRevokeAll is DELETE /api/v1/sessions: every session ends, the
// caller's included.
func (s *Server) apiRevokeAll(w http.ResponseWriter, r *http.Request) error {
	_, acct, err := s.authAPI(w, r)
	if err != nil {
		return err
	}
	if err := s.sessions.RevokeAll(r.Context(), acct.ID); err != nil {
		return err
	}
	clearCookie(w, SessionCookie)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiRevokeSession is DELETE /api/v1/sessions/{id}.
func (s *Server) apiRevokeSession(w http.ResponseWriter, r *http.Request) error {
	cur, acct, err := s.authAPI(w, r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := s.sessions.RevokeSession(r.Context(), acct.ID, id); err != nil {
		return err
	}
	if id == cur.ID {
		clearCookie(w, SessionCookie)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiPasswordChange is POST /api/v1/password/change. The service replaces
// the caller's session; the new token goes back in the body and the cookie.
func (s *Server) apiPasswordChange(w http.ResponseWriter, r *http.Request) error {
	sess, _, err := s.authAPI(w, r)
	if err != nil {
		return err
	}
	var in struct {
		Current       string `json:"current_password"`
		New           string `json:"new_password"`
		SignOutOthers *bool  `json:"sign_out_others"` // default true
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	others := in.SignOutOthers == nil || *in.SignOutOthers
	newSess, tok, err := s.accounts.ChangePassword(r.Context(), sess,
		mamoru.ChangePasswordInput{Current: in.Current, New: in.New, SignOutOthers: others}, s.request(r))
	if err != nil {
		return err
	}
	setSessionCookie(w, newSess, tok)
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
		Token  string `json:"token"`
	}{"password_changed", tok})
	return nil
}

// apiPasswordForgot is POST /api/v1/password/forgot.
func (s *Server) apiPasswordForgot(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.accounts.ForgotPassword(r.Context(), in.Email, s.request(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, statusJSON{"reset_sent"})
	return nil
}

// apiPasswordReset is POST /api/v1/password/reset, by emailed code (with
// email) or by link token. It does not sign in.
func (s *Server) apiPasswordReset(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email    string `json:"email"`
		Code     string `json:"code"`
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.accounts.ResetPassword(r.Context(), mamoru.ResetInput{Email: in.Email, Code: in.Code, Token: in.Token, Password: in.Password}, s.request(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusJSON{"password_reset"})
	return nil
}

// apiMe is GET /api/v1/me: the signed-in account.
func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) error {
	_, acct, err := s.authAPI(w, r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAccountJSON(acct))
	return nil
}

// apiOpenAPI is GET /api/v1/openapi.json.
func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.openapi)
	return nil
}

// messageJSON is one message of the dev outbox.
type messageJSON struct {
	ID        string `json:"id"`
	To        string `json:"to"`
	Subject   string `json:"subject"`
	Text      string `json:"text"`
	HTML      string `json:"html"`
	CreatedAt string `json:"created_at"`
}

// apiDevOutbox is GET /api/v1/dev/outbox[?to=…] (dev mode only).
func (s *Server) apiDevOutbox(w http.ResponseWriter, r *http.Request) error {
	msgs, err := s.outboxMessages(r)
	if err != nil {
		return err
	}
	out := struct {
		Messages []messageJSON `json:"messages"`
	}{Messages: make([]messageJSON, 0, len(msgs))}
	for _, m := range msgs {
		out.Messages = append(out.Messages, messageJSON{
			ID: m.ID, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, CreatedAt: apiTime(m.CreatedAt),
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// outboxMessages lists the outbox newest first, filtered by ?to=.
func (s *Server) outboxMessages(r *http.Request) ([]*mamoru.Message, error) {
	msgs, err := s.outbox.ListMessages(r.Context(), mamoru.MessageFilter{To: r.URL.Query().Get("to")})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].CreatedAt.After(msgs[j].CreatedAt) })
	return msgs, nil
}
