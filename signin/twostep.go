package signin

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/mamoru-id/mamoru"
)

// The rules of the second step (OWASP ASVS 5 V6, NIST SP 800-63B 5.2.2):
// five wrong proofs end the flow, whatever the method; a new code may be
// asked for every ResendInterval, at most MaxSends codes per flow.
const (
	MaxTries       = 5
	ResendInterval = 30 * time.Second
	MaxSends       = 5
)

// Challenger checks the proofs of the second step (package account
// implements it). Each method compares in constant time and accepts a
// code once.
type Challenger interface {
	// VerifyCode checks a code of m (TOTP, backup code, SMS or email) for
	// the attempt's account and flow: nil for the right one, EInvalidCode
	// otherwise (a wrong, used, expired or replayed code).
	VerifyCode(ctx context.Context, at *Attempt, m mamoru.Method, code string) error
	// SendCode sends a new code of m (SMS or email) bound to the flow, in
	// the transaction that records it, replacing the last one; it returns
	// where it went (masked).
	SendCode(ctx context.Context, tx mamoru.Tx, at *Attempt, f *mamoru.Flow, m mamoru.Method) (string, error)
	// BeginWebAuthn returns the options for the account's security keys
	// and passkeys and the ceremony's session (kept in the flow).
	BeginWebAuthn(ctx context.Context, at *Attempt) (options, session []byte, err error)
	// VerifyWebAuthn checks an assertion against the session.
	VerifyWebAuthn(ctx context.Context, at *Attempt, session, response []byte) error
	// BeginPasskey returns the options and session of a passkey-first
	// sign-in (discoverable credentials).
	BeginPasskey(ctx context.Context) (options, session []byte, err error)
	// FinishPasskey returns the account whose passkey made the assertion;
	// EInvalidCode if it does not verify.
	FinishPasskey(ctx context.Context, session, response []byte, r mamoru.Request) (*mamoru.Account, error)
}

// SetChallenger sets the checker of the second step; call it before the
// Service is used. Without one, the second step refuses everything.
func (s *Service) SetChallenger(c Challenger) { s.challenger = c }

// second loads a flow at step (the client holds it) and its state, for
// a step the challenger checks.
func (s *Service) second(ctx context.Context, id, secret, step string) (*mamoru.Flow, flowState, error) {
	f, err := s.load(ctx, id, secret, step)
	if err != nil {
		return nil, flowState{}, err
	}
	if s.challenger == nil {
		return nil, flowState{}, noChallenger()
	}
	st, err := readState(f)
	return f, st, err
}

func noChallenger() error {
	return mamoru.Errorf(mamoru.EInvalidCode, "no second step can be checked")
}

// saveState writes the flow with a new state; EConflict (another request
// moved the flow) becomes flowExpired.
func (s *Service) saveState(ctx context.Context, f *mamoru.Flow, st flowState, step string) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	g := *f
	g.State, g.UpdatedAt = b, s.clock.Now()
	if step != "" {
		g.Step = step
	}
	err = s.store.Update(ctx, func(tx mamoru.Tx) error { return tx.UpdateFlow(ctx, &g) })
	if mamoru.ErrorCode(err) == mamoru.EConflict {
		return flowExpired()
	}
	if err == nil {
		*f = g
	}
	return err
}

// method is the method a step names, checked against the flow's.
func method(st flowState, m mamoru.Method) (mamoru.Method, error) {
	if m == "" && len(st.Methods) > 0 {
		m = st.Methods[0]
	}
	if m == "" && st.Methods == nil {
		// A flow from before the methods were kept: an emailed code.
		return mamoru.MethodEmail, nil
	}
	if !slices.Contains(st.Methods, m) {
		return "", mamoru.Errorf(mamoru.EInvalidRequest, "method %q is not offered for this sign-in", m)
	}
	return m, nil
}

