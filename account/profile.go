package account

import (
	"context"
	"net/url"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/display"
	"github.com/mamoru-id/mamoru/emailaddr"
	"github.com/mamoru-id/mamoru/notify"
	"github.com/mamoru-id/mamoru/phone"
)

// UpdateSettings implements mamoru.ProfileService.
func (s *Service) UpdateSettings(ctx context.Context, sess *mamoru.Session, in mamoru.SettingsInput, r mamoru.Request) (*mamoru.Account, error) {
	details := map[string]string{}
	if in.Language != nil {
		lang, ok := mamoru.ParseLanguage(string(*in.Language))
		if !ok {
			return nil, mamoru.Errorf(mamoru.EInvalidLanguage, "language must be ja or en")
		}
		in.Language = &lang
		details["language"] = string(lang)
	}
	if in.TimeZone != nil {
		if *in.TimeZone != "" && !display.ValidTimeZone(*in.TimeZone) {
			return nil, mamoru.Errorf(mamoru.EInvalidTimeZone, "unknown time zone")
		}
		details["time_zone"] = *in.TimeZone
	}
	var out *mamoru.Account
	err := s.store.Update(ctx, func(tx mamoru.Tx) error {
		a, err := tx.AccountByID(ctx, sess.AccountID)
		if err != nil {
			return err
		}
		if in.Language != nil {
			a.Language = *in.Language
		}
		if in.TimeZone != nil {
			a.TimeZone = *in.TimeZone
		}
		a.UpdatedAt = s.clock.Now()
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		out = a
		_, err = s.record(ctx, tx, mamoru.EventSettingsChanged, a.ID, r, details)
		return err
	})
	return out, err
}

// reauthenticate checks the current password of the session's account.
func (s *Service) reauthenticate(ctx context.Context, sess *mamoru.Session, pw string) (*mamoru.Account, error) {
	a, err := s.Account(ctx, sess.AccountID)
	if err != nil {
		return nil, err
	}
	ok, _, err := s.hasher.Verify(ctx, pw, a.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, mamoru.Errorf(mamoru.EPasswordIncorrect, "current password is incorrect")
	}
	return a, nil
}

// StartEmailChange implements mamoru.ProfileService.
func (s *Service) StartEmailChange(ctx context.Context, sess *mamoru.Session, newEmail, pw string, r mamoru.Request) error {
	email, err := emailaddr.Normalize(newEmail)
	if err != nil {
		return err
	}
	return s.sendChangeCode(ctx, sess, pw, mamoru.PurposeChangeEmail, email, func(tx mamoru.Tx, a *mamoru.Account) (bool, error) {
		if a.Email == email {
			return false, mamoru.Errorf(mamoru.EInvalidEmail, "this is the account's address already")
		}
		_, err := tx.AccountByEmail(ctx, email)
		switch mamoru.ErrorCode(err) {
		case "":
			return false, nil // taken: send nothing, answer the same (no enumeration)
		case mamoru.ENotFound:
			return true, nil
		}
		return false, err
	})
}

// sendChangeCode checks the password and sends a code proving the new
// address or number (target, the token's Data) to it: by email for an
// address, by SMS for a number. ok decides, in the transaction, whether to
// send; a pending code of the purpose dies either way.
func (s *Service) sendChangeCode(ctx context.Context, sess *mamoru.Session, pw string, purpose mamoru.TokenPurpose, target string,
	ok func(tx mamoru.Tx, a *mamoru.Account) (bool, error)) error {
	if err := s.requireStepUp(ctx, sess); err != nil {
		return err
	}
	if _, err := s.reauthenticate(ctx, sess, pw); err != nil {
		return err
	}
	err := s.store.Update(ctx, func(tx mamoru.Tx) error {
		a, err := tx.AccountByID(ctx, sess.AccountID)
		if err != nil {
			return err
		}
		send, err := ok(tx, a)
		if err != nil {
			return err
		}
		if !send {
			return tx.RevokeTokens(ctx, a.ID, purpose, s.clock.Now())
		}
		t, err := s.issueToken(ctx, tx, a, purpose, s.cfg.ChangeTTL, target)
		if err != nil {
			return err
		}
		data := map[string]any{"Code": t.code, "Minutes": int(s.cfg.ChangeTTL.Minutes())}
		m := s.mail(a, notify.TemplateEmailChangeCode, data)
		if purpose == mamoru.PurposeVerifyPhone {
			m = s.mail(a, notify.TemplatePhoneCode, data)
			m.Channel = mamoru.ChannelSMS
		}
		m.To = target
		return s.mailer.Enqueue(ctx, tx, m)
	})
	if err == nil {
		s.kick()
	}
	return err
}

