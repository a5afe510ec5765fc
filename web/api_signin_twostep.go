package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/mamoru-id/mamoru"
)

// The second step of a sign-in and the passkey-first sign-in in the JSON
// API. Flows are carried as POST /api/v1/signin carries them: the flow's
// ID in the bodies, its secret in a cookie the server sets
// (__Host-mamoru_flow for the second step, __Host-mamoru_passkey for a
// passkey-first sign-in); no secret is ever in a body.

// signInMethodNames are methods as the API shows them.
func signInMethodNames(ms []mamoru.Method) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m)
	}
	return out
}

// signInCredential checks the "credential" member of a request: a JSON
// object (the PublicKeyCredential JSON of the assertion), passed on as
// it came; nil when absent or null.
func signInCredential(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, mamoru.Errorf(mamoru.EInvalidJSON, "credential must be a JSON object")
	}
	return raw, nil
}

// apiSignInCode is POST /api/v1/signin/code: the second step of a flow
// that signin answered with challenge_required (or approval_required,
// with the emailed code); the flow's secret is the flow cookie that
// answer set. Without a method it is the flow's first method.
func (s *Server) apiSignInCode(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		FlowID     string          `json:"flow_id"`
		Method     string          `json:"method"`
		Code       string          `json:"code"`
		Credential json.RawMessage `json:"credential"`
		Remember   bool            `json:"remember"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	cred, err := signInCredential(in.Credential)
	if err != nil {
		return err
	}
	step := mamoru.CodeStep{FlowID: in.FlowID, FlowSecret: cookieValue(r, FlowCookie), Method: mamoru.Method(in.Method),
		Code: strings.TrimSpace(in.Code), Credential: cred, Remember: in.Remember}
	switch {
	case step.Method == mamoru.MethodWebAuthn && len(cred) == 0:
		// Refused before the service counts a try.
		return mamoru.Errorf(mamoru.EInvalidRequest, "credential is required with method webauthn")
	case utf8.RuneCountInString(step.Code) > maxSignInCodeLen:
		return mamoru.Errorf(mamoru.EInvalidCode, "code too long")
	}
	req, keepDevice := s.signInRequest(r)
	res, err := s.signIn.SubmitCode(r.Context(), step, req)
	if err != nil {
		return err
	}
	if res.Status != mamoru.SignedIn {
		writeInvalidCredentials(w)
		return nil
	}
	keepDevice(w)
	clearCookie(w, FlowCookie)
	return writeSignedIn(w, res)
}

// signInChallengeJSON is the answer of POST /api/v1/signin/code/resend.
type signInChallengeJSON struct {
	Status  string   `json:"status"`
	FlowID  string   `json:"flow_id"`
	Methods []string `json:"methods"`
	SentTo  string   `json:"sent_to,omitempty"`
}

// apiSignInCodeResend is POST /api/v1/signin/code/resend: a new code of
// an SMS or email method of the second step; 429 rate_limited with
// Retry-After when asked again too soon or too often.
func (s *Server) apiSignInCodeResend(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		FlowID string `json:"flow_id"`
		Method string `json:"method"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	res, err := s.signIn.ResendCode(r.Context(), mamoru.FlowRef{FlowID: in.FlowID, FlowSecret: cookieValue(r, FlowCookie)},
		mamoru.Method(in.Method), s.request(r))
	if err != nil {
		return err
	}
	flowID := res.FlowID
	if flowID == "" {
		flowID = in.FlowID
	}
	writeJSON(w, http.StatusOK, signInChallengeJSON{Status: string(mamoru.ChallengeRequired), FlowID: flowID,
		Methods: signInMethodNames(res.Methods), SentTo: res.SentTo})
	return nil
}

// apiSignInWebAuthnOptions is POST /api/v1/signin/webauthn/options: the
// options for navigator.credentials.get of the second step's security
// key or passkey (each call begins a new ceremony).
func (s *Server) apiSignInWebAuthnOptions(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		FlowID string `json:"flow_id"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	opts, err := s.signIn.WebAuthnOptions(r.Context(), mamoru.FlowRef{FlowID: in.FlowID, FlowSecret: cookieValue(r, FlowCookie)}, s.request(r))
	if err != nil {
		return err
	}
	pk, err := signInPublicKey(opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, signInOptionsJSON{PublicKey: pk})
	return nil
}

// apiSignInPasskeyOptions is POST /api/v1/signin/passkey/options: a
// passkey-first sign-in begins; its secret goes into the passkey cookie.
func (s *Server) apiSignInPasskeyOptions(w http.ResponseWriter, r *http.Request) error {
	if err := s.decodeEmptyJSON(w, r); err != nil {
		return err
	}
	id, pk, err := s.beginSignInPasskey(w, r)
	if err != nil {
		s.failPasskeyOptions(w, r, err)
		return nil
	}
	writeJSON(w, http.StatusOK, signInOptionsJSON{FlowID: id, PublicKey: pk})
	return nil
}

// apiSignInPasskey is POST /api/v1/signin/passkey: the assertion of a
// passkey-first sign-in. It answers as POST /api/v1/signin does.
func (s *Server) apiSignInPasskey(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		FlowID     string          `json:"flow_id"`
		Credential json.RawMessage `json:"credential"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	cred, err := signInCredential(in.Credential)
	if err != nil {
		return err
	}
	if len(cred) == 0 {
		return mamoru.Errorf(mamoru.EInvalidRequest, "credential is required")
	}
	id, secret := signInPasskeyFlow(r)
	if in.FlowID != "" {
		id = in.FlowID // another flow than the cookie's: flow_expired
	}
	req, keepDevice := s.signInRequest(r)
	res, err := s.signIn.SubmitPasskey(r.Context(), mamoru.PasskeyStep{FlowID: id, FlowSecret: secret, Credential: cred}, req)
	if err != nil {
		if c := mamoru.ErrorCode(err); c == mamoru.EFlowExpired || c == mamoru.EInvalidCode {
			clearCookie(w, PasskeyCookie) // the flow is over
		}
		return err
	}
	clearCookie(w, PasskeyCookie)
	switch res.Status {
	case mamoru.SignedIn:
		keepDevice(w)
		return writeSignedIn(w, res)
	case mamoru.PasswordResetRequired:
		keepDevice(w)
		writeJSON(w, http.StatusOK, signInJSON{Status: string(res.Status), FlowID: res.FlowID})
		return nil
	}
	writeInvalidCredentials(w)
	return nil
}
