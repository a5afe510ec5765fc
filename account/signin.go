package account

import (
	"context"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/event"
	"github.com/mamoru-id/mamoru/notify"
	"github.com/mamoru-id/mamoru/risk"
	"github.com/mamoru-id/mamoru/signin"
)

var _ signin.Observer = (*Service)(nil)

// historyDepth is how many earlier sign-ins a new one is compared with to
// decide whether its device or place is new.
const historyDepth = 200

// SignedIn implements signin.Observer: it records the sign-in in the login
// history with its assessment, teaches the risk engine, and tells the
// owner with "was this you?" links when the decision says so (notify, or
// a challenge that the code passed). Without the engine (or in its audit
// mode) the owner is told when the device or the place is one the account
// has not signed in from (or signed up from) before.
func (s *Service) SignedIn(ctx context.Context, tx mamoru.Tx, at *signin.Attempt, a *mamoru.Account, sess *mamoru.Session, prepared any) error {
	e := event.FromRequest(mamoru.EventSignInSucceeded, a.ID, at.Request)
	e.SessionID, e.Outcome, e.Risk = sess.ID, mamoru.OutcomeSuccess, at.Risk
	if at.Request.DeviceID != "" {
		e.Details = map[string]string{mamoru.DetailDeviceID: at.Request.DeviceID}
	}
	if at.Method != "" {
		if e.Details == nil {
			e.Details = map[string]string{}
		}
		e.Details[mamoru.DetailMethod] = string(at.Method)
	}
	s.events.Enrich(e)
	isNew := ""
	if earlier, ok := prepared.([]*mamoru.Event); ok {
		if isNew = novelty(e, earlier); isNew != "" {
			if e.Details == nil {
				e.Details = map[string]string{}
			}
			e.Details[mamoru.DetailNew] = isNew
		}
	} else if at.Risk != nil {
		switch risk.Decision(at.Risk.Decision) {
		case risk.Notify, risk.Challenge, risk.Approval:
			isNew = at.Risk.Decision
		}
	}
	if err := s.events.Record(ctx, tx, e); err != nil {
		return err
	}
	if err := s.learn(ctx, tx, a.ID, fromEvent(e, at.Request.DeviceID)); err != nil {
		return err
	}
	if at.Remember {
		if err := s.remember(ctx, tx, a.ID, at.Request.DeviceID); err != nil {
			return err
		}
	}
	if isNew == "" {
		return nil
	}
	if err := s.notifyEvent(ctx, tx, a, e, notify.TemplateNewSignIn, nil); err != nil {
		return err
	}
	s.kick() // the worker waits for this transaction's commit to claim the message
	return nil
}

// Prepare implements signin.Observer: when no risk decision drives the
// notification (no engine, or audit mode), it reads the account's earlier
// sign-ins for the novelty rule, outside the write transaction. (Two
// sign-ins from one new device at the same moment may both be notified;
// that errs on the side of telling.)
func (s *Service) Prepare(ctx context.Context, at *signin.Attempt) (any, error) {
	if at.Risk != nil && !at.Risk.Audit {
		return nil, nil
	}
	var earlier []*mamoru.Event
	err := s.store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		earlier, err = tx.ListEvents(ctx, mamoru.EventFilter{AccountID: at.Account.ID, Limit: historyDepth,
			Types: []mamoru.EventType{mamoru.EventSignInSucceeded, mamoru.EventAccountCreated}})
		return err
	})
	return earlier, err
}

// Failed implements signin.Observer: every failed attempt is recorded,
// on the account when the address has one and on none otherwise, in one
// transaction either way, so both take the same time. The address tried
// is not kept. Wrong passwords count against the network's reputation.
func (s *Service) Failed(ctx context.Context, at *signin.Attempt, status mamoru.SignInStatus) error {
	id := ""
	if at.Account != nil {
		id = at.Account.ID
	}
	e := event.FromRequest(mamoru.EventSignInFailed, id, at.Request)
	e.Outcome, e.Risk = string(status), at.Risk
	err := s.store.Update(ctx, func(tx mamoru.Tx) error { return s.events.Record(ctx, tx, e) })
	if err == nil && status == mamoru.InvalidCredentials && at.Risk == nil {
		s.failedAttempt(at.Request, e.Place)
	}
	return err
}

