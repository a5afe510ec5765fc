package account

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/emailaddr"
	"github.com/mamoru-id/mamoru/mfa"
	"github.com/mamoru-id/mamoru/notify"
	"github.com/mamoru-id/mamoru/phone"
	"github.com/mamoru-id/mamoru/signin"
)

// MFA are the means of 2-step verification (package mfa). Without them
// (Deps.MFA nil) accounts have no 2-step methods, and a challenged
// sign-in is proved by an emailed code.
type MFA struct {
	Sealer    *mfa.Sealer   // seals TOTP secrets and the states handed to clients
	BackupKey []byte        // the HMAC key of backup codes (mfa.BackupCodeKeySecret)
	WebAuthn  *mfa.WebAuthn // security keys and passkeys; nil: none
}

// TwoStepConfig says when the second step is asked and how long its
// proofs last.
type TwoStepConfig struct {
	// Issuer names the service in authenticator apps (default "mamoru").
	Issuer string
	// RememberFor is how long a remembered device skips the second step
	// (default 30 days).
	RememberFor time.Duration
	// ChallengeNewDevice: an account without 2-step methods proves a
	// sign-in from a new device with an emailed code. (An account with
	// methods always uses them on a device it has not remembered.)
	ChallengeNewDevice bool
	// ChallengeAfter: a sign-in after this long without one is
	// challenged, even on a remembered device (default 90 days; negative:
	// never).
	ChallengeAfter time.Duration
	// StepUpTTL is how long a step-up allows sensitive changes (default
	// 10 minutes).
	StepUpTTL time.Duration
}

func (c *TwoStepConfig) defaults() {
	if c.Issuer == "" {
		c.Issuer = "mamoru"
	}
	if c.RememberFor <= 0 {
		c.RememberFor = 30 * 24 * time.Hour
	}
	if c.ChallengeAfter == 0 {
		c.ChallengeAfter = 90 * 24 * time.Hour
	}
	if c.StepUpTTL <= 0 {
		c.StepUpTTL = 10 * time.Minute
	}
}

// methodOrder is the order the second step offers methods in: those that
// send nothing first, so that no SMS goes out unless asked for.
var methodOrder = []mamoru.Method{mamoru.MethodWebAuthn, mamoru.MethodTOTP, mamoru.MethodSMS, mamoru.MethodBackupCode}

// methodsOf returns the 2-step methods of an account's credentials, in
// methodOrder; SMS only while the account has a phone number.
func methodsOf(a *mamoru.Account, creds []*mamoru.Credential) []mamoru.Method {
	have := map[mamoru.Method]bool{}
	for _, c := range creds {
		if m := mamoru.MethodOf(c.Kind); m != "" {
			if m == mamoru.MethodSMS && a.Phone == "" {
				continue
			}
			if m == mamoru.MethodBackupCode {
				if n, err := mfa.BackupCodesRemaining(c.Data); err != nil || n == 0 {
					continue
				}
			}
			have[m] = true
		}
	}
	var out []mamoru.Method
	for _, m := range methodOrder {
		if have[m] {
			out = append(out, m)
		}
	}
	return out
}

// credentials returns the account's credentials.
func (s *Service) credentials(ctx context.Context, accountID string) ([]*mamoru.Credential, error) {
	var creds []*mamoru.Credential
	err := s.store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		creds, err = tx.ListCredentials(ctx, accountID)
		return err
	})
	return creds, err
}

// ofKind returns the credentials of kind k.
func ofKind(creds []*mamoru.Credential, k mamoru.CredentialKind) []*mamoru.Credential {
	var out []*mamoru.Credential
	for _, c := range creds {
		if c.Kind == k {
			out = append(out, c)
		}
	}
	return out
}

// rememberedData is the Data of a remembered device.
type rememberedData struct {
	Device  string    `json:"d"` // deviceHash of the device cookie's ID
	Expires time.Time `json:"exp"`
}

// deviceHash keys a device cookie's ID, so that the table holds nothing
// a client could present.
func (s *Service) deviceHash(deviceID string) string {
	m := hmac.New(sha256.New, s.cfg.CodeKey)
	m.Write([]byte("mamoru remembered device v1\x00"))
	m.Write([]byte(deviceID))
	return hex.EncodeToString(m.Sum(nil))
}

