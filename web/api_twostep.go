package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/mamoru-id/mamoru"
)

// twoStepMethodJSON is one 2-step method as the API shows it.
type twoStepMethodJSON struct {
	ID         string  `json:"id"`
	Kind       string  `json:"kind"` // totp, webauthn, backup_codes, sms
	Name       string  `json:"name"`
	Passkey    bool    `json:"passkey"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"` // null: never used
	Remaining  *int    `json:"remaining"`    // backup codes left; null for the other kinds
}

// twoStepJSON is the owner's view of 2-step verification.
type twoStepJSON struct {
	Methods           []twoStepMethodJSON `json:"methods"`
	RememberedDevices int                 `json:"remembered_devices"`
	PhoneVerified     bool                `json:"phone_verified"`
	StepUpUntil       *string             `json:"step_up_until"` // null: a step-up is needed for changes
	StepUpMethods     []string            `json:"step_up_methods"`
}

func (s *Server) toTwoStepJSON(st *mamoru.TwoStepStatus) twoStepJSON {
	out := twoStepJSON{
		Methods:           make([]twoStepMethodJSON, 0, len(st.Methods)),
		RememberedDevices: st.RememberedDevices,
		PhoneVerified:     st.PhoneVerified,
		StepUpMethods:     make([]string, 0, len(st.StepUpMethods)),
	}
	if st.StepUpUntil.After(s.clock.Now()) {
		t := apiTime(st.StepUpUntil)
		out.StepUpUntil = &t
	}
	for _, m := range st.StepUpMethods {
		out.StepUpMethods = append(out.StepUpMethods, string(m))
	}
	for _, m := range st.Methods {
		j := twoStepMethodJSON{ID: m.ID, Kind: string(m.Kind), Name: m.Name, Passkey: m.Passkey, CreatedAt: apiTime(m.CreatedAt)}
		if !m.LastUsedAt.IsZero() {
			t := apiTime(m.LastUsedAt)
			j.LastUsedAt = &t
		}
		if m.Kind == mamoru.CredentialBackupCodes {
			n := m.Remaining
			j.Remaining = &n
		}
		out.Methods = append(out.Methods, j)
	}
	return out
}

// authTwoStep authenticates an API call of the 2-step routes and returns
// the session and the service (not_found on a server without one).
func (s *Server) authTwoStep(w http.ResponseWriter, r *http.Request) (*mamoru.Session, mamoru.TwoStepService, error) {
	sess, _, err := s.authAPI(w, r)
	if err != nil {
		return nil, nil, err
	}
	ts, err := s.twoStepService()
	if err != nil {
		return nil, nil, err
	}
	return sess, ts, nil
}

// writeTwoStep answers the status of 2-step verification.
func (s *Server) writeTwoStep(w http.ResponseWriter, r *http.Request, sess *mamoru.Session, ts mamoru.TwoStepService) error {
	st, err := ts.TwoStep(r.Context(), sess)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toTwoStepJSON(st))
	return nil
}

// withState adds the sealed state to the options of a WebAuthn ceremony
// ({"publicKey": …}): {"publicKey": …, "state": …}.
func withState(options []byte, state string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(options, &m); err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "WebAuthn options")
	}
	st, err := json.Marshal(state)
	if err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "WebAuthn state")
	}
	m["state"] = st
	return json.Marshal(m)
}

// writeOptionsWithState answers the options of a ceremony with its state.
func writeOptionsWithState(w http.ResponseWriter, options []byte, state string) error {
	b, err := withState(options, state)
	if err != nil {
		return err
	}
	writeOptions(w, b)
	return nil
}

// credentialJSON checks a WebAuthn credential of a request body: a JSON
// object (PublicKeyCredential.toJSON()).
func credentialJSON(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, mamoru.Errorf(mamoru.EInvalidJSON, "credential must be a JSON object")
	}
	return raw, nil
}

// apiTwoStep is GET /api/v1/account/two-step.
func (s *Server) apiTwoStep(w http.ResponseWriter, r *http.Request) error {
	sess, ts, err := s.authTwoStep(w, r)
	if err != nil {
		return err
	}
	return s.writeTwoStep(w, r, sess, ts)
}

// apiTwoStepTOTP is POST /api/v1/account/two-step/totp: a new secret for
// an authenticator app, to confirm with its first code.
func (s *Server) apiTwoStepTOTP(w http.ResponseWriter, r *http.Request) error {
	sess, ts, err := s.authTwoStep(w, r)
	if err != nil {
		return err
	}
	if err := s.decodeEmptyJSON(w, r); err != nil {
		return err
	}
	setup, err := ts.BeginTOTP(r.Context(), sess)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Secret string `json:"secret"`
		URL    string `json:"url"`
		QRPNG  []byte `json:"qr_png"` // base64
		State  string `json:"state"`
	}{setup.Secret, setup.URL, setup.QRPNG, setup.State})
	return nil
}

