package account

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/mfa"
	"github.com/mamoru-id/mamoru/notify"
	"github.com/mamoru-id/mamoru/phone"
)

var _ mamoru.TwoStepService = (*Service)(nil)

// setupTTL is how long a started enrollment (an app's secret, a security
// key's ceremony) or a step-up ceremony may be finished.
const setupTTL = 10 * time.Minute

// stateOf seals v for the client, bound to the purpose and the account:
// the client holds it between two requests but can neither read nor
// change it, nor use it for another account or purpose.
func (s *Service) stateOf(purpose, accountID string, v any) (string, error) {
	plain, err := json.Marshal(struct {
		Expires time.Time `json:"exp"`
		V       any       `json:"v"`
	}{s.clock.Now().Add(setupTTL), v})
	if err != nil {
		return "", err
	}
	rid := mamoru.NewID()
	sealed, err := s.mfa.Sealer.Seal(purpose+"\x00"+accountID+"\x00"+rid, plain)
	if err != nil {
		return "", err
	}
	return rid + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// openState opens a state of stateOf into v; EInvalidCode if it is not
// one, or expired.
func (s *Service) openState(purpose, accountID, state string, v any) (string, error) {
	bad := mamoru.Errorf(mamoru.EInvalidCode, "the setup is unknown or expired; start again")
	rid, enc, ok := strings.Cut(state, ".")
	if !ok || len(state) > 64<<10 || rid == "" {
		return "", bad
	}
	sealed, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", bad
	}
	plain, err := s.mfa.Sealer.Open(purpose+"\x00"+accountID+"\x00"+rid, sealed)
	if err != nil {
		return "", bad
	}
	var w struct {
		Expires time.Time       `json:"exp"`
		V       json.RawMessage `json:"v"`
	}
	if json.Unmarshal(plain, &w) != nil || !s.clock.Now().Before(w.Expires) || json.Unmarshal(w.V, v) != nil {
		return "", bad
	}
	return rid, nil
}

// noMFA is the answer of every 2-step change on a server without it.
func noMFA() error {
	return mamoru.Errorf(mamoru.EInvalidRequest, "2-step verification is not enabled on this server")
}

// steppedUp reports whether the session made a step-up recently enough
// for a sensitive change: a second factor if the account has any, the
// password otherwise.
func (s *Service) steppedUp(sess *mamoru.Session, methods []mamoru.Method) bool {
	if sess.VerifiedAt.IsZero() || s.clock.Now().Sub(sess.VerifiedAt) > s.cfg.TwoStep.StepUpTTL {
		return false
	}
	return methods[0] == mamoru.MethodPassword || sess.AAL >= 2
}

// stepUpMethods are the methods a step-up of the account accepts: its
// 2-step methods, or the password.
func (s *Service) stepUpMethods(a *mamoru.Account, creds []*mamoru.Credential) []mamoru.Method {
	return s.methodsOr(a, creds, mamoru.MethodPassword)
}

// requireStepUp refuses a sensitive change (password, email, phone) of an
// account with 2-step methods unless the session stepped up recently with
// one of them: a stolen password, or a session that passed only the
// password, does not reach them.
func (s *Service) requireStepUp(ctx context.Context, sess *mamoru.Session) error {
	if s.mfa == nil {
		return nil
	}
	a, creds, err := s.accountAndCredentials(ctx, sess.AccountID)
	if err != nil {
		return err
	}
	m := s.stepUpMethods(a, creds)
	if m[0] == mamoru.MethodPassword || s.steppedUp(sess, m) {
		return nil
	}
	return mamoru.Errorf(mamoru.EStepUpRequired, "confirm with a second factor first")
}

// mayManage reads, in tx, the account and its credentials, and checks
// that the session may change its 2-step settings: a recent step-up
// (with the password, for an account without 2-step methods).
func (s *Service) mayManage(ctx context.Context, tx mamoru.Tx, sess *mamoru.Session) (*mamoru.Account, []*mamoru.Credential, error) {
	if s.mfa == nil {
		return nil, nil, noMFA()
	}
	a, creds, err := readAccountAndCredentials(ctx, tx, sess.AccountID)
	if err != nil {
		return nil, nil, err
	}
	if !s.steppedUp(sess, s.stepUpMethods(a, creds)) {
		return nil, nil, mamoru.Errorf(mamoru.EStepUpRequired, "confirm it is you first")
	}
	return a, creds, nil
}