// SubmitCode implements mamoru.SignInService: the second step. The proof
// is checked after the checkpoint (a wrong one counts against the
// account's identifier like a wrong password); five wrong proofs end the
// flow.
func (s *Service) SubmitCode(ctx context.Context, in mamoru.CodeStep, r mamoru.Request) (*mamoru.SignInResult, error) {
	f, st, err := s.second(ctx, in.FlowID, in.FlowSecret, StepCode)
	if err != nil {
		return nil, err
	}
	m, err := method(st, in.Method)
	if err != nil {
		return nil, err
	}
	at, err := s.resume(ctx, f, st, r)
	if err != nil {
		return nil, err
	}
	pass, err := s.guard.Enter(ctx, &mamoru.GuardAttempt{Action: mamoru.GuardCode, Request: r, Identifier: at.Email})
	if err != nil {
		return nil, err
	}
	outcome := mamoru.GuardOutcome{}
	defer func() { pass.Done(ctx, outcome) }()
	at.Wave = pass.Wave()
	// The try is counted on the flow before the proof is checked, so
	// that parallel guesses cannot check more than MaxTries proofs.
	if st, err = s.reserveTry(ctx, f); err != nil {
		return nil, err
	}
	if m == mamoru.MethodWebAuthn {
		if st.WebAuthn == nil {
			return nil, mamoru.Errorf(mamoru.EInvalidRequest, "ask for the WebAuthn options first")
		}
		err = s.challenger.VerifyWebAuthn(ctx, at, st.WebAuthn, in.Credential)
	} else {
		err = s.challenger.VerifyCode(ctx, at, m, in.Code)
	}
	if err != nil {
		switch mamoru.ErrorCode(err) {
		case mamoru.EInvalidCode, mamoru.EFlowExpired:
			outcome.Result = mamoru.GuardFailure
			if st.Tries >= MaxTries {
				if _, ferr := s.failed(ctx, at, &mamoru.SignInResult{FlowID: f.ID}, mamoru.InvalidCredentials); ferr != nil {
					return nil, ferr
				}
				_ = s.endFlow(ctx, f.ID)
				return nil, mamoru.Errorf(mamoru.EFlowExpired, "too many wrong codes: the sign-in is over")
			}
		}
		return nil, err
	}
	if at.Account.Status != mamoru.StatusActive {
		return s.failed(ctx, at, &mamoru.SignInResult{FlowID: f.ID}, mamoru.InvalidCredentials)
	}
	at.Method = m
	at.Remember = in.Remember && m.SecondFactor()
	// The proof was accepted once (the code or the credential's use is
	// single): other tries of this flow may have written it meanwhile, so
	// the sign-in completes on the flow as it is now.
	for range MaxTries + 1 {
		if at.Flow, err = s.reload(ctx, f.ID, StepCode); err != nil {
			return nil, err
		}
		res, err := s.complete(ctx, at, true, "", &mamoru.SignInResult{FlowID: f.ID})
		if err == nil {
			outcome.Result = mamoru.GuardSuccess
			return res, nil
		}
		if mamoru.ErrorCode(err) != mamoru.EFlowExpired {
			return nil, err
		}
	}
	return nil, flowExpired()
}

// reload reads the flow again; flowExpired unless it still waits for step.
func (s *Service) reload(ctx context.Context, id, step string) (*mamoru.Flow, error) {
	f, err := s.fetch(ctx, id)
	if err != nil {
		return nil, err
	}
	if f.Step != step || !s.clock.Now().Before(f.ExpiresAt) {
		return nil, flowExpired()
	}
	return f, nil
}

// reserveTry counts a try of the second step on the flow (read, add,
// write with the flow's version; again on a concurrent write) and returns
// the state with it; EFlowExpired once MaxTries were counted.
func (s *Service) reserveTry(ctx context.Context, f *mamoru.Flow) (flowState, error) {
	for range 2 * MaxTries {
		st, err := readState(f)
		if err != nil {
			return st, err
		}
		if st.Tries >= MaxTries {
			return st, mamoru.Errorf(mamoru.EFlowExpired, "too many wrong codes: the sign-in is over")
		}
		st.Tries++
		err = s.saveState(ctx, f, st, "")
		if err == nil {
			return st, nil
		}
		if mamoru.ErrorCode(err) != mamoru.EFlowExpired {
			return st, err
		}
		if f, err = s.reload(ctx, f.ID, StepCode); err != nil {
			return st, err
		}
	}
	return flowState{}, flowExpired()
}

// endFlow marks a flow at the second step done.
func (s *Service) endFlow(ctx context.Context, id string) error {
	for range MaxTries {
		f, err := s.reload(ctx, id, StepCode)
		if err != nil {
			return nil // done already, or gone
		}
		g := *f
		g.Step, g.UpdatedAt = StepDone, s.clock.Now()
		err = s.store.Update(ctx, func(tx mamoru.Tx) error { return tx.UpdateFlow(ctx, &g) })
		if mamoru.ErrorCode(err) != mamoru.EConflict {
			return err
		}
	}
	return nil
}

