package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mamoru-id/mamoru"
)

// The second step of a sign-in (challenge_required) on the pages, and the
// passkey-first sign-in of /signin.
//
// The second step's flow is carried as the code step always was: its ID
// in the forms, its secret in FlowCookie. What the page shows of it (the
// methods, where the last code went) rides along in hidden fields: it is
// only shown, never trusted; the service checks every step against the
// flow itself.

// PasskeyCookie carries a passkey-first sign-in flow, "<flow ID>.<secret>"
// (the page's form has no flow field: the flow begins when the browser
// asks for the options). It is apart from FlowCookie so that the passkey
// autofill, which begins its flow as soon as the sign-in page loads,
// leaves the password form's flow alone.
const PasskeyCookie = "__Host-mamoru_passkey"

// DefaultRememberDays is Config.RememberDays when it is 0.
const DefaultRememberDays = 30

// maxSignInCodeLen is the longest code passed to the service (in
// characters); anything longer is wrong without asking. Codes are
// otherwise passed as typed: the service normalises full-width digits,
// spaces and hyphens.
const maxSignInCodeLen = 64

// signInMethodTexts are the catalog IDs of the buttons that switch the
// second step to a method; the keys are the methods the page knows.
var signInMethodTexts = map[mamoru.Method]string{
	mamoru.MethodTOTP:       "web.signin.use_totp",
	mamoru.MethodWebAuthn:   "web.signin.use_webauthn",
	mamoru.MethodBackupCode: "web.signin.use_backup_code",
	mamoru.MethodSMS:        "web.signin.use_sms",
	mamoru.MethodEmail:      "web.signin.use_email",
}

// signInCodeState is where the second step stands as its page shows it.
type signInCodeState struct {
	flowID, returnTo string
	methods          []mamoru.Method // allowed, in the service's order; never empty
	method           mamoru.Method   // the one shown
	sentTo           string          // where the code of sentMethod went, masked; "" unknown
	sentMethod       mamoru.Method   // the method whose code was sent last; "" none
	remember         bool
}

// signInMethods reads the hidden "methods" field: the known methods in
// it, each once; an emailed code when there are none (the code step of
// flows from before 2-step verification).
func signInMethods(s string) []mamoru.Method {
	var out []mamoru.Method
	for _, m := range strings.Split(s, ",") {
		m := mamoru.Method(strings.TrimSpace(m))
		if _, ok := signInMethodTexts[m]; ok && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		out = []mamoru.Method{mamoru.MethodEmail}
	}
	return out
}

// pick returns m when it is allowed, else the first method.
func (st *signInCodeState) pick(m mamoru.Method) mamoru.Method {
	if slices.Contains(st.methods, m) {
		return m
	}
	return st.methods[0]
}

// signInCodeFromResult is the second step as the password step left it.
func signInCodeFromResult(flowID, returnTo string, res *mamoru.SignInResult) signInCodeState {
	st := signInCodeState{flowID: flowID, returnTo: returnTo}
	for _, m := range res.Methods {
		if _, ok := signInMethodTexts[m]; ok && !slices.Contains(st.methods, m) {
			st.methods = append(st.methods, m)
		}
	}
	if len(st.methods) == 0 {
		// A service without methods emails a code at once.
		st.methods = []mamoru.Method{mamoru.MethodEmail}
		st.sentMethod, st.sentTo = mamoru.MethodEmail, res.SentTo
	} else if res.SentTo != "" {
		// SentTo is where the first method's code went.
		st.sentMethod, st.sentTo = st.methods[0], res.SentTo
	}
	st.method = st.methods[0]
	return st
}