// allowed is mayManage for a step that changes nothing yet (the start of
// an enrollment).
func (s *Service) allowed(ctx context.Context, sess *mamoru.Session) (*mamoru.Account, []*mamoru.Credential, error) {
	var a *mamoru.Account
	var creds []*mamoru.Credential
	err := s.store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		a, creds, err = s.mayManage(ctx, tx, sess)
		return err
	})
	return a, creds, err
}

// manage runs a change of 2-step settings: in one transaction it checks
// the step-up (mayManage), then runs f with the account and its
// credentials.
func (s *Service) manage(ctx context.Context, sess *mamoru.Session, f func(tx mamoru.Tx, a *mamoru.Account, creds []*mamoru.Credential) error) error {
	err := s.store.Update(ctx, func(tx mamoru.Tx) error {
		a, creds, err := s.mayManage(ctx, tx, sess)
		if err != nil {
			return err
		}
		return f(tx, a, creds)
	})
	if err == nil {
		s.kick()
	}
	return err
}

func readAccountAndCredentials(ctx context.Context, tx mamoru.Tx, accountID string) (*mamoru.Account, []*mamoru.Credential, error) {
	a, err := tx.AccountByID(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	creds, err := tx.ListCredentials(ctx, accountID)
	return a, creds, err
}

func (s *Service) accountAndCredentials(ctx context.Context, accountID string) (*mamoru.Account, []*mamoru.Credential, error) {
	var a *mamoru.Account
	var creds []*mamoru.Credential
	err := s.store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		a, creds, err = readAccountAndCredentials(ctx, tx, accountID)
		return err
	})
	return a, creds, err
}

// changed records a change of 2-step methods and tells the owner.
func (s *Service) changed(ctx context.Context, tx mamoru.Tx, a *mamoru.Account, t mamoru.EventType, c *mamoru.Credential, regenerated bool, r mamoru.Request) error {
	method := string(c.Kind)
	if c.Kind == mamoru.CredentialWebAuthn {
		if info, err := mfa.ReadWebAuthn(c); err == nil && info.Passkey {
			method = "passkey"
		}
	}
	e, err := s.record(ctx, tx, t, a.ID, r, map[string]string{mamoru.DetailMethod: method, mamoru.DetailName: c.Name})
	if err != nil {
		return err
	}
	template := notify.TemplateTwoStepAdded
	if t == mamoru.EventTwoStepRemoved {
		template = notify.TemplateTwoStepRemoved
	}
	return s.notifyEvent(ctx, tx, a, e, template, map[string]any{"Method": method, "Name": c.Name, "Regenerated": regenerated})
}

// TwoStep implements mamoru.TwoStepService.
func (s *Service) TwoStep(ctx context.Context, sess *mamoru.Session) (*mamoru.TwoStepStatus, error) {
	a, creds, err := s.accountAndCredentials(ctx, sess.AccountID)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	st := &mamoru.TwoStepStatus{PhoneVerified: a.Phone != "", StepUpMethods: s.stepUpMethods(a, creds)}
	if s.steppedUp(sess, st.StepUpMethods) {
		st.StepUpUntil = sess.VerifiedAt.Add(s.cfg.TwoStep.StepUpTTL)
	}
	for _, c := range creds {
		if c.Kind == mamoru.CredentialRememberedDevice {
			var d rememberedData
			if json.Unmarshal(c.Data, &d) == nil && now.Before(d.Expires) {
				st.RememberedDevices++
			}
			continue
		}
		m := mamoru.TwoStepMethod{ID: c.ID, Kind: c.Kind, Name: c.Name, CreatedAt: c.CreatedAt, LastUsedAt: c.LastUsedAt}
		switch c.Kind {
		case mamoru.CredentialWebAuthn:
			if info, err := mfa.ReadWebAuthn(c); err == nil {
				m.Passkey = info.Passkey
			}
		case mamoru.CredentialBackupCodes:
			m.Remaining, _ = mfa.BackupCodesRemaining(c.Data)
		}
		st.Methods = append(st.Methods, m)
	}
	return st, nil
}

// totpState is what a started app enrollment keeps.
type totpState struct {
	Secret []byte `json:"s"`
}

