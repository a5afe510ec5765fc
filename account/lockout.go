package account

import (
	"context"
	"net/url"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/notify"
)

// unlockTTL is how long the unlock link of a lock notification works.
const unlockTTL = 24 * time.Hour

// NotifyLock is the guard's OnLock hook: in the transaction that locks an
// identifier after failed attempts, the owner (if the identifier has an
// account) gets one mail that says so, with the end of the lock, a link
// that ends it, advice to change the password, and the time, device,
// approximate place and IP of the attempt that locked it. The lock is
// recorded with that attempt's details. Nothing happens for an identifier
// with no account.
func (s *Service) NotifyLock(ctx context.Context, tx mamoru.Tx, identifier string, l *mamoru.Lockout, r mamoru.Request) error {
	a, err := tx.AccountByEmail(ctx, identifier)
	if mamoru.ErrorCode(err) == mamoru.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if a.Status == mamoru.StatusRestricted {
		return nil
	}
	e, err := s.record(ctx, tx, mamoru.EventSignInLockedOut, a.ID, r, map[string]string{
		mamoru.DetailActor: "system", mamoru.DetailReason: "failed_attempts",
	})
	if err != nil {
		return err
	}
	t, err := s.issueToken(ctx, tx, a, mamoru.PurposeUnlock, unlockTTL, "")
	if err != nil {
		return err
	}
	err = s.mailer.Enqueue(ctx, tx, s.mail(a, notify.TemplateSignInLocked, map[string]any{
		"Until": l.LockedUntil, "Time": e.Time, "Place": e.Place, "Device": e.Device, "IP": e.IP,
		"Link":    s.mailer.Link("/account/unlock", url.Values{"token": {t.link}}),
		"Minutes": int(unlockTTL.Minutes()),
	}))
	if err == nil {
		defer s.kick()
	}
	return err
}

// CheckUnlockLink reports whether an unlock link is usable (for the page
// that shows its button).
func (s *Service) CheckUnlockLink(ctx context.Context, link string) error {
	return s.store.View(ctx, func(tx mamoru.Tx) error {
		_, _, err := s.checkLink(ctx, tx, link, mamoru.PurposeUnlock)
		return err
	})
}

// Unlock ends the lock of the account's address with the link of the lock
// notification. The link works once; the lock's end is recorded.
func (s *Service) Unlock(ctx context.Context, link string, r mamoru.Request) error {
	return s.store.Update(ctx, func(tx mamoru.Tx) error {
		a, tok, err := s.checkLink(ctx, tx, link, mamoru.PurposeUnlock)
		if err != nil {
			return err
		}
		if err := use(ctx, tx, tok, s.clock.Now()); err != nil {
			return err
		}
		if err := s.guard.Unlock(ctx, tx, a.Email); err != nil {
			return err
		}
		_, err = s.record(ctx, tx, mamoru.EventAccountUnlocked, a.ID, r, map[string]string{mamoru.DetailActor: "owner"})
		return err
	})
}
