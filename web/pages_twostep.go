package web

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/pquerna/otp"
)

// The cookies of the account pages' ceremonies. Each lives for one
// ceremony only (ceremonyCookieTTL), SameSite=Strict, and is cleared when
// the ceremony ends. webauthn.js puts only the credential into its form,
// so the sealed state of a WebAuthn ceremony waits here between the
// options request and the form's submission.
const (
	StepUpStateCookie = "__Host-mamoru_step_up"      // the sealed state of a step-up's security-key ceremony
	WebAuthnAddCookie = "__Host-mamoru_webauthn_add" // the sealed state of adding a security key or passkey
	TOTPSetupCookie   = "__Host-mamoru_totp_setup"   // "<account ID>.<base64url otpauth URL>": the app being added, for its QR code
)

const (
	// ceremonyCookieTTL is how long a ceremony's cookie lives, as long as
	// the service keeps a setup open.
	ceremonyCookieTTL = 10 * time.Minute
	// maxCeremonyCookie is the longest value set; browsers drop cookies
	// over 4 KiB.
	maxCeremonyCookie = 3800
	backupCodeSetSize = 10  // codes in a set of NewBackupCodes
	totpQRSize        = 256 // pixels, as package mfa draws it

	stepUpPath          = "/account/step-up"
	twoStepSettingsPath = "/account/two-step"
	twoStepTOTPPath     = "/account/two-step/totp"
)

// setCeremonyCookie sets a short-lived cookie of a ceremony.
func setCeremonyCookie(w http.ResponseWriter, name, value string) error {
	if len(value) > maxCeremonyCookie {
		return mamoru.Errorf(mamoru.EInternal, "web: %s value of %d bytes is too large for a cookie", name, len(value))
	}
	c := newCookie(name, value, time.Time{})
	c.MaxAge = int(ceremonyCookieTTL / time.Second)
	c.SameSite = http.SameSiteStrictMode
	http.SetCookie(w, c)
	return nil
}

// twoStepService returns the 2-step service; not_found on a server
// without one.
func (s *Server) twoStepService() (mamoru.TwoStepService, error) {
	if s.twoStep == nil {
		return nil, mamoru.Errorf(mamoru.ENotFound, "2-step verification is not available")
	}
	return s.twoStep, nil
}