// signInCodeFromForm reads the state the second step's forms carry; the
// method shown is the form's "method" when allowed.
func signInCodeFromForm(r *http.Request) signInCodeState {
	f := r.PostForm
	st := signInCodeState{
		flowID:     f.Get("flow_id"),
		returnTo:   localReturnTo(f.Get("return_to"), ""),
		methods:    signInMethods(f.Get("methods")),
		sentTo:     f.Get("sent_to"),
		sentMethod: mamoru.Method(f.Get("sent_method")),
		remember:   f.Get("remember") == "1",
	}
	if len(st.sentTo) > 256 {
		st.sentTo = ""
	}
	if !slices.Contains(st.methods, st.sentMethod) {
		st.sentMethod, st.sentTo = "", ""
	}
	if f.Get("methods") == "" && f.Get("sent_method") == "" {
		// The code form of before 2-step verification: an emailed code.
		st.sentMethod = mamoru.MethodEmail
	}
	st.method = st.pick(mamoru.Method(f.Get("method")))
	return st
}

// signInMethodChoice is a button that switches the second step.
type signInMethodChoice struct {
	Method mamoru.Method
	Text   string // catalog ID
}

// signInCodePage is the data of the second step's page.
type signInCodePage struct {
	Method       mamoru.Method
	Methods      string // the allowed methods, comma-separated (the forms' hidden field)
	Others       []signInMethodChoice
	SentTo       string
	SentMethod   mamoru.Method
	RememberDays int
}

// Sent reports whether the shown method's code went out (SMS, email).
func (p signInCodePage) Sent() bool { return p.SentMethod != "" && p.SentMethod == p.Method }

// Sends reports whether the shown method is a code sent on request.
func (p signInCodePage) Sends() bool {
	return p.Method == mamoru.MethodSMS || p.Method == mamoru.MethodEmail
}

// CanRemember reports whether the form offers to remember the device:
// after a second factor only (not after an emailed code).
func (p signInCodePage) CanRemember() bool { return p.Method.SecondFactor() }

// signInCodeView is the view of the second step's page.
func (s *Server) signInCodeView(r *http.Request, st signInCodeState) *view {
	v := s.newView(r, "web.signin.code_title")
	v.Path = "/signin"
	v.Notice = ""
	v.Form["flow_id"] = st.flowID
	v.Form["return_to"] = st.returnTo
	if st.remember {
		v.Form["remember"] = "1"
	}
	p := signInCodePage{Method: st.method, SentTo: st.sentTo, SentMethod: st.sentMethod, RememberDays: s.cfg.RememberDays}
	names := make([]string, len(st.methods))
	for i, m := range st.methods {
		names[i] = string(m)
		if m != st.method {
			p.Others = append(p.Others, signInMethodChoice{Method: m, Text: signInMethodTexts[m]})
		}
	}
	p.Methods = strings.Join(names, ",")
	v.Data = p
	return v
}

// signInCodeError shows the second step again with the error's text.
func (s *Server) signInCodeError(w http.ResponseWriter, r *http.Request, st signInCodeState, err error) error {
	if mamoru.ErrorCode(err) == mamoru.EFlowExpired {
		return s.signInExpired(w, r, st.returnTo)
	}
	return s.formError(w, r, "signin_code", s.signInCodeView(r, st), err)
}

// signInExpired shows the sign-in form with a new flow and the
// flow-expired note.
func (s *Server) signInExpired(w http.ResponseWriter, r *http.Request, returnTo string) error {
	v := s.newView(r, "web.signin.title")
	v.Path = "/signin"
	v.Notice = ""
	v.Form["return_to"] = returnTo
	return s.signInPageError(w, r, v, http.StatusOK, s.errorText(v.Lang, mamoru.EFlowExpired))
}

// signInPageError shows the sign-in form with a new flow, the CAPTCHA if
// one is needed, and text as its error.
func (s *Server) signInPageError(w http.ResponseWriter, r *http.Request, v *view, status int, text string) error {
	return s.restartSignIn(w, r, v, status, text, true)
}