// remembered reports whether the device is remembered and not expired.
func (s *Service) remembered(creds []*mamoru.Credential, deviceID string, now time.Time) bool {
	if deviceID == "" {
		return false
	}
	h := s.deviceHash(deviceID)
	for _, c := range ofKind(creds, mamoru.CredentialRememberedDevice) {
		var d rememberedData
		if json.Unmarshal(c.Data, &d) == nil && hmac.Equal([]byte(d.Device), []byte(h)) && now.Before(d.Expires) {
			return true
		}
	}
	return false
}

// remember records, in tx, that the device skips the second step for
// RememberFor (replacing an earlier record of it and dropping expired
// ones).
func (s *Service) remember(ctx context.Context, tx mamoru.Tx, accountID, deviceID string) error {
	if deviceID == "" {
		return nil
	}
	now := s.clock.Now()
	creds, err := tx.ListCredentials(ctx, accountID)
	if err != nil {
		return err
	}
	h := s.deviceHash(deviceID)
	for _, c := range ofKind(creds, mamoru.CredentialRememberedDevice) {
		var d rememberedData
		if json.Unmarshal(c.Data, &d) != nil || d.Device == h || !now.Before(d.Expires) {
			if err := tx.DeleteCredential(ctx, accountID, c.ID); err != nil && mamoru.ErrorCode(err) != mamoru.ENotFound {
				return err
			}
		}
	}
	data, err := json.Marshal(rememberedData{Device: h, Expires: now.Add(s.cfg.TwoStep.RememberFor)})
	if err != nil {
		return err
	}
	return tx.CreateCredential(ctx, &mamoru.Credential{ID: mamoru.NewID(), AccountID: accountID,
		Kind: mamoru.CredentialRememberedDevice, Data: data, CreatedAt: now})
}

// forgetDevices deletes every remembered device of the account, in tx.
func forgetDevices(ctx context.Context, tx mamoru.Tx, accountID string) error {
	creds, err := tx.ListCredentials(ctx, accountID)
	if err != nil {
		return err
	}
	for _, c := range ofKind(creds, mamoru.CredentialRememberedDevice) {
		if err := tx.DeleteCredential(ctx, accountID, c.ID); err != nil && mamoru.ErrorCode(err) != mamoru.ENotFound {
			return err
		}
	}
	return nil
}

// TwoStepCheck is the sign-in post-check of 2-step verification, after
// the risk check: an account with 2-step methods proves every sign-in
// from a device it has not remembered with one of them; any account
// proves a sign-in after a long absence (TwoStepConfig.ChallengeAfter),
// and, if so configured, one from a new device.
func (s *Service) TwoStepCheck(ctx context.Context, at *signin.Attempt) (signin.Verdict, error) {
	creds, err := s.credentials(ctx, at.Account.ID)
	if err != nil {
		return signin.Verdict{}, err
	}
	now := s.clock.Now()
	methods := s.methods(at.Account, creds)
	absent := s.cfg.TwoStep.ChallengeAfter > 0 && !at.Account.LastSignInAt.IsZero() &&
		now.Sub(at.Account.LastSignInAt) > s.cfg.TwoStep.ChallengeAfter
	newDevice := at.Request.DeviceID == "" || at.Request.NewDevice
	switch {
	case methods[0] != mamoru.MethodEmail && (absent || !s.remembered(creds, at.Request.DeviceID, now)),
		methods[0] == mamoru.MethodEmail && (absent || (newDevice && s.cfg.TwoStep.ChallengeNewDevice)):
		return s.challenge(at, methods), nil
	}
	return signin.Verdict{}, nil
}

// methods are the methods of the second step for the account: its 2-step
// methods, or an emailed code.
func (s *Service) methods(a *mamoru.Account, creds []*mamoru.Credential) []mamoru.Method {
	return s.methodsOr(a, creds, mamoru.MethodEmail)
}