// checkChangeCode checks a code of the purpose sent for the session's
// account.
func (s *Service) checkChangeCode(ctx context.Context, sess *mamoru.Session, code string, purpose mamoru.TokenPurpose) (*mamoru.Token, error) {
	_, tok, err := s.checkCodeOf(ctx, func(tx mamoru.Tx) (*mamoru.Account, error) { return tx.AccountByID(ctx, sess.AccountID) },
		code, purpose)
	return tok, err
}

// ConfirmEmailChange implements mamoru.ProfileService. The old address is
// told, with a link that reverts the change for RevertTTL.
func (s *Service) ConfirmEmailChange(ctx context.Context, sess *mamoru.Session, code string, r mamoru.Request) (*mamoru.Account, error) {
	tok, err := s.checkChangeCode(ctx, sess, code, mamoru.PurposeChangeEmail)
	if err != nil {
		return nil, err
	}
	var out *mamoru.Account
	err = s.store.Update(ctx, func(tx mamoru.Tx) error {
		now := s.clock.Now()
		if err := use(ctx, tx, tok, now); err != nil {
			return err
		}
		a, err := tx.AccountByID(ctx, sess.AccountID)
		if err != nil {
			return err
		}
		if a.Email != tok.Email {
			return invalidCode()
		}
		old := a.Email
		a.Email, a.EmailVerifiedAt, a.UpdatedAt = tok.Data, now, now
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		e, err := s.record(ctx, tx, mamoru.EventEmailChanged, a.ID, r,
			map[string]string{mamoru.DetailOldEmail: old, mamoru.DetailNewEmail: a.Email})
		if err != nil {
			return err
		}
		e.SessionID = sess.ID
		revert, err := s.issueToken(ctx, tx, a, mamoru.PurposeRevertEmail, s.cfg.RevertTTL, e.ID)
		if err != nil {
			return err
		}
		m := s.mail(a, notify.TemplateEmailChanged, map[string]any{
			"OldEmail": old, "NewEmailMasked": emailaddr.Mask(a.Email),
			"Time": e.Time, "Place": e.Place, "Device": e.Device, "IP": e.IP,
			"RevertLink": s.mailer.Link("/email/revert", url.Values{"token": {revert.link}}),
			"Days":       int(s.cfg.RevertTTL.Hours() / 24),
		})
		m.To = old
		out = a
		return s.mailer.Enqueue(ctx, tx, m)
	})
	if err != nil {
		return nil, err
	}
	s.kick()
	return out, nil
}