// restartSignIn shows the sign-in form with a new flow and text as its
// error; with captcha, also the CAPTCHA if one is needed.
func (s *Server) restartSignIn(w http.ResponseWriter, r *http.Request, v *view, status int, text string, captcha bool) error {
	if err := s.beginSignIn(w, r, v); err != nil {
		return err
	}
	v.Error = text
	if captcha {
		s.showCaptcha(r, v, false)
	}
	s.render(w, r, status, "signin", v)
	return nil
}

// postSignInCode is POST /signin/code: the second step with one of its
// methods (fields method, code or credential, remember).
func (s *Server) postSignInCode(w http.ResponseWriter, r *http.Request) error {
	st := signInCodeFromForm(r)
	method := mamoru.Method(r.PostForm.Get("method"))
	in := mamoru.CodeStep{
		FlowID:     st.flowID,
		FlowSecret: cookieValue(r, FlowCookie),
		Method:     method,
		Code:       strings.TrimSpace(r.PostForm.Get("code")),
		Remember:   st.remember,
	}
	if method == mamoru.MethodWebAuthn || method == "" && st.methods[0] == mamoru.MethodWebAuthn {
		in.Credential = []byte(strings.TrimSpace(r.PostForm.Get("credential")))
		if len(in.Credential) == 0 {
			// The form was sent without the script's assertion (no
			// JavaScript, no WebAuthn): no try is spent on it.
			v := s.signInCodeView(r, st)
			v.Error = v.T("web.signin.webauthn_unsupported")
			s.render(w, r, http.StatusBadRequest, "signin_code", v)
			return nil
		}
	} else if utf8.RuneCountInString(in.Code) > maxSignInCodeLen {
		return s.signInCodeError(w, r, st, mamoru.Errorf(mamoru.EInvalidCode, "code too long"))
	}
	req, keepDevice := s.signInRequest(r)
	res, err := s.signIn.SubmitCode(r.Context(), in, req)
	if err != nil && len(in.Credential) > 0 && mamoru.ErrorCode(err) == mamoru.EInvalidRequest {
		// An assertion the service cannot read (or no ceremony begun).
		v := s.signInCodeView(r, st)
		v.Error = v.T("web.signin.webauthn_error")
		s.render(w, r, http.StatusBadRequest, "signin_code", v)
		return nil
	}
	if err != nil {
		return s.signInCodeError(w, r, st, err)
	}
	if res.Status != mamoru.SignedIn || res.Session == nil || res.SessionToken == "" {
		v := s.newView(r, "web.signin.title")
		v.Path = "/signin"
		v.Form["return_to"] = st.returnTo
		return s.signInPageError(w, r, v, http.StatusUnauthorized, v.T(signInStatusTexts[mamoru.InvalidCredentials]))
	}
	keepDevice(w)
	setSessionCookie(w, res.Session, res.SessionToken)
	clearCookie(w, FlowCookie)
	return seeOther(w, r, localReturnTo(st.returnTo, "/account"))
}

// postSignInCodeMethod is POST /signin/code/method: the second step with
// another of its methods (nothing is sent or checked).
func (s *Server) postSignInCodeMethod(w http.ResponseWriter, r *http.Request) error {
	st := signInCodeFromForm(r)
	if m := mamoru.Method(r.PostForm.Get("method")); !slices.Contains(st.methods, m) {
		return s.signInCodeError(w, r, st, mamoru.Errorf(mamoru.EInvalidRequest, "method %q is not offered", m))
	}
	s.render(w, r, http.StatusOK, "signin_code", s.signInCodeView(r, st))
	return nil
}