// stepUpNext checks where the step-up page goes back to: a path of this
// site's account pages, without tricks ("..", "//", a backslash, another
// scheme or host); anything else is /account.
func stepUpNext(p string) string {
	const def = "/account"
	if localReturnTo(p, "") == "" {
		return def
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil || u.Fragment != "" {
		return def
	}
	if !strings.HasPrefix(u.Path, "/account/") || path.Clean(u.Path) != u.Path || strings.HasPrefix(u.Path, stepUpPath) {
		return def
	}
	return p
}

// stepUpURL is the step-up page, coming back to next afterwards.
func stepUpURL(next string) string {
	return withQuery(stepUpPath, "next", stepUpNext(next))
}

// stepUpNeeded answers a page request that a service refused with
// step_up_required: a redirect to the step-up page, which comes back to
// next. It reports whether it answered; for any other error it does
// nothing.
func stepUpNeeded(w http.ResponseWriter, r *http.Request, err error, next string) bool {
	if mamoru.ErrorCode(err) != mamoru.EStepUpRequired {
		return false
	}
	http.Redirect(w, r, stepUpURL(next), http.StatusSeeOther)
	return true
}

// pageJSON runs a page route that answers JSON (the options requests of
// webauthn.js): its errors, a missing session included, are the JSON
// envelope with a translated message, which the script shows as it is.
func (s *Server) pageJSON(w http.ResponseWriter, r *http.Request, f func(st *reqState, ts mamoru.TwoStepService) error) error {
	st := state(r)
	err := st.authErr
	if st.account == nil && err == nil {
		err = mamoru.Errorf(mamoru.EUnauthorized, "no session")
	}
	var ts mamoru.TwoStepService
	if err == nil {
		ts, err = s.twoStepService()
	}
	if err == nil {
		err = f(st, ts)
	}
	if err != nil {
		s.failJSON(w, r, err)
	}
	return nil
}

// writeOptions answers the options of a WebAuthn ceremony, which are
// {"publicKey": …} already.
func writeOptions(w http.ResponseWriter, options []byte) {
	setAPIHeaders(w.Header())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(options)
}

// The step-up page.

// stepUpMethodTexts are the switcher's words for each step-up method.
var stepUpMethodTexts = map[mamoru.Method]string{
	mamoru.MethodPassword:   "web.step_up.use.password",
	mamoru.MethodTOTP:       "web.step_up.use.totp",
	mamoru.MethodWebAuthn:   "web.step_up.use.webauthn",
	mamoru.MethodSMS:        "web.step_up.use.sms",
	mamoru.MethodBackupCode: "web.step_up.use.backup_code",
}

// stepUpChoice is another method in the switcher.
type stepUpChoice struct {
	Text string // catalog ID
	URL  string
}

// stepUpData is the data of the step-up page.
type stepUpData struct {
	Next   string
	Method string // the method shown
	Others []stepUpChoice
	Phone  string // masked, for the SMS method
	Sent   bool   // an SMS code was sent
}

// stepUpView builds the step-up page for method (the first of the
// account's methods when it is not one of them).
func (s *Server) stepUpView(r *http.Request, st *reqState, ts mamoru.TwoStepService, method, next string, sent bool) (*view, error) {
	status, err := ts.TwoStep(r.Context(), st.session)
	if err != nil {
		return nil, err
	}
	methods := status.StepUpMethods
	if len(methods) == 0 {
		methods = []mamoru.Method{mamoru.MethodPassword}
	}
	m := methods[0]
	for _, x := range methods {
		if string(x) == method {
			m = x
		}
	}
	v := s.newView(r, "web.step_up.title")
	data := stepUpData{Next: next, Method: string(m), Sent: sent && m == mamoru.MethodSMS}
	data.Phone = maskPhone(st.account.Phone) // "—" for none
	for _, x := range methods {
		if x != m && stepUpMethodTexts[x] != "" {
			data.Others = append(data.Others, stepUpChoice{Text: stepUpMethodTexts[x], URL: withQuery(stepUpPath, "method", string(x), "next", next)})
		}
	}
	v.Path = withQuery(stepUpPath, "method", string(m), "next", next)
	v.Data = data
	return v, nil
}

// pageStepUp is GET /account/step-up?next=…[&method=…]: confirm it is the
// owner again, with one of the account's step-up methods.
func (s *Server) pageStepUp(w http.ResponseWriter, r *http.Request) error {
	st, ts, err := s.twoStepPage(w, r)
	if st == nil {
		return err
	}
	q := r.URL.Query()
	v, err := s.stepUpView(r, st, ts, q.Get("method"), stepUpNext(q.Get("next")), q.Get("sent") == "1")
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "stepup", v)
	return nil
}

// postStepUp is POST /account/step-up: the proof. The service replaces
// this browser's session with a fresh, stepped-up one, whose token
// becomes the cookie; then the browser goes back to next.
func (s *Server) postStepUp(w http.ResponseWriter, r *http.Request) error {
	st, ts, err := s.twoStepPage(w, r)
	if st == nil {
		return err
	}
	next := stepUpNext(r.PostForm.Get("next"))
	method := mamoru.Method(r.PostForm.Get("method"))
	in := mamoru.StepUpInput{Method: method}
	switch method {
	case mamoru.MethodPassword:
		in.Password = r.PostForm.Get("password")
	case mamoru.MethodWebAuthn:
		in.Credential = []byte(r.PostForm.Get("credential"))
		in.State = cookieValue(r, StepUpStateCookie)
	default:
		in.Code = strings.TrimSpace(r.PostForm.Get("code"))
	}
	fresh, tok, err := ts.StepUp(r.Context(), st.session, in, s.request(r))
	if err != nil {
		v, verr := s.stepUpView(r, st, ts, string(method), next, method == mamoru.MethodSMS)
		if verr != nil {
			return verr
		}
		return s.formError(w, r, "stepup", v, err)
	}
	if fresh == nil || tok == "" {
		return mamoru.Errorf(mamoru.EInternal, "step-up without a session")
	}
	if method == mamoru.MethodWebAuthn {
		clearCookie(w, StepUpStateCookie)
	}
	setSessionCookie(w, fresh, tok)
	return seeOther(w, r, next)
}