// methodsOr is the account's 2-step methods, or fallback without any.
func (s *Service) methodsOr(a *mamoru.Account, creds []*mamoru.Credential, fallback mamoru.Method) []mamoru.Method {
	if s.mfa != nil {
		if m := methodsOf(a, creds); len(m) > 0 {
			return m
		}
	}
	return []mamoru.Method{fallback}
}

// Challenge is the verdict of a challenged sign-in (the risk engine's):
// the second step with the account's methods.
func (s *Service) Challenge(ctx context.Context, at *signin.Attempt) (signin.Verdict, error) {
	creds, err := s.credentials(ctx, at.Account.ID)
	if err != nil {
		return signin.Verdict{}, err
	}
	return s.challenge(at, s.methods(at.Account, creds)), nil
}

// challenge moves the sign-in to the second step with the methods; the
// first is sent at once when it is a code by mail or SMS.
func (s *Service) challenge(at *signin.Attempt, methods []mamoru.Method) signin.Verdict {
	v := signin.Verdict{Status: mamoru.ChallengeRequired, NextStep: signin.StepCode, Methods: methods}
	switch methods[0] {
	case mamoru.MethodEmail, mamoru.MethodSMS:
		m := methods[0]
		v.SentTo = s.sentTo(at.Account, m)
		v.Prepare = func(ctx context.Context, tx mamoru.Tx, f *mamoru.Flow) error {
			_, err := s.SendCode(ctx, tx, at, f, m)
			return err
		}
	}
	return v
}

// sentTo is where a code of m goes, masked.
func (s *Service) sentTo(a *mamoru.Account, m mamoru.Method) string {
	if m == mamoru.MethodSMS {
		return phone.Mask(a.Phone)
	}
	return emailaddr.Mask(a.Email)
}

var _ signin.Challenger = (*Service)(nil)

// signInCodeTTL is how long the code of a stopped sign-in works (NIST SP
// 800-63B: at most 10 minutes for an out-of-band code).
const signInCodeTTL = 10 * time.Minute

// SendCode implements signin.Challenger: a sign-in code by mail or SMS,
// bound to the flow; it replaces the last one.
func (s *Service) SendCode(ctx context.Context, tx mamoru.Tx, at *signin.Attempt, f *mamoru.Flow, m mamoru.Method) (string, error) {
	switch m {
	case mamoru.MethodEmail:
		err := s.flowMail(at, mamoru.PurposeSignInCode, signInCodeTTL, notify.TemplateSignInCode, func(t *issued) map[string]any {
			return map[string]any{"Code": t.code}
		})(ctx, tx, f)
		return emailaddr.Mask(at.Account.Email), err
	case mamoru.MethodSMS:
		a, err := tx.AccountByID(ctx, f.AccountID)
		if err != nil {
			return "", err
		}
		if a.Phone == "" {
			return "", mamoru.Errorf(mamoru.EInvalidRequest, "the account has no phone number")
		}
		t, err := s.issueToken(ctx, tx, a, mamoru.PurposeSignInCode, signInCodeTTL, f.ID)
		if err != nil {
			return "", err
		}
		if err := s.mailer.Enqueue(ctx, tx, s.phoneCode(a, t, signInCodeTTL, "sign_in")); err != nil {
			return "", err
		}
		s.kick()
		return phone.Mask(a.Phone), nil
	}
	return "", mamoru.Errorf(mamoru.EInvalidRequest, "method %q sends no code", m)
}

// phoneCode is the SMS with the code of t to the account's phone; purpose
// words it (TemplatePhoneCode).
func (s *Service) phoneCode(a *mamoru.Account, t *issued, ttl time.Duration, purpose string) notify.Mail {
	m := s.mail(a, notify.TemplatePhoneCode, map[string]any{"Code": t.code, "Minutes": int(ttl.Minutes()), "Purpose": purpose})
	m.Channel, m.To = mamoru.ChannelSMS, a.Phone
	return m
}

// normalizeCode folds what people type into the digits of a code:
// full-width digits (a Japanese IME), spaces and hyphens ("123 456").
// Anything else is left for the checker to refuse.
func normalizeCode(code string) string {
	if len(code) > 64 {
		return code
	}
	code = norm.NFKC.String(code)
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' {
			return -1
		}
		return r
	}, code)
}

