package account

import (
	"context"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/notify"
)

// operator is the request of operator actions: no client.
var operator = mamoru.Request{}

// SetStatus is an operator's lock, permanent restriction or unlock of the
// account. Locking and restricting end every session. The owner is told
// (each status has its own message) and the change is recorded. It
// returns the account and how many sessions ended.
func (s *Service) SetStatus(ctx context.Context, accountID string, st mamoru.AccountStatus, reason string) (*mamoru.Account, int, error) {
	if !st.Valid() {
		return nil, 0, mamoru.Errorf(mamoru.EInvalidRequest, "unknown status %q", st)
	}
	var out *mamoru.Account
	var ended int
	err := s.store.Update(ctx, func(tx mamoru.Tx) error {
		a, err := tx.AccountByID(ctx, accountID)
		if err != nil {
			return err
		}
		if a.Status == st {
			out = a
			return nil
		}
		now := s.clock.Now()
		a.Status, a.UpdatedAt = st, now
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		typ, template := mamoru.EventAccountUnlocked, notify.TemplateAccountUnlocked
		switch st {
		case mamoru.StatusLocked:
			typ, template = mamoru.EventAccountLocked, notify.TemplateAccountLocked
		case mamoru.StatusRestricted:
			typ, template = mamoru.EventAccountRestricted, notify.TemplateAccountRestricted
		}
		if st != mamoru.StatusActive {
			ids, err := tx.RevokeSessions(ctx, a.ID, now, mamoru.RevokeOperator, "")
			if err != nil {
				return err
			}
			ended = len(ids)
			if err := s.sessions.Ended(ctx, tx, ids, mamoru.RevokeOperator); err != nil {
				return err
			}
		}
		details := map[string]string{mamoru.DetailActor: "operator"}
		if reason != "" {
			details[mamoru.DetailReason] = reason
		}
		e, err := s.record(ctx, tx, typ, a.ID, operator, details)
		if err != nil {
			return err
		}
		data := map[string]any{"Time": e.Time}
		if reason != "" {
			data["Reason"] = reason
		}
		out = a
		return s.mailer.Enqueue(ctx, tx, s.mail(a, template, data))
	})
	if err != nil {
		return nil, 0, err
	}
	s.kick()
	return out, ended, nil
}

// RequireReset makes a new password required for the account (an
// operator's decision): every session ends, the password stops signing
// anyone in, and a code and link to set a new one go to the registered
// address. It returns how many sessions ended.
func (s *Service) RequireReset(ctx context.Context, accountID, reason string) (int, error) {
	return s.requireReset(ctx, accountID, "operator", reason, operator)
}

// requireReset is RequireReset by any actor ("operator", or "system" for a
// breached password or a right password used in an attack wave).
func (s *Service) requireReset(ctx context.Context, accountID, actor, reason string, r mamoru.Request) (int, error) {
	var ended int
	err := s.store.Update(ctx, func(tx mamoru.Tx) error {
		var err error
		ended, err = s.requireResetIn(ctx, tx, accountID, actor, reason, r)
		return err
	})
	if err != nil {
		return 0, err
	}
	s.kick()
	return ended, nil
}

// requireResetIn is requireReset inside the caller's transaction (the
// caller kicks the worker after commit).
func (s *Service) requireResetIn(ctx context.Context, tx mamoru.Tx, accountID, actor, reason string, r mamoru.Request) (int, error) {
	a, err := tx.AccountByID(ctx, accountID)
	if err != nil {
		return 0, err
	}
	now := s.clock.Now()
	a.ResetRequiredAt, a.UpdatedAt = now, now
	if err := tx.UpdateAccount(ctx, a); err != nil {
		return 0, err
	}
	ids, err := tx.RevokeSessions(ctx, a.ID, now, mamoru.RevokeResetRequired, "")
	if err != nil {
		return 0, err
	}
	if err := s.sessions.Ended(ctx, tx, ids, mamoru.RevokeResetRequired); err != nil {
		return 0, err
	}
	details := map[string]string{mamoru.DetailActor: actor}
	if reason != "" {
		details[mamoru.DetailReason] = reason
	}
	if _, err := s.record(ctx, tx, mamoru.EventPasswordResetRequired, a.ID, r, details); err != nil {
		return 0, err
	}
	return len(ids), s.sendToken(ctx, tx, a, mamoru.PurposePasswordReset, s.cfg.ResetTTL,
		notify.TemplatePasswordResetRequired, "/password/reset")
}