// BeginTOTP implements mamoru.TwoStepService.
func (s *Service) BeginTOTP(ctx context.Context, sess *mamoru.Session) (*mamoru.TOTPSetup, error) {
	a, _, err := s.allowed(ctx, sess)
	if err != nil {
		return nil, err
	}
	e, err := mfa.NewTOTP(s.cfg.TwoStep.Issuer, a.Email, s.clock)
	if err != nil {
		return nil, err
	}
	state, err := s.stateOf("totp", a.ID, totpState{Secret: e.Secret})
	if err != nil {
		return nil, err
	}
	return &mamoru.TOTPSetup{Secret: e.Base32, URL: e.URL, QRPNG: e.QRCode, State: state}, nil
}

// ConfirmTOTP implements mamoru.TwoStepService. The state's ID becomes
// the credential's, so one setup adds one app however often it is sent.
func (s *Service) ConfirmTOTP(ctx context.Context, sess *mamoru.Session, state, code, name string, r mamoru.Request) error {
	return s.manage(ctx, sess, func(tx mamoru.Tx, a *mamoru.Account, _ []*mamoru.Credential) error {
		var st totpState
		rid, err := s.openState("totp", a.ID, state, &st)
		if err != nil {
			return err
		}
		if name, err = credentialName(name); err != nil {
			return err
		}
		now := s.clock.Now()
		step, err := mfa.VerifyTOTP(st.Secret, normalizeCode(code), 0, now)
		if err != nil {
			return invalidCode()
		}
		c := &mamoru.Credential{ID: rid, AccountID: a.ID, Kind: mamoru.CredentialTOTP, Name: name, LastUsedStep: step, CreatedAt: now}
		if c.Secret, err = s.mfa.Sealer.Seal(c.ID, st.Secret); err != nil {
			return err
		}
		if err := tx.CreateCredential(ctx, c); err != nil {
			if mamoru.ErrorCode(err) == mamoru.EConflict {
				return mamoru.Errorf(mamoru.EInvalidCode, "this setup was used already")
			}
			return err
		}
		return s.changed(ctx, tx, a, mamoru.EventTwoStepAdded, c, false, r)
	})
}

// credentialName checks an owner's label.
func credentialName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if len(name) > 200 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", mamoru.Errorf(mamoru.EInvalidRequest, "the name must be at most 200 bytes without control characters")
	}
	return name, nil
}

// webauthnState is what a started registration keeps.
type webauthnState struct {
	Session []byte `json:"s"`
}

// BeginWebAuthnRegistration implements mamoru.TwoStepService.
func (s *Service) BeginWebAuthnRegistration(ctx context.Context, sess *mamoru.Session, passkey bool) ([]byte, string, error) {
	if s.mfa != nil && s.mfa.WebAuthn == nil {
		return nil, "", mamoru.Errorf(mamoru.EInvalidRequest, "security keys are not enabled")
	}
	a, creds, err := s.allowed(ctx, sess)
	if err != nil {
		return nil, "", err
	}
	options, session, err := s.mfa.WebAuthn.BeginRegistration(a, ofKind(creds, mamoru.CredentialWebAuthn), passkey)
	if err != nil {
		return nil, "", err
	}
	state, err := s.stateOf("webauthn-register", a.ID, webauthnState{Session: session})
	return options, state, err
}

// FinishWebAuthnRegistration implements mamoru.TwoStepService.
func (s *Service) FinishWebAuthnRegistration(ctx context.Context, sess *mamoru.Session, state string, response []byte, name string, r mamoru.Request) error {
	if s.mfa == nil || s.mfa.WebAuthn == nil {
		return noMFA()
	}
	return s.manage(ctx, sess, func(tx mamoru.Tx, a *mamoru.Account, _ []*mamoru.Credential) error {
		var st webauthnState
		if _, err := s.openState("webauthn-register", a.ID, state, &st); err != nil {
			return err
		}
		name, err := credentialName(name)
		if err != nil {
			return err
		}
		c, err := s.mfa.WebAuthn.FinishRegistration(a, st.Session, response, name)
		if err != nil {
			return err
		}
		if err := tx.CreateCredential(ctx, c); err != nil {
			if mamoru.ErrorCode(err) == mamoru.EConflict {
				return mamoru.Errorf(mamoru.EInvalidCode, "this security key is registered already")
			}
			return err
		}
		return s.changed(ctx, tx, a, mamoru.EventTwoStepAdded, c, false, r)
	})
}