// VerifyCode implements signin.Challenger.
func (s *Service) VerifyCode(ctx context.Context, at *signin.Attempt, m mamoru.Method, code string) error {
	switch m {
	case mamoru.MethodEmail, mamoru.MethodSMS:
		return s.verifyFlowCode(ctx, at.Flow, normalizeCode(code))
	case mamoru.MethodTOTP, mamoru.MethodBackupCode:
		return s.verifyFactorCode(ctx, at.Account, m, code, at.Request)
	}
	return invalidCode()
}

// verifyFlowCode checks the newest sign-in code of the flow's account,
// which must be bound to this flow; wrong codes count, and after
// Config.MaxCodeTries the code dies.
func (s *Service) verifyFlowCode(ctx context.Context, f *mamoru.Flow, code string) error {
	_, tok, err := s.checkCodeOf(ctx, func(tx mamoru.Tx) (*mamoru.Account, error) { return tx.AccountByID(ctx, f.AccountID) },
		code, mamoru.PurposeSignInCode)
	if err != nil {
		return err
	}
	if tok.Data != f.ID {
		return invalidCode()
	}
	return s.store.Update(ctx, func(tx mamoru.Tx) error { return use(ctx, tx, tok, s.clock.Now()) })
}

// verifyFactorCode checks a code of the account's authenticator app or
// backup codes, and records its use; of two concurrent uses one wins. A
// code used before is refused, recorded, and its owner told.
func (s *Service) verifyFactorCode(ctx context.Context, a *mamoru.Account, m mamoru.Method, code string, r mamoru.Request) error {
	if s.mfa == nil {
		return invalidCode()
	}
	creds, err := s.credentials(ctx, a.ID)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	var used *mamoru.Credential
	replayed := false
	switch m {
	case mamoru.MethodTOTP:
		code = normalizeCode(code)
		for _, c := range ofKind(creds, mamoru.CredentialTOTP) {
			secret, err := s.mfa.Sealer.Open(c.ID, c.Secret)
			if err != nil {
				s.log.Error("2-step: a TOTP secret does not open", "account", a.ID, "credential", c.ID, "err", err)
				continue
			}
			step, err := mfa.VerifyTOTP(secret, code, c.LastUsedStep, now)
			if errors.Is(err, mfa.ErrReplayed) {
				replayed = true
				continue
			}
			if err == nil {
				c.LastUsedStep, c.LastUsedAt, used = step, now, c
				break
			}
		}
	case mamoru.MethodBackupCode:
		for _, c := range ofKind(creds, mamoru.CredentialBackupCodes) {
			data, _, err := mfa.UseBackupCode(s.mfa.BackupKey, c.Data, code)
			if errors.Is(err, mfa.ErrReplayed) {
				replayed = true
				continue
			}
			if err == nil {
				c.Data, c.LastUsedAt, used = data, now, c
				break
			}
		}
	}
	if used == nil {
		if replayed {
			if err := s.codeReplayed(ctx, a, m, r); err != nil {
				return err
			}
		}
		return invalidCode()
	}
	err = s.store.Update(ctx, func(tx mamoru.Tx) error { return tx.UpdateCredential(ctx, used) })
	if mamoru.ErrorCode(err) == mamoru.EConflict {
		// A concurrent use of the credential won; this code counts as
		// refused (it may be the same code).
		return invalidCode()
	}
	return err
}

// codeReplayed records a used code entered again and tells the owner:
// someone else may have seen it.
func (s *Service) codeReplayed(ctx context.Context, a *mamoru.Account, m mamoru.Method, r mamoru.Request) error {
	s.log.Warn("2-step: a used code was entered again", "account", a.ID, "method", m)
	err := s.store.Update(ctx, func(tx mamoru.Tx) error {
		e, err := s.record(ctx, tx, mamoru.EventTwoStepReplayed, a.ID, r, map[string]string{mamoru.DetailMethod: string(m)})
		if err != nil {
			return err
		}
		kind := mamoru.CredentialTOTP
		if m == mamoru.MethodBackupCode {
			kind = mamoru.CredentialBackupCodes
		}
		return s.notifyEvent(ctx, tx, a, e, notify.TemplateTwoStepCodeReplayed, map[string]any{"Method": string(kind)})
	})
	if err == nil {
		s.kick()
	}
	return err
}