// apiTwoStepTOTPConfirm is POST /api/v1/account/two-step/totp/confirm.
func (s *Server) apiTwoStepTOTPConfirm(w http.ResponseWriter, r *http.Request) error {
	sess, ts, err := s.authTwoStep(w, r)
	if err != nil {
		return err
	}
	var in struct {
		State string `json:"state"`
		Code  string `json:"code"`
		Name  string `json:"name"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := ts.ConfirmTOTP(r.Context(), sess, in.State, in.Code, strings.TrimSpace(in.Name), s.request(r)); err != nil {
		return err
	}
	return s.writeTwoStep(w, r, sess, ts)
}

// apiTwoStepWebAuthnOptions is POST
// /api/v1/account/two-step/webauthn/options: the options of adding a
// security key or a passkey, with the state to send back.
func (s *Server) apiTwoStepWebAuthnOptions(w http.ResponseWriter, r *http.Request) error {
	sess, ts, err := s.authTwoStep(w, r)
	if err != nil {
		return err
	}
	var in struct {
		Passkey bool `json:"passkey"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	options, state, err := ts.BeginWebAuthnRegistration(r.Context(), sess, in.Passkey)
	if err != nil {
		return err
	}
	return writeOptionsWithState(w, options, state)
}

// apiTwoStepWebAuthn is POST /api/v1/account/two-step/webauthn: the new
// credential.
func (s *Server) apiTwoStepWebAuthn(w http.ResponseWriter, r *http.Request) error {
	sess, ts, err := s.authTwoStep(w, r)
	if err != nil {
		return err
	}
	var in struct {
		State      string          `json:"state"`
		Credential json.RawMessage `json:"credential"`
		Name       string          `json:"name"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	cred, err := credentialJSON(in.Credential)
	if err != nil {
		return err
	}
	if err := ts.FinishWebAuthnRegistration(r.Context(), sess, in.State, cred, strings.TrimSpace(in.Name), s.request(r)); err != nil {
		return err
	}
	return s.writeTwoStep(w, r, sess, ts)
}

// apiTwoStepBackupCodes is POST /api/v1/account/two-step/backup-codes: a
// new set of backup codes (the old one stops working), answered once.
func (s *Server) apiTwoStepBackupCodes(w http.ResponseWriter, r *http.Request) error {
	sess, ts, err := s.authTwoStep(w, r)
	if err != nil {
		return err
	}
	if err := s.decodeEmptyJSON(w, r); err != nil {
		return err
	}
	codes, err := ts.NewBackupCodes(r.Context(), sess, s.request(r))
	if err != nil {
		return err
	}
	if codes == nil {
		codes = []string{}
	}
	writeJSON(w, http.StatusOK, struct {
		Codes []string `json:"codes"`
	}{codes})
	return nil
}

// apiTwoStepSMS is POST /api/v1/account/two-step/sms: codes by text
// message to the account's verified phone.
func (s *Server) apiTwoStepSMS(w http.ResponseWriter, r *http.Request) error {
	sess, ts, err := s.authTwoStep(w, r)
	if err != nil {
		return err
	}
	if err := s.decodeEmptyJSON(w, r); err != nil {
		return err
	}
	if err := ts.EnableSMS(r.Context(), sess, s.request(r)); err != nil {
		return err
	}
	return s.writeTwoStep(w, r, sess, ts)
}

// apiTwoStepRemove is DELETE /api/v1/account/two-step/{id}.
func (s *Server) apiTwoStepRemove(w http.ResponseWriter, r *http.Request) error {
	sess, ts, err := s.authTwoStep(w, r)
	if err != nil {
		return err
	}
	if err := ts.RemoveMethod(r.Context(), sess, r.PathValue("id"), s.request(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiTwoStepForgetDevices is DELETE /api/v1/account/two-step/devices:
// every remembered device asks for the second step again.
func (s *Server) apiTwoStepForgetDevices(w http.ResponseWriter, r *http.Request) error {
	sess, ts, err := s.authTwoStep(w, r)
	if err != nil {
		return err
	}
	if err := ts.ForgetDevices(r.Context(), sess, s.request(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiStepUp is POST /api/v1/step-up. The service replaces the caller's
// session with a fresh, stepped-up one; as with a password change, the
// new token goes back in the body and the cookie, and the old one stops
// working.
func (s *Server) apiStepUp(w http.ResponseWriter, r *http.Request) error {
	sess, ts, err := s.authTwoStep(w, r)
	if err != nil {
		return err
	}
	var in struct {
		Method     string          `json:"method"`
		Code       string          `json:"code"`
		Password   string          `json:"password"`
		Credential json.RawMessage `json:"credential"`
		State      string          `json:"state"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	step := mamoru.StepUpInput{Method: mamoru.Method(in.Method), Code: strings.TrimSpace(in.Code), Password: in.Password, State: in.State}
	if len(in.Credential) > 0 && string(in.Credential) != "null" {
		if step.Credential, err = credentialJSON(in.Credential); err != nil {
			return err
		}
	}
	fresh, tok, err := ts.StepUp(r.Context(), sess, step, s.request(r))
	if err != nil {
		return err
	}
	if fresh == nil || tok == "" {
		return mamoru.Errorf(mamoru.EInternal, "step-up without a session")
	}
	setSessionCookie(w, fresh, tok)
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
		Token  string `json:"token"`
	}{"stepped_up", tok})
	return nil
}

// apiStepUpSMS is POST /api/v1/step-up/sms: a step-up code by text
// message to the account's phone.
func (s *Server) apiStepUpSMS(w http.ResponseWriter, r *http.Request) error {
	sess, ts, err := s.authTwoStep(w, r)
	if err != nil {
		return err
	}
	if err := s.decodeEmptyJSON(w, r); err != nil {
		return err
	}
	sentTo, err := ts.SendStepUpCode(r.Context(), sess, s.request(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, struct {
		Status string `json:"status"`
		SentTo string `json:"sent_to"`
	}{"code_sent", sentTo})
	return nil
}

// apiStepUpWebAuthnOptions is POST /api/v1/step-up/webauthn/options: the
// options of a step-up with a security key or passkey, with the state to
// send back.
func (s *Server) apiStepUpWebAuthnOptions(w http.ResponseWriter, r *http.Request) error {
	sess, ts, err := s.authTwoStep(w, r)
	if err != nil {
		return err
	}
	if err := s.decodeEmptyJSON(w, r); err != nil {
		return err
	}
	options, state, err := ts.StepUpWebAuthnOptions(r.Context(), sess)
	if err != nil {
		return err
	}
	return writeOptionsWithState(w, options, state)
}