// postSignInCodeResend is POST /signin/code/resend: a (new) code of the
// form's method, SMS or email.
func (s *Server) postSignInCodeResend(w http.ResponseWriter, r *http.Request) error {
	st := signInCodeFromForm(r)
	again := st.sentMethod == st.method
	res, err := s.signIn.ResendCode(r.Context(), mamoru.FlowRef{FlowID: st.flowID, FlowSecret: cookieValue(r, FlowCookie)},
		mamoru.Method(r.PostForm.Get("method")), s.request(r))
	if mamoru.ErrorCode(err) == mamoru.ERateLimited {
		v := s.signInCodeView(r, st)
		v.Error = signInResendWait(v, mamoru.RetryAfter(err))
		setRetryAfter(w, err)
		s.render(w, r, http.StatusTooManyRequests, "signin_code", v)
		return nil
	}
	if err != nil {
		return s.signInCodeError(w, r, st, err)
	}
	if len(res.Methods) > 0 {
		next := signInCodeFromResult(st.flowID, st.returnTo, res)
		st.methods = next.methods
		st.method = st.pick(st.method)
	}
	st.sentMethod, st.sentTo = st.method, res.SentTo
	v := s.signInCodeView(r, st)
	if again {
		v.Notice = "web.notice.code_resent"
	}
	s.render(w, r, http.StatusOK, "signin_code", v)
	return nil
}

// signInResendWait is the text of a refused resend: how long to wait, or
// that no more codes will come for this sign-in.
func signInResendWait(v *view, d time.Duration) string {
	if d <= 0 || d > time.Minute {
		return v.T("web.signin.resend_limit")
	}
	return v.T("web.signin.resend_wait", "Seconds", int((d+time.Second-1)/time.Second))
}

// signInPublicKey is the "publicKey" member of the service's WebAuthn
// options ({"publicKey": {...}}).
func signInPublicKey(options []byte) (json.RawMessage, error) {
	var o struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil || len(o.PublicKey) == 0 || o.PublicKey[0] != '{' {
		return nil, mamoru.Errorf(mamoru.EInternal, "WebAuthn options without publicKey")
	}
	return o.PublicKey, nil
}

// signInOptionsJSON is the answer of the WebAuthn options endpoints.
type signInOptionsJSON struct {
	FlowID    string          `json:"flow_id,omitempty"` // passkey-first (API)
	PublicKey json.RawMessage `json:"publicKey"`
}

// postSignInWebAuthnOptions is POST /signin/webauthn/options, which
// webauthn.js calls from the second step's security key form: it begins
// the ceremony and answers JSON, refusals in the JSON error envelope with
// the translated message (the script shows it).
func (s *Server) postSignInWebAuthnOptions(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.signIn.WebAuthnOptions(r.Context(),
		mamoru.FlowRef{FlowID: r.PostForm.Get("flow_id"), FlowSecret: cookieValue(r, FlowCookie)}, s.request(r))
	var pk json.RawMessage
	if err == nil {
		pk, err = signInPublicKey(opts)
	}
	if err != nil {
		s.failJSON(w, r, err)
		return nil
	}
	writeJSON(w, http.StatusOK, signInOptionsJSON{PublicKey: pk})
	return nil
}

// signInPasskeyFlow returns the passkey-first flow of the browser's
// PasskeyCookie ("", "" without one).
func signInPasskeyFlow(r *http.Request) (id, secret string) {
	v := cookieValue(r, PasskeyCookie)
	i := strings.LastIndexByte(v, '.')
	if i <= 0 || i == len(v)-1 || len(v) > 256 {
		return "", ""
	}
	return v[:i], v[i+1:]
}

// beginSignInPasskey begins a passkey-first sign-in, binds it to the
// browser with PasskeyCookie and returns its ID and the options'
// publicKey.
func (s *Server) beginSignInPasskey(w http.ResponseWriter, r *http.Request) (string, json.RawMessage, error) {
	start, err := s.signIn.BeginPasskey(r.Context(), s.request(r))
	if err != nil {
		return "", nil, err
	}
	if start.FlowID == "" || start.FlowSecret == "" {
		return "", nil, mamoru.Errorf(mamoru.EInternal, "passkey flow without ID or secret")
	}
	pk, err := signInPublicKey(start.Options)
	if err != nil {
		return "", nil, err
	}
	setCookie(w, PasskeyCookie, start.FlowID+"."+start.FlowSecret, s.clock.Now().Add(flowCookieTTL))
	return start.FlowID, pk, nil
}