// postStepUpSMS is POST /account/step-up/sms: text a step-up code to the
// account's phone.
func (s *Server) postStepUpSMS(w http.ResponseWriter, r *http.Request) error {
	st, ts, err := s.twoStepPage(w, r)
	if st == nil {
		return err
	}
	next := stepUpNext(r.PostForm.Get("next"))
	if _, err := ts.SendStepUpCode(r.Context(), st.session, s.request(r)); err != nil {
		v, verr := s.stepUpView(r, st, ts, string(mamoru.MethodSMS), next, false)
		if verr != nil {
			return verr
		}
		return s.formError(w, r, "stepup", v, err)
	}
	return seeOther(w, r, withQuery(stepUpPath, "method", string(mamoru.MethodSMS), "sent", "1", "next", next))
}

// postStepUpWebAuthnOptions is POST /account/step-up/webauthn/options
// (webauthn.js): the options of a step-up with a security key; the state
// goes into a cookie for postStepUp.
func (s *Server) postStepUpWebAuthnOptions(w http.ResponseWriter, r *http.Request) error {
	return s.pageJSON(w, r, func(st *reqState, ts mamoru.TwoStepService) error {
		options, state, err := ts.StepUpWebAuthnOptions(r.Context(), st.session)
		if err != nil {
			return err
		}
		if err := setCeremonyCookie(w, StepUpStateCookie, state); err != nil {
			return err
		}
		writeOptions(w, options)
		return nil
	})
}

// The 2-step settings page.

// twoStepKindTexts name the kinds of methods.
var twoStepKindTexts = map[mamoru.CredentialKind]string{
	mamoru.CredentialTOTP:        "web.two_step_settings.kind.totp",
	mamoru.CredentialWebAuthn:    "web.two_step_settings.kind.security_key",
	mamoru.CredentialBackupCodes: "web.two_step_settings.kind.backup_codes",
	mamoru.CredentialSMS:         "web.two_step_settings.kind.sms",
}

// twoStepRow is one method in the list.
type twoStepRow struct {
	ID          string
	Kind        string // catalog ID of the kind
	Name        string
	CreatedAt   time.Time
	LastUsedAt  time.Time
	BackupCodes bool
	Remaining   int
}

// twoStepData is the data of the 2-step settings page.
type twoStepData struct {
	Methods           []twoStepRow
	RememberedDevices int
	PhoneVerified     bool
	SMSOn             bool
	HasBackupCodes    bool
	BackupTotal       int
	SteppedUp         bool
	StepUpUntil       time.Time
	StepUpURL         string // step up, then back here
	StepUpTOTPURL     string // step up, then add an app
}

// twoStepView builds the 2-step settings page.
func (s *Server) twoStepView(r *http.Request, st *reqState, ts mamoru.TwoStepService) (*view, error) {
	status, err := ts.TwoStep(r.Context(), st.session)
	if err != nil {
		return nil, err
	}
	v := s.newView(r, "web.two_step_settings.title")
	v.Path = twoStepSettingsPath
	data := twoStepData{
		RememberedDevices: status.RememberedDevices,
		PhoneVerified:     status.PhoneVerified,
		BackupTotal:       backupCodeSetSize,
		SteppedUp:         status.StepUpUntil.After(s.clock.Now()),
		StepUpUntil:       status.StepUpUntil,
		StepUpURL:         stepUpURL(twoStepSettingsPath),
		StepUpTOTPURL:     stepUpURL(twoStepTOTPPath),
	}
	for _, m := range status.Methods {
		kind, ok := twoStepKindTexts[m.Kind]
		if !ok {
			continue
		}
		row := twoStepRow{ID: m.ID, Kind: kind, Name: m.Name, CreatedAt: m.CreatedAt, LastUsedAt: m.LastUsedAt}
		switch m.Kind {
		case mamoru.CredentialWebAuthn:
			if m.Passkey {
				row.Kind = "web.two_step_settings.kind.passkey"
			}
		case mamoru.CredentialBackupCodes:
			row.BackupCodes, row.Remaining = true, m.Remaining
			data.HasBackupCodes = true
		case mamoru.CredentialSMS:
			data.SMSOn = true
		}
		data.Methods = append(data.Methods, row)
	}
	v.Data = data
	return v, nil
}