// RevertEmail implements mamoru.ActivityService.
func (s *Service) RevertEmail(ctx context.Context, link string, r mamoru.Request) (*mamoru.SecureAccountStart, error) {
	var start *mamoru.SecureAccountStart
	err := s.store.Update(ctx, func(tx mamoru.Tx) error {
		_, tok, err := s.checkLink(ctx, tx, link, mamoru.PurposeRevertEmail)
		if err != nil {
			return err
		}
		e, err := tx.EventByID(ctx, tok.Data)
		if mamoru.ErrorCode(err) == mamoru.ENotFound {
			return invalidCode()
		}
		if err != nil {
			return err
		}
		if err := use(ctx, tx, tok, s.clock.Now()); err != nil {
			return err
		}
		a, err := tx.AccountByID(ctx, tok.AccountID)
		if err != nil {
			return err
		}
		old := e.Details[mamoru.DetailOldEmail]
		if old != "" && a.Email != old {
			now := s.clock.Now()
			details := map[string]string{mamoru.DetailOldEmail: a.Email, mamoru.DetailNewEmail: old, mamoru.DetailEventID: e.ID}
			a.Email, a.EmailVerifiedAt, a.UpdatedAt = old, now, now
			if err := tx.UpdateAccount(ctx, a); err != nil {
				if mamoru.ErrorCode(err) == mamoru.EConflict {
					return mamoru.Errorf(mamoru.EConflict, "the old address belongs to another account now")
				}
				return err
			}
			if _, err := s.record(ctx, tx, mamoru.EventEmailChangeReverted, a.ID, r, details); err != nil {
				return err
			}
		}
		if err := tx.SetEventFeedback(ctx, e.ID, mamoru.FeedbackDenied, s.clock.Now()); err != nil && mamoru.ErrorCode(err) != mamoru.EConflict {
			return err
		}
		start, err = s.startSecure(ctx, tx, a, a.Email, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.kick()
	return start, nil
}

// StartPhoneChange implements mamoru.ProfileService.
func (s *Service) StartPhoneChange(ctx context.Context, sess *mamoru.Session, number, pw string, r mamoru.Request) error {
	e164, err := phone.Normalize(number, s.cfg.PhoneRegion)
	if err != nil {
		return err
	}
	return s.sendChangeCode(ctx, sess, pw, mamoru.PurposeVerifyPhone, e164,
		func(mamoru.Tx, *mamoru.Account) (bool, error) { return true, nil })
}

// ConfirmPhoneChange implements mamoru.ProfileService.
func (s *Service) ConfirmPhoneChange(ctx context.Context, sess *mamoru.Session, code string, r mamoru.Request) (*mamoru.Account, error) {
	tok, err := s.checkChangeCode(ctx, sess, code, mamoru.PurposeVerifyPhone)
	if err != nil {
		return nil, err
	}
	return s.setPhone(ctx, sess, tok, tok.Data, r)
}

// RemovePhone implements mamoru.ProfileService.
func (s *Service) RemovePhone(ctx context.Context, sess *mamoru.Session, pw string, r mamoru.Request) (*mamoru.Account, error) {
	if err := s.requireStepUp(ctx, sess); err != nil {
		return nil, err
	}
	if _, err := s.reauthenticate(ctx, sess, pw); err != nil {
		return nil, err
	}
	return s.setPhone(ctx, sess, nil, "", r)
}

// setPhone sets (or with "" removes) the account's number, using tok if
// given, and tells the owner by email and the old number by SMS.
func (s *Service) setPhone(ctx context.Context, sess *mamoru.Session, tok *mamoru.Token, number string, r mamoru.Request) (*mamoru.Account, error) {
	var out *mamoru.Account
	err := s.store.Update(ctx, func(tx mamoru.Tx) error {
		now := s.clock.Now()
		if tok != nil {
			if err := use(ctx, tx, tok, now); err != nil {
				return err
			}
		}
		a, err := tx.AccountByID(ctx, sess.AccountID)
		if err != nil {
			return err
		}
		old := a.Phone
		if old == number {
			out = a
			return nil
		}
		a.Phone, a.UpdatedAt = number, now
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		typ := mamoru.EventPhoneChanged
		if number == "" {
			typ = mamoru.EventPhoneRemoved
		}
		e, err := s.record(ctx, tx, typ, a.ID, r, map[string]string{mamoru.DetailOldPhone: old, mamoru.DetailNewPhone: number})
		if err != nil {
			return err
		}
		e.SessionID = sess.ID
		extra := map[string]any{"NewPhoneMasked": mask(number), "OldPhoneMasked": mask(old)}
		if err := s.notifyEvent(ctx, tx, a, e, notify.TemplatePhoneChanged, extra); err != nil {
			return err
		}
		out = a
		if old == "" {
			return nil
		}
		m := s.mail(a, notify.TemplatePhoneChanged, nil)
		m.To, m.Channel = old, mamoru.ChannelSMS
		return s.mailer.Enqueue(ctx, tx, m)
	})
	if err != nil {
		return nil, err
	}
	s.kick()
	return out, nil
}

func mask(number string) string {
	if number == "" {
		return ""
	}
	return phone.Mask(number)
}