// postSignInPasskeyOptions is POST /signin/passkey/options, which
// webauthn.js calls from the passkey form of /signin (on the button, and
// at once for the autofill): a new passkey-first flow.
func (s *Server) postSignInPasskeyOptions(w http.ResponseWriter, r *http.Request) error {
	_, pk, err := s.beginSignInPasskey(w, r)
	if err != nil {
		s.failPasskeyOptions(w, r, err)
		return nil
	}
	writeJSON(w, http.StatusOK, signInOptionsJSON{PublicKey: pk})
	return nil
}

// failPasskeyOptions answers a refused passkey-first sign-in in the JSON
// error envelope; invalid_request (passkeys are turned off) says so.
func (s *Server) failPasskeyOptions(w http.ResponseWriter, r *http.Request, err error) {
	if mamoru.ErrorCode(err) != mamoru.EInvalidRequest {
		s.failJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusBadRequest, errorBody{Error: errorDetail{Code: mamoru.EInvalidRequest,
		Message: s.cat.T(state(r).lang, "web.signin.passkey_unavailable", nil)}})
}

// postSignInPasskey is POST /signin/passkey: the passkey's assertion
// (field credential) for the flow of PasskeyCookie. It signs in as the
// password form does.
func (s *Server) postSignInPasskey(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "web.signin.title")
	v.Path = "/signin"
	v.Notice = ""
	returnTo := localReturnTo(r.PostForm.Get("return_to"), "")
	v.Form["return_to"] = returnTo
	cred := strings.TrimSpace(r.PostForm.Get("credential"))
	if cred == "" {
		return s.signInPageError(w, r, v, http.StatusBadRequest, v.T("web.signin.passkey_unsupported"))
	}
	id, secret := signInPasskeyFlow(r)
	req, keepDevice := s.signInRequest(r)
	res, err := s.signIn.SubmitPasskey(r.Context(), mamoru.PasskeyStep{FlowID: id, FlowSecret: secret, Credential: []byte(cred)}, req)
	switch mamoru.ErrorCode(err) {
	case "":
	case mamoru.EFlowExpired:
		clearCookie(w, PasskeyCookie)
		return s.signInPageError(w, r, v, http.StatusOK, s.errorText(v.Lang, mamoru.EFlowExpired))
	case mamoru.EInvalidCode:
		clearCookie(w, PasskeyCookie)
		return s.signInPageError(w, r, v, http.StatusUnauthorized, v.T("web.signin.passkey_failed"))
	case mamoru.EInvalidRequest:
		// An assertion the service cannot read.
		return s.signInPageError(w, r, v, http.StatusBadRequest, v.T("web.signin.passkey_failed"))
	default:
		if berr := s.beginSignIn(w, r, v); berr != nil {
			return berr
		}
		return s.formError(w, r, "signin", v, err)
	}
	clearCookie(w, PasskeyCookie)
	switch res.Status {
	case mamoru.SignedIn:
		if res.Session == nil || res.SessionToken == "" {
			return mamoru.Errorf(mamoru.EInternal, "signed_in without session")
		}
		keepDevice(w)
		setSessionCookie(w, res.Session, res.SessionToken)
		clearCookie(w, FlowCookie)
		return seeOther(w, r, localReturnTo(returnTo, "/account"))
	case mamoru.PasswordResetRequired:
		keepDevice(w)
		v.Form["status"] = string(res.Status)
		return s.signInPageError(w, r, v, http.StatusOK, v.T(signInStatusTexts[mamoru.PasswordResetRequired]))
	}
	return s.signInPageError(w, r, v, http.StatusUnauthorized, v.T("web.signin.passkey_failed"))
}