// twoStepPage starts a 2-step settings route: the account and the service.
func (s *Server) twoStepPage(w http.ResponseWriter, r *http.Request) (*reqState, mamoru.TwoStepService, error) {
	st, err := s.requireAccount(w, r)
	if st == nil {
		return nil, nil, err
	}
	ts, err := s.twoStepService()
	if err != nil {
		return nil, nil, err
	}
	return st, ts, nil
}

// twoStepDone ends an action of the settings page: back to the list with
// notice; to the step-up page first when the session needs one; the list
// with the error otherwise.
func (s *Server) twoStepDone(w http.ResponseWriter, r *http.Request, st *reqState, ts mamoru.TwoStepService, err error, notice string) error {
	if err == nil {
		return seeOther(w, r, withQuery(twoStepSettingsPath, "notice", notice))
	}
	if stepUpNeeded(w, r, err, twoStepSettingsPath) {
		return nil
	}
	v, verr := s.twoStepView(r, st, ts)
	if verr != nil {
		return verr
	}
	return s.formError(w, r, "twostep", v, err)
}

// pageTwoStep is GET /account/two-step: the methods, remembered devices
// and what can be added. Without a recent step-up the actions lead to the
// step-up page.
func (s *Server) pageTwoStep(w http.ResponseWriter, r *http.Request) error {
	st, ts, err := s.twoStepPage(w, r)
	if st == nil {
		return err
	}
	v, err := s.twoStepView(r, st, ts)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "twostep", v)
	return nil
}

// pageTwoStepTOTP is GET /account/two-step/totp: a new secret for an
// authenticator app, as a QR code and as text.
func (s *Server) pageTwoStepTOTP(w http.ResponseWriter, r *http.Request) error {
	st, ts, err := s.twoStepPage(w, r)
	if st == nil {
		return err
	}
	setup, err := ts.BeginTOTP(r.Context(), st.session)
	if stepUpNeeded(w, r, err, twoStepTOTPPath) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := setCeremonyCookie(w, TOTPSetupCookie, st.account.ID+"."+base64.RawURLEncoding.EncodeToString([]byte(setup.URL))); err != nil {
		return err
	}
	v := s.totpView(r, setup.State, setup.Secret)
	s.render(w, r, http.StatusOK, "twostep_totp", v)
	return nil
}

// totpView is the page of an app being added.
func (s *Server) totpView(r *http.Request, state, secret string) *view {
	v := s.newView(r, "web.two_step_totp.title")
	v.Path = twoStepTOTPPath
	v.Form["state"] = state
	v.Form["secret"] = secret
	v.Data = groupSecret(secret)
	return v
}