// NewBackupCodes implements mamoru.TwoStepService: the set replaces the
// last one.
func (s *Service) NewBackupCodes(ctx context.Context, sess *mamoru.Session, r mamoru.Request) ([]string, error) {
	var codes []string
	err := s.manage(ctx, sess, func(tx mamoru.Tx, a *mamoru.Account, creds []*mamoru.Credential) error {
		var data []byte
		var err error
		if codes, data, err = mfa.NewBackupCodes(s.mfa.BackupKey, 10); err != nil {
			return err
		}
		old := ofKind(creds, mamoru.CredentialBackupCodes)
		for _, c := range old {
			if err := tx.DeleteCredential(ctx, a.ID, c.ID); err != nil {
				return err
			}
		}
		c := &mamoru.Credential{ID: mamoru.NewID(), AccountID: a.ID, Kind: mamoru.CredentialBackupCodes, Data: data, CreatedAt: s.clock.Now()}
		if err := tx.CreateCredential(ctx, c); err != nil {
			return err
		}
		return s.changed(ctx, tx, a, mamoru.EventTwoStepAdded, c, len(old) > 0, r)
	})
	return codes, err
}

// EnableSMS implements mamoru.TwoStepService: codes by SMS to the phone
// number on the account.
func (s *Service) EnableSMS(ctx context.Context, sess *mamoru.Session, r mamoru.Request) error {
	return s.manage(ctx, sess, func(tx mamoru.Tx, a *mamoru.Account, creds []*mamoru.Credential) error {
		if a.Phone == "" {
			return mamoru.Errorf(mamoru.EInvalidPhone, "add a phone number first")
		}
		if len(ofKind(creds, mamoru.CredentialSMS)) > 0 {
			return nil
		}
		c := &mamoru.Credential{ID: mamoru.NewID(), AccountID: a.ID, Kind: mamoru.CredentialSMS, CreatedAt: s.clock.Now()}
		if err := tx.CreateCredential(ctx, c); err != nil {
			return err
		}
		return s.changed(ctx, tx, a, mamoru.EventTwoStepAdded, c, false, r)
	})
}

// RemoveMethod implements mamoru.TwoStepService. Removing the last
// method turns 2-step verification off: the remembered devices are
// forgotten with it.
func (s *Service) RemoveMethod(ctx context.Context, sess *mamoru.Session, id string, r mamoru.Request) error {
	return s.manage(ctx, sess, func(tx mamoru.Tx, a *mamoru.Account, creds []*mamoru.Credential) error {
		var c *mamoru.Credential
		left := 0
		for _, x := range creds {
			if x.ID == id && x.Kind != mamoru.CredentialRememberedDevice {
				c = x
			} else if mamoru.MethodOf(x.Kind) != "" {
				left++
			}
		}
		if c == nil {
			return mamoru.Errorf(mamoru.ENotFound, "no such method")
		}
		if err := tx.DeleteCredential(ctx, a.ID, c.ID); err != nil {
			return err
		}
		if left == 0 {
			if err := forgetDevices(ctx, tx, a.ID); err != nil {
				return err
			}
		}
		return s.changed(ctx, tx, a, mamoru.EventTwoStepRemoved, c, false, r)
	})
}

// ForgetDevices implements mamoru.TwoStepService.
func (s *Service) ForgetDevices(ctx context.Context, sess *mamoru.Session, r mamoru.Request) error {
	return s.manage(ctx, sess, func(tx mamoru.Tx, a *mamoru.Account, _ []*mamoru.Credential) error {
		if err := forgetDevices(ctx, tx, a.ID); err != nil {
			return err
		}
		_, err := s.record(ctx, tx, mamoru.EventSettingsChanged, a.ID, r, map[string]string{"remembered_devices": "forgotten"})
		return err
	})
}

// SendStepUpCode implements mamoru.TwoStepService.
func (s *Service) SendStepUpCode(ctx context.Context, sess *mamoru.Session, r mamoru.Request) (string, error) {
	a, creds, err := s.accountAndCredentials(ctx, sess.AccountID)
	if err != nil {
		return "", err
	}
	if !slices.Contains(s.stepUpMethods(a, creds), mamoru.MethodSMS) {
		return "", mamoru.Errorf(mamoru.EInvalidRequest, "SMS codes are not among this account's methods")
	}
	err = s.store.Update(ctx, func(tx mamoru.Tx) error {
		now := s.clock.Now()
		if last, err := tx.ActiveToken(ctx, a.ID, mamoru.PurposeStepUp, now); err == nil && now.Sub(last.CreatedAt) < resendInterval {
			return &mamoru.Error{Code: mamoru.ERateLimited, Message: "a code was sent moments ago", RetryAfter: resendInterval - now.Sub(last.CreatedAt)}
		}
		t, err := s.issueToken(ctx, tx, a, mamoru.PurposeStepUp, signInCodeTTL, sess.ID)
		if err != nil {
			return err
		}
		return s.mailer.Enqueue(ctx, tx, s.phoneCode(a, t, signInCodeTTL, "confirm"))
	})
	if err != nil {
		return "", err
	}
	s.kick()
	return phone.Mask(a.Phone), nil
}

