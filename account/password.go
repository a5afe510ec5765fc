package account

import (
	"context"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/emailaddr"
	"github.com/mamoru-id/mamoru/notify"
)

// ForgotPassword implements mamoru.AccountService.
//
// It keeps working while the address is locked (a lock must not become a
// denial of service for the owner); only the network throttles apply.
func (s *Service) ForgotPassword(ctx context.Context, email string, r mamoru.Request) error {
	pass, err := s.guard.Enter(ctx, &mamoru.GuardAttempt{Action: mamoru.GuardForgot, Request: r})
	if err != nil {
		return err
	}
	pass.Done(ctx, mamoru.GuardOutcome{})
	return s.forAddress(ctx, "forgot_password", email, func(ctx context.Context, tx mamoru.Tx, a *mamoru.Account) error {
		if a.Status == mamoru.StatusRestricted {
			// A permanent restriction is an operator's decision that a
			// reset must not undo; say nothing.
			return nil
		}
		if _, err := s.record(ctx, tx, mamoru.EventPasswordResetRequested, a.ID, r, nil); err != nil {
			return err
		}
		return s.sendToken(ctx, tx, a, mamoru.PurposePasswordReset, s.cfg.ResetTTL, notify.TemplatePasswordReset, "/password/reset")
	})
}

// CheckResetLink implements mamoru.AccountService.
func (s *Service) CheckResetLink(ctx context.Context, link string) error {
	return s.store.View(ctx, func(tx mamoru.Tx) error {
		_, _, err := s.checkLink(ctx, tx, link, mamoru.PurposePasswordReset)
		return err
	})
}

// ResetPassword implements mamoru.AccountService. The new password is
// checked first (a refused password uses up nothing), then the proof, then
// the hash is computed and the proof used in one transaction with the
// password change, the end of every session and the notification.
func (s *Service) ResetPassword(ctx context.Context, in mamoru.ResetInput, r mamoru.Request) error {
	pw := in.Password
	if err := s.checkNewPassword(ctx, pw); err != nil {
		return err
	}
	// The checkpoint: throttled networks are refused, and a wrong code
	// counts against its network. The lock of the address does not
	// apply: the reset is how its owner gets back in.
	pass, err := s.guard.Enter(ctx, &mamoru.GuardAttempt{Action: mamoru.GuardReset, Request: r})
	if err != nil {
		return err
	}
	outcome := mamoru.GuardOutcome{}
	defer func() { pass.Done(ctx, outcome) }()
	var tok *mamoru.Token
	if in.Token != "" {
		err = s.store.View(ctx, func(tx mamoru.Tx) error {
			var err error
			_, tok, err = s.checkLink(ctx, tx, in.Token, mamoru.PurposePasswordReset)
			return err
		})
	} else {
		var email string
		if email, err = emailaddr.Normalize(in.Email); err != nil {
			return invalidCode()
		}
		_, tok, err = s.checkCode(ctx, email, in.Code, mamoru.PurposePasswordReset)
	}
	if mamoru.ErrorCode(err) == mamoru.EInvalidCode {
		outcome.Result = mamoru.GuardFailure
	}
	if err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	err = s.store.Update(ctx, func(tx mamoru.Tx) error {
		now := s.clock.Now()
		if err := use(ctx, tx, tok, now); err != nil {
			return err
		}
		a, err := tx.AccountByID(ctx, tok.AccountID)
		if err != nil {
			return err
		}
		if a.Email != tok.Email {
			return invalidCode()
		}
		if err := s.guard.Unlock(ctx, tx, a.Email); err != nil {
			return err
		}
		return s.setPassword(ctx, tx, a, hash, r)
	})
	if err == nil {
		s.kick()
	}
	return err
}

// setPassword replaces the password of a (read in tx) after a reset,
// ends every session, uses up pending reset tokens, clears a required
// reset, and records and tells it.
func (s *Service) setPassword(ctx context.Context, tx mamoru.Tx, a *mamoru.Account, hash string, r mamoru.Request) error {
	now := s.clock.Now()
	a.PasswordHash = hash
	a.PasswordChangedAt = now
	a.ResetRequiredAt = time.Time{}
	a.UpdatedAt = now
	if a.EmailVerifiedAt.IsZero() {
		a.EmailVerifiedAt = now // the reset proved the mailbox
	}
	if err := tx.UpdateAccount(ctx, a); err != nil {
		return err
	}
	if err := s.sessions.RevokeAllIn(ctx, tx, a.ID, mamoru.RevokePasswordReset, ""); err != nil {
		return err
	}
	for _, p := range []mamoru.TokenPurpose{mamoru.PurposePasswordReset, mamoru.PurposeSecureAccount} {
		if err := tx.RevokeTokens(ctx, a.ID, p, now); err != nil {
			return err
		}
	}
	e, err := s.record(ctx, tx, mamoru.EventPasswordReset, a.ID, r, nil)
	if err != nil {
		return err
	}
	return s.notifyEvent(ctx, tx, a, e, notify.TemplatePasswordResetDone, nil)
}

// ChangePassword implements mamoru.AccountService.
func (s *Service) ChangePassword(ctx context.Context, sess *mamoru.Session, in mamoru.ChangePasswordInput, r mamoru.Request) (*mamoru.Session, string, error) {
	if err := s.requireStepUp(ctx, sess); err != nil {
		return nil, "", err
	}
	pw := in.New
	if err := s.checkNewPassword(ctx, pw); err != nil {
		return nil, "", err
	}
	a, err := s.Account(ctx, sess.AccountID)
	if err != nil {
		return nil, "", err
	}
	ok, _, err := s.hasher.Verify(ctx, in.Current, a.PasswordHash)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		return nil, "", mamoru.Errorf(mamoru.EPasswordIncorrect, "current password is incorrect")
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return nil, "", err
	}
	var fresh *mamoru.Session
	var token string
	err = s.store.Update(ctx, func(tx mamoru.Tx) error {
		now := s.clock.Now()
		a, err := tx.AccountByID(ctx, sess.AccountID)
		if err != nil {
			return err
		}
		a.PasswordHash = hash
		a.PasswordChangedAt = now
		a.ResetRequiredAt = time.Time{}
		a.UpdatedAt = now
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		if in.SignOutOthers {
			if err := s.sessions.RevokeAllIn(ctx, tx, a.ID, mamoru.RevokePasswordChange, sess.ID); err != nil {
				return err
			}
		}
		if fresh, token, err = s.sessions.Rotate(ctx, tx, sess, r); err != nil {
			return err
		}
		e, err := s.record(ctx, tx, mamoru.EventPasswordChanged, a.ID, r, map[string]string{mamoru.DetailActor: "owner"})
		if err != nil {
			return err
		}
		e.SessionID = fresh.ID
		return s.notifyEvent(ctx, tx, a, e, notify.TemplatePasswordChanged, nil)
	})
	if err != nil {
		return nil, "", err
	}
	s.kick()
	return fresh, token, nil
}