// groupSecret spaces a base32 secret in groups of four, for typing.
func groupSecret(secret string) string {
	var b strings.Builder
	for i, c := range secret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// pageTwoStepTOTPQR is GET /account/two-step/totp/qr: the QR code of the
// app being added (the page's Content-Security-Policy allows no data:
// images), drawn from the otpauth URL of this browser's setup cookie.
func (s *Server) pageTwoStepTOTPQR(w http.ResponseWriter, r *http.Request) error {
	st, _, err := s.twoStepPage(w, r)
	if st == nil {
		return err
	}
	notFound := mamoru.Errorf(mamoru.ENotFound, "no app is being added")
	acct, enc, ok := strings.Cut(cookieValue(r, TOTPSetupCookie), ".")
	if !ok || acct != st.account.ID {
		return notFound
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return notFound
	}
	key, err := otp.NewKeyFromURL(string(raw))
	if err != nil || key.Type() != "totp" {
		return notFound
	}
	img, err := key.Image(totpQRSize, totpQRSize)
	if err != nil {
		return mamoru.WrapError(mamoru.EInternal, err, "QR code")
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return mamoru.WrapError(mamoru.EInternal, err, "QR code")
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
	return nil
}

// postTwoStepTOTP is POST /account/two-step/totp: the first code of the
// new app, with the sealed state of the page.
func (s *Server) postTwoStepTOTP(w http.ResponseWriter, r *http.Request) error {
	st, ts, err := s.twoStepPage(w, r)
	if st == nil {
		return err
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	err = ts.ConfirmTOTP(r.Context(), st.session, r.PostForm.Get("state"), r.PostForm.Get("code"), name, s.request(r))
	if err == nil {
		clearCookie(w, TOTPSetupCookie)
		return seeOther(w, r, withQuery(twoStepSettingsPath, "notice", "two_step_app_added"))
	}
	if stepUpNeeded(w, r, err, twoStepSettingsPath) {
		return nil
	}
	v := s.totpView(r, r.PostForm.Get("state"), r.PostForm.Get("secret"))
	v.Form["name"] = name
	return s.formError(w, r, "twostep_totp", v, err)
}

// postTwoStepWebAuthnOptions is POST /account/two-step/webauthn/options
// (webauthn.js): the options of adding a security key (passkey=0) or a
// passkey (passkey=1); the state goes into a cookie.
func (s *Server) postTwoStepWebAuthnOptions(w http.ResponseWriter, r *http.Request) error {
	return s.pageJSON(w, r, func(st *reqState, ts mamoru.TwoStepService) error {
		options, state, err := ts.BeginWebAuthnRegistration(r.Context(), st.session, r.PostForm.Get("passkey") == "1")
		if err != nil {
			return err
		}
		if err := setCeremonyCookie(w, WebAuthnAddCookie, state); err != nil {
			return err
		}
		writeOptions(w, options)
		return nil
	})
}

// postTwoStepWebAuthn is POST /account/two-step/webauthn: the new
// credential from webauthn.js, and its name.
func (s *Server) postTwoStepWebAuthn(w http.ResponseWriter, r *http.Request) error {
	st, ts, err := s.twoStepPage(w, r)
	if st == nil {
		return err
	}
	err = ts.FinishWebAuthnRegistration(r.Context(), st.session, cookieValue(r, WebAuthnAddCookie),
		[]byte(r.PostForm.Get("credential")), strings.TrimSpace(r.PostForm.Get("name")), s.request(r))
	notice := "two_step_key_added"
	if r.PostForm.Get("passkey") == "1" {
		notice = "two_step_passkey_added"
	}
	if err == nil {
		clearCookie(w, WebAuthnAddCookie)
	}
	return s.twoStepDone(w, r, st, ts, err, notice)
}

// postTwoStepBackup is POST /account/two-step/backup: a new set of
// backup codes, shown this once (the page is never cached).
func (s *Server) postTwoStepBackup(w http.ResponseWriter, r *http.Request) error {
	st, ts, err := s.twoStepPage(w, r)
	if st == nil {
		return err
	}
	codes, err := ts.NewBackupCodes(r.Context(), st.session, s.request(r))
	if err != nil {
		return s.twoStepDone(w, r, st, ts, err, "")
	}
	v := s.newView(r, "web.two_step_backup.title")
	v.Path = twoStepSettingsPath
	v.Data = codes
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "twostep_backup", v)
	return nil
}

// postTwoStepSMS is POST /account/two-step/sms: codes by text message to
// the account's verified phone.
func (s *Server) postTwoStepSMS(w http.ResponseWriter, r *http.Request) error {
	st, ts, err := s.twoStepPage(w, r)
	if st == nil {
		return err
	}
	return s.twoStepDone(w, r, st, ts, ts.EnableSMS(r.Context(), st.session, s.request(r)), "two_step_sms_added")
}

// postTwoStepRemove is POST /account/two-step/{id}/remove.
func (s *Server) postTwoStepRemove(w http.ResponseWriter, r *http.Request) error {
	st, ts, err := s.twoStepPage(w, r)
	if st == nil {
		return err
	}
	return s.twoStepDone(w, r, st, ts, ts.RemoveMethod(r.Context(), st.session, r.PathValue("id"), s.request(r)), "two_step_removed")
}

// postTwoStepForgetDevices is POST /account/two-step/devices/forget:
// every remembered device asks for the second step again.
func (s *Server) postTwoStepForgetDevices(w http.ResponseWriter, r *http.Request) error {
	st, ts, err := s.twoStepPage(w, r)
	if st == nil {
		return err
	}
	return s.twoStepDone(w, r, st, ts, ts.ForgetDevices(r.Context(), st.session, s.request(r)), "two_step_devices_forgotten")
}