// stepUpState is what a step-up's WebAuthn ceremony keeps.
type stepUpState struct {
	Session   []byte `json:"s"`
	SessionID string `json:"sid"`
}

// StepUpWebAuthnOptions implements mamoru.TwoStepService.
func (s *Service) StepUpWebAuthnOptions(ctx context.Context, sess *mamoru.Session) ([]byte, string, error) {
	if s.mfa == nil || s.mfa.WebAuthn == nil {
		return nil, "", noMFA()
	}
	a, creds, err := s.accountAndCredentials(ctx, sess.AccountID)
	if err != nil {
		return nil, "", err
	}
	options, session, err := s.mfa.WebAuthn.BeginLogin(a, ofKind(creds, mamoru.CredentialWebAuthn))
	if err != nil {
		return nil, "", err
	}
	state, err := s.stateOf("step-up", a.ID, stepUpState{Session: session, SessionID: sess.ID})
	return options, state, err
}

// StepUp implements mamoru.TwoStepService. A wrong proof counts like a
// wrong password against the account (the checkpoint), and five wrong
// SMS codes kill the code.
func (s *Service) StepUp(ctx context.Context, sess *mamoru.Session, in mamoru.StepUpInput, r mamoru.Request) (*mamoru.Session, string, error) {
	a, creds, err := s.accountAndCredentials(ctx, sess.AccountID)
	if err != nil {
		return nil, "", err
	}
	methods := s.stepUpMethods(a, creds)
	if !slices.Contains(methods, in.Method) {
		return nil, "", mamoru.Errorf(mamoru.EInvalidRequest, "method %q is not offered for this account", in.Method)
	}
	pass, err := s.guard.Enter(ctx, &mamoru.GuardAttempt{Action: mamoru.GuardCode, Request: r, Identifier: a.Email})
	if err != nil {
		return nil, "", err
	}
	outcome := mamoru.GuardOutcome{}
	defer func() { pass.Done(ctx, outcome) }()
	switch in.Method {
	case mamoru.MethodPassword:
		if _, err = s.reauthenticate(ctx, sess, in.Password); mamoru.ErrorCode(err) == mamoru.EPasswordIncorrect {
			err = invalidCode()
		}
	case mamoru.MethodTOTP, mamoru.MethodBackupCode:
		err = s.verifyFactorCode(ctx, a, in.Method, in.Code, r)
	case mamoru.MethodSMS:
		var tok *mamoru.Token
		_, tok, err = s.checkCodeOf(ctx, func(tx mamoru.Tx) (*mamoru.Account, error) { return tx.AccountByID(ctx, a.ID) },
			normalizeCode(in.Code), mamoru.PurposeStepUp)
		if err == nil && tok.Data != sess.ID {
			err = invalidCode()
		}
		if err == nil {
			err = s.store.Update(ctx, func(tx mamoru.Tx) error { return use(ctx, tx, tok, s.clock.Now()) })
		}
	case mamoru.MethodWebAuthn:
		var st stepUpState
		if _, err = s.openState("step-up", a.ID, in.State, &st); err == nil && st.SessionID != sess.ID {
			err = invalidCode()
		}
		if err == nil {
			err = s.verifyAssertion(ctx, a, st.Session, in.Credential, r)
		}
	default:
		err = invalidCode()
	}
	if err != nil {
		if mamoru.ErrorCode(err) == mamoru.EInvalidCode {
			outcome.Result = mamoru.GuardFailure
		}
		return nil, "", err
	}
	aal := 1
	if in.Method.SecondFactor() {
		aal = 2
	}
	var fresh *mamoru.Session
	var token string
	err = s.store.Update(ctx, func(tx mamoru.Tx) error {
		var err error
		if fresh, token, err = s.sessions.StepUp(ctx, tx, sess, aal, r); err != nil {
			return err
		}
		_, err = s.record(ctx, tx, mamoru.EventSteppedUp, a.ID, r, map[string]string{mamoru.DetailMethod: string(in.Method)})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	outcome.Result = mamoru.GuardSuccess
	return fresh, token, nil
}