// ResendCode implements mamoru.SignInService.
func (s *Service) ResendCode(ctx context.Context, in mamoru.FlowRef, m mamoru.Method, r mamoru.Request) (*mamoru.SignInResult, error) {
	f, st, err := s.second(ctx, in.FlowID, in.FlowSecret, StepCode)
	if err != nil {
		return nil, err
	}
	if m, err = method(st, m); err != nil {
		return nil, err
	}
	if m != mamoru.MethodSMS && m != mamoru.MethodEmail {
		return nil, mamoru.Errorf(mamoru.EInvalidRequest, "method %q sends no code", m)
	}
	now := s.clock.Now()
	if st.Sends >= MaxSends {
		return nil, &mamoru.Error{Code: mamoru.ERateLimited, Message: "no more codes for this sign-in", RetryAfter: f.ExpiresAt.Sub(now)}
	}
	if wait := st.SentAt.Add(ResendInterval).Sub(now); !st.SentAt.IsZero() && wait > 0 {
		return nil, &mamoru.Error{Code: mamoru.ERateLimited, Message: "a code was sent moments ago", RetryAfter: wait}
	}
	at, err := s.resume(ctx, f, st, r)
	if err != nil {
		return nil, err
	}
	st.Sends++
	st.SentAt = now
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	g := *f
	g.State, g.UpdatedAt = b, now
	err = s.store.Update(ctx, func(tx mamoru.Tx) error {
		to, err := s.challenger.SendCode(ctx, tx, at, &g, m)
		if err != nil {
			return err
		}
		st.SentTo = to
		if g.State, err = json.Marshal(st); err != nil {
			return err
		}
		return tx.UpdateFlow(ctx, &g)
	})
	if mamoru.ErrorCode(err) == mamoru.EConflict {
		return nil, flowExpired()
	}
	if err != nil {
		return nil, err
	}
	return &mamoru.SignInResult{Status: mamoru.ChallengeRequired, FlowID: f.ID, Methods: st.Methods, SentTo: st.SentTo}, nil
}

// WebAuthnOptions implements mamoru.SignInService: each call begins a new
// ceremony, replacing the last.
func (s *Service) WebAuthnOptions(ctx context.Context, in mamoru.FlowRef, r mamoru.Request) ([]byte, error) {
	f, st, err := s.second(ctx, in.FlowID, in.FlowSecret, StepCode)
	if err != nil {
		return nil, err
	}
	if _, err := method(st, mamoru.MethodWebAuthn); err != nil {
		return nil, err
	}
	at, err := s.resume(ctx, f, st, r)
	if err != nil {
		return nil, err
	}
	options, session, err := s.challenger.BeginWebAuthn(ctx, at)
	if err != nil {
		return nil, err
	}
	st.WebAuthn = session
	if err := s.saveState(ctx, f, st, ""); err != nil {
		return nil, err
	}
	return options, nil
}

// BeginPasskey implements mamoru.SignInService.
func (s *Service) BeginPasskey(ctx context.Context, r mamoru.Request) (*mamoru.PasskeyStart, error) {
	if s.challenger == nil {
		return nil, noChallenger()
	}
	options, session, err := s.challenger.BeginPasskey(ctx)
	if err != nil {
		return nil, err
	}
	f, secret := s.newFlow(r)
	f.Step = StepPasskey
	if f.State, err = json.Marshal(flowState{WebAuthn: session}); err != nil {
		return nil, err
	}
	if err := s.store.Update(ctx, func(tx mamoru.Tx) error { return tx.CreateFlow(ctx, f) }); err != nil {
		return nil, err
	}
	return &mamoru.PasskeyStart{FlowID: f.ID, FlowSecret: secret, Options: options}, nil
}

// SubmitPasskey implements mamoru.SignInService. A passkey made with user
// verification is two factors (the device and its PIN or biometrics): it
// signs in at AAL2 without a password or a second step. An account whose
// password must be replaced is not signed in: nothing works until the
// reset.
func (s *Service) SubmitPasskey(ctx context.Context, in mamoru.PasskeyStep, r mamoru.Request) (*mamoru.SignInResult, error) {
	f, st, err := s.second(ctx, in.FlowID, in.FlowSecret, StepPasskey)
	if err != nil {
		return nil, err
	}
	// No identifier is known before the assertion is verified: the
	// network's throttles and CAPTCHA apply.
	pass, err := s.guard.Enter(ctx, &mamoru.GuardAttempt{Action: mamoru.GuardCode, Request: r})
	if err != nil {
		return nil, err
	}
	outcome := mamoru.GuardOutcome{}
	defer func() { pass.Done(ctx, outcome) }()
	res := &mamoru.SignInResult{FlowID: f.ID}
	a, err := s.challenger.FinishPasskey(ctx, st.WebAuthn, in.Credential, r)
	if err != nil {
		if mamoru.ErrorCode(err) == mamoru.EInvalidCode {
			outcome.Result = mamoru.GuardFailure
			// One assertion per ceremony: the flow is over either way.
			if serr := s.saveState(ctx, f, flowState{}, StepDone); serr != nil {
				return nil, serr
			}
		}
		return nil, err
	}
	at := &Attempt{Flow: f, Request: r, Now: s.clock.Now(), Account: a, Email: a.Email, Wave: pass.Wave(), Method: mamoru.MethodWebAuthn}
	switch {
	case a.Status != mamoru.StatusActive:
		return s.failed(ctx, at, res, mamoru.InvalidCredentials)
	case !a.ResetRequiredAt.IsZero():
		if _, err := s.advance(ctx, at, true, Verdict{Status: mamoru.PasswordResetRequired}, res); err != nil {
			return nil, err
		}
		return s.failed(ctx, at, res, mamoru.PasswordResetRequired)
	}
	res, err = s.complete(ctx, at, true, "", res)
	if err == nil {
		outcome.Result = mamoru.GuardSuccess
	}
	return res, err
}