// ResetRequiredCheck is a sign-in post-check: an account whose password
// must be replaced (by an operator, the secure-account flow or a breach)
// signs nobody in, even with the right password; a code and link to set a
// new one go to the registered address (「パスワードの再設定が必要です」).
func (s *Service) ResetRequiredCheck(ctx context.Context, at *signin.Attempt) (signin.Verdict, error) {
	if at.Account == nil || at.Account.ResetRequiredAt.IsZero() {
		return signin.Verdict{}, nil
	}
	err := s.store.Update(ctx, func(tx mamoru.Tx) error {
		a, err := tx.AccountByID(ctx, at.Account.ID)
		if err != nil {
			return err
		}
		// Whoever knows the password can trigger this: at most one code
		// per resendInterval, so it cannot flood the owner's mailbox.
		now := s.clock.Now()
		if last, err := tx.ActiveToken(ctx, a.ID, mamoru.PurposePasswordReset, now); err == nil && now.Sub(last.CreatedAt) < resendInterval {
			return nil
		}
		return s.sendToken(ctx, tx, a, mamoru.PurposePasswordReset, s.cfg.ResetTTL,
			notify.TemplatePasswordResetRequired, "/password/reset")
	})
	if err != nil {
		return signin.Verdict{}, err
	}
	s.kick()
	return signin.Verdict{Status: mamoru.PasswordResetRequired}, nil
}

// BreachCheck is a sign-in post-check: a right password that appears in
// the breach corpus is forced to a reset (seed 001: 「パスワードの再設定が必要です」):
// every session ends, a code goes to the registered address, and nothing
// else works until the password is replaced. The owner is told by that
// mail, and the event is recorded.
func (s *Service) BreachCheck(ctx context.Context, at *signin.Attempt) (signin.Verdict, error) {
	bad, err := s.breached(ctx, at.Password)
	if err != nil {
		// A dead online checker must not stop sign-ins.
		s.log.Warn("breach check failed; the sign-in goes on", "err", err)
		return signin.Verdict{}, nil
	}
	if !bad {
		return signin.Verdict{}, nil
	}
	return s.forceReset(ctx, at, "breached_password")
}

// forceReset makes a reset required for the attempt's account and ends
// the attempt with PasswordResetRequired.
func (s *Service) forceReset(ctx context.Context, at *signin.Attempt, reason string) (signin.Verdict, error) {
	if _, err := s.requireReset(ctx, at.Account.ID, "system", reason, at.Request); err != nil {
		return signin.Verdict{}, err
	}
	return signin.Verdict{Status: mamoru.PasswordResetRequired}, nil
}

// flowMail is the Prepare of a step that waits for the owner: in the
// transaction that moves the flow, it issues a token of the purpose bound
// to the flow (valid ttl) and mails the owner the template with the
// token's data, Minutes, and the details of the attempt (Time, Place,
// Device, IP).
func (s *Service) flowMail(at *signin.Attempt, purpose mamoru.TokenPurpose, ttl time.Duration, template string,
	data func(t *issued) map[string]any) func(ctx context.Context, tx mamoru.Tx, f *mamoru.Flow) error {
	return func(ctx context.Context, tx mamoru.Tx, f *mamoru.Flow) error {
		a, err := tx.AccountByID(ctx, f.AccountID)
		if err != nil {
			return err
		}
		t, err := s.issueToken(ctx, tx, a, purpose, ttl, f.ID)
		if err != nil {
			return err
		}
		e := event.FromRequest(mamoru.EventSignInFailed, a.ID, at.Request)
		s.events.Enrich(e)
		d := data(t)
		d["Minutes"] = int(ttl.Minutes())
		d["Time"], d["Place"], d["Device"], d["IP"] = e.Time, e.Place, e.Device, e.IP
		if err := s.mailer.Enqueue(ctx, tx, s.mail(a, template, d)); err != nil {
			return err
		}
		s.kick()
		return nil
	}
}