// BeginWebAuthn implements signin.Challenger.
func (s *Service) BeginWebAuthn(ctx context.Context, at *signin.Attempt) ([]byte, []byte, error) {
	if s.mfa == nil || s.mfa.WebAuthn == nil {
		return nil, nil, mamoru.Errorf(mamoru.EInvalidRequest, "security keys are not enabled")
	}
	creds, err := s.credentials(ctx, at.Account.ID)
	if err != nil {
		return nil, nil, err
	}
	return s.mfa.WebAuthn.BeginLogin(at.Account, ofKind(creds, mamoru.CredentialWebAuthn))
}

// VerifyWebAuthn implements signin.Challenger.
func (s *Service) VerifyWebAuthn(ctx context.Context, at *signin.Attempt, session, response []byte) error {
	return s.verifyAssertion(ctx, at.Account, session, response, at.Request)
}

// verifyAssertion checks a WebAuthn assertion of the account and records
// the credential's use (of two concurrent uses one wins).
func (s *Service) verifyAssertion(ctx context.Context, a *mamoru.Account, session, response []byte, r mamoru.Request) error {
	if s.mfa == nil || s.mfa.WebAuthn == nil {
		return invalidCode()
	}
	creds, err := s.credentials(ctx, a.ID)
	if err != nil {
		return err
	}
	c, err := s.mfa.WebAuthn.FinishLogin(a, ofKind(creds, mamoru.CredentialWebAuthn), session, response)
	if err != nil {
		s.webauthnRefused(a.ID, err)
		return err
	}
	return s.usedCredential(ctx, c)
}

// webauthnRefused logs a refused assertion; a counter that went back
// means a copied key.
func (s *Service) webauthnRefused(accountID string, err error) {
	if errors.Is(err, mfa.ErrClonedAuthenticator) {
		s.log.Warn("2-step: a security key's signature counter went back (copied key?)", "account", accountID)
	}
}

// usedCredential writes a credential's new use; a lost race is a refusal.
func (s *Service) usedCredential(ctx context.Context, c *mamoru.Credential) error {
	err := s.store.Update(ctx, func(tx mamoru.Tx) error { return tx.UpdateCredential(ctx, c) })
	if mamoru.ErrorCode(err) == mamoru.EConflict {
		return invalidCode()
	}
	return err
}

// BeginPasskey implements signin.Challenger.
func (s *Service) BeginPasskey(ctx context.Context) ([]byte, []byte, error) {
	if s.mfa == nil || s.mfa.WebAuthn == nil {
		return nil, nil, mamoru.Errorf(mamoru.EInvalidRequest, "passkeys are not enabled")
	}
	return s.mfa.WebAuthn.BeginDiscoverableLogin()
}

// FinishPasskey implements signin.Challenger.
func (s *Service) FinishPasskey(ctx context.Context, session, response []byte, r mamoru.Request) (*mamoru.Account, error) {
	if s.mfa == nil || s.mfa.WebAuthn == nil {
		return nil, invalidCode()
	}
	a, c, err := s.mfa.WebAuthn.FinishDiscoverableLogin(session, response, func(credentialID, _ []byte) (*mamoru.Account, []*mamoru.Credential, error) {
		var a *mamoru.Account
		var creds []*mamoru.Credential
		err := s.store.View(ctx, func(tx mamoru.Tx) error {
			c, err := tx.CredentialByWebAuthnID(ctx, credentialID)
			if err != nil {
				return err
			}
			if a, err = tx.AccountByID(ctx, c.AccountID); err != nil {
				return err
			}
			all, err := tx.ListCredentials(ctx, c.AccountID)
			creds = ofKind(all, mamoru.CredentialWebAuthn)
			return err
		})
		return a, creds, err
	})
	if err != nil {
		if a != nil {
			s.webauthnRefused(a.ID, err)
		}
		return nil, err
	}
	if err := s.usedCredential(ctx, c); err != nil {
		return nil, err
	}
	return a, nil
}
