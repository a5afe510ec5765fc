package account

import (
	"context"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/emailaddr"
	"github.com/mamoru-id/mamoru/notify"
)

// SignUp implements mamoru.AccountService.
//
// Both outcomes (new account, address already taken) hash the password,
// run one write transaction and enqueue one message, so they take the same
// time and answer the same.
func (s *Service) SignUp(ctx context.Context, in mamoru.SignUpInput, r mamoru.Request) error {
	email, err := emailaddr.Normalize(in.Email)
	if err != nil {
		return err
	}
	lang, ok := mamoru.ParseLanguage(string(in.Language))
	if in.Language == "" {
		lang, ok = r.Language, true
		if _, known := mamoru.ParseLanguage(string(lang)); !known {
			lang = mamoru.English
		}
	}
	if !ok {
		return mamoru.Errorf(mamoru.EInvalidLanguage, "language must be ja or en")
	}
	pw := in.Password
	if err := s.checkNewPassword(ctx, pw); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	err = s.store.Update(ctx, func(tx mamoru.Tx) error {
		now := s.clock.Now()
		existing, err := tx.AccountByEmail(ctx, email)
		switch {
		case err == nil:
			return s.mailer.Enqueue(ctx, tx, s.mail(existing, notify.TemplateAccountExists, map[string]any{
				"SignInLink": s.mailer.Link("/signin", nil),
				"ForgotLink": s.mailer.Link("/password/forgot", nil),
			}))
		case mamoru.ErrorCode(err) != mamoru.ENotFound:
			return err
		}
		a := &mamoru.Account{
			ID: mamoru.NewID(), Email: email, PasswordHash: hash, PasswordChangedAt: now,
			Language: lang, Status: mamoru.StatusActive, CreatedAt: now, UpdatedAt: now,
		}
		if err := tx.CreateAccount(ctx, a); err != nil {
			return err
		}
		if _, err := s.record(ctx, tx, mamoru.EventAccountCreated, a.ID, r, nil); err != nil {
			return err
		}
		return s.sendVerification(ctx, tx, a)
	})
	if mamoru.ErrorCode(err) == mamoru.EConflict {
		// Two sign-ups of one address raced; the other created it. The
		// answer must not differ from any other sign-up.
		return nil
	}
	if err == nil {
		s.kick()
	}
	return err
}

func (s *Service) sendVerification(ctx context.Context, tx mamoru.Tx, a *mamoru.Account) error {
	return s.sendToken(ctx, tx, a, mamoru.PurposeVerifyEmail, s.cfg.VerifyTTL, notify.TemplateVerifyEmail, "/verify/link")
}

// ResendVerification implements mamoru.AccountService.
func (s *Service) ResendVerification(ctx context.Context, email string, r mamoru.Request) error {
	return s.forAddress(ctx, "resend_verification", email, func(ctx context.Context, tx mamoru.Tx, a *mamoru.Account) error {
		if a.EmailVerified() {
			return nil
		}
		return s.sendVerification(ctx, tx, a)
	})
}

// VerifyEmail implements mamoru.AccountService.
func (s *Service) VerifyEmail(ctx context.Context, email, code string) error {
	email, err := emailaddr.Normalize(email)
	if err != nil {
		return invalidCode()
	}
	a, tok, err := s.checkCode(ctx, email, code, mamoru.PurposeVerifyEmail)
	if err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx mamoru.Tx) error {
		return s.markVerified(ctx, tx, a.ID, tok)
	})
}

// VerifyEmailLink implements mamoru.AccountService.
func (s *Service) VerifyEmailLink(ctx context.Context, link string) error {
	return s.store.Update(ctx, func(tx mamoru.Tx) error {
		a, tok, err := s.checkLink(ctx, tx, link, mamoru.PurposeVerifyEmail)
		if err != nil {
			return err
		}
		return s.markVerified(ctx, tx, a.ID, tok)
	})
}

func (s *Service) markVerified(ctx context.Context, tx mamoru.Tx, accountID string, tok *mamoru.Token) error {
	now := s.clock.Now()
	if err := use(ctx, tx, tok, now); err != nil {
		return err
	}
	a, err := tx.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	if a.Email != tok.Email {
		return invalidCode()
	}
	if a.EmailVerifiedAt.IsZero() {
		a.EmailVerifiedAt = now
		a.UpdatedAt = now
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		_, err := s.record(ctx, tx, mamoru.EventEmailVerified, a.ID, mamoru.Request{}, map[string]string{mamoru.DetailNewEmail: a.Email})
		return err
	}
	return nil
}
