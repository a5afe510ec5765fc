package account

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"slices"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/emailaddr"
	"github.com/mamoru-id/mamoru/notify"
)

// The secure-account flow: "this wasn't me" ends every session and makes
// a new password required at once (the attacker's sessions die, and the
// password they know stops working); the owner proves the mailbox with an
// emailed code and sets a new password; then the recent changes to the
// email address, the phone number (and later the 2-step settings) are
// listed for one-click undo. The flow is bound to the client that began it
// (Flow.BindingHash) and lasts Config.SecureFlowTTL.

// Secure implements mamoru.SecureAccountService over a Service (its
// method names would clash with AccountService's).
type Secure struct{ s *Service }

var _ mamoru.SecureAccountService = Secure{}

// Secure returns the secure-account flow service.
func (s *Service) Secure() Secure { return Secure{s} }

// secureState is the flow's State.
type secureState struct {
	To     string   `json:"to"` // where the codes go (always set by startSecure)
	Undone []string `json:"undone,omitempty"`
}

// undoableTypes are the changes the review step lists.
var undoableTypes = []mamoru.EventType{mamoru.EventEmailChanged, mamoru.EventPhoneChanged, mamoru.EventPhoneRemoved}

// resendInterval is the least time between two codes of one flow.
const resendInterval = 30 * time.Second

// startSecure begins the flow for a in tx; the codes go to the address
// to. A flow begun from an emailed link sends them to the address that got
// the link, which may differ from the account's address if an attacker
// changed it since: the owner must be able to finish.
func (s *Service) startSecure(ctx context.Context, tx mamoru.Tx, a *mamoru.Account, to string, r mamoru.Request) (*mamoru.SecureAccountStart, error) {
	now := s.clock.Now()
	if err := s.sessions.RevokeAllIn(ctx, tx, a.ID, mamoru.RevokeSecureAccount, ""); err != nil {
		return nil, err
	}
	if a.ResetRequiredAt.IsZero() {
		a.ResetRequiredAt = now
	}
	a.UpdatedAt = now
	if err := tx.UpdateAccount(ctx, a); err != nil {
		return nil, err
	}
	secret := mamoru.NewSecret()
	state, err := json.Marshal(secureState{To: to})
	if err != nil {
		return nil, err
	}
	f := &mamoru.Flow{
		ID: mamoru.NewID(), Kind: mamoru.FlowSecureAccount, BindingHash: mamoru.HashSecret(secret),
		AccountID: a.ID, Step: mamoru.SecureStepReset, State: state, IP: r.IP, UserAgent: r.UserAgent,
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(s.cfg.SecureFlowTTL),
	}
	if err := tx.CreateFlow(ctx, f); err != nil {
		return nil, err
	}
	if _, err := s.record(ctx, tx, mamoru.EventSecureAccountStarted, a.ID, r, nil); err != nil {
		return nil, err
	}
	if err := s.sendSecureCode(ctx, tx, a, to); err != nil {
		return nil, err
	}
	return &mamoru.SecureAccountStart{FlowID: f.ID, FlowSecret: secret}, nil
}

// sendSecureCode mails a new password-reset code of the flow to the
// address to.
func (s *Service) sendSecureCode(ctx context.Context, tx mamoru.Tx, a *mamoru.Account, to string) error {
	t, err := s.issueToken(ctx, tx, a, mamoru.PurposeSecureAccount, s.cfg.ResetTTL, "")
	if err != nil {
		return err
	}
	m := s.mail(a, notify.TemplateSecureAccount, map[string]any{"Code": t.code, "Minutes": int(s.cfg.ResetTTL.Minutes())})
	m.To = to
	return s.mailer.Enqueue(ctx, tx, m)
}

func secureExpired() error {
	return mamoru.Errorf(mamoru.EFlowExpired, "secure-account flow is unknown, expired or bound to another client")
}

// loadSecure reads the flow in tx if the client holds its secret.
func (s *Service) loadSecure(ctx context.Context, tx mamoru.Tx, id, secret string) (*mamoru.Flow, *secureState, error) {
	if id == "" || secret == "" || len(id) > 64 || len(secret) > 128 {
		return nil, nil, secureExpired()
	}
	f, err := tx.FlowByID(ctx, id)
	if mamoru.ErrorCode(err) == mamoru.ENotFound {
		return nil, nil, secureExpired()
	}
	if err != nil {
		return nil, nil, err
	}
	if f.Kind != mamoru.FlowSecureAccount || subtle.ConstantTimeCompare(f.BindingHash, mamoru.HashSecret(secret)) != 1 ||
		!s.clock.Now().Before(f.ExpiresAt) {
		return nil, nil, secureExpired()
	}
	var st secureState
	if err := json.Unmarshal(f.State, &st); err != nil {
		return nil, nil, err
	}
	return f, &st, nil
}

// state describes the flow for the client.
func (s *Service) state(ctx context.Context, tx mamoru.Tx, f *mamoru.Flow, st *secureState) (*mamoru.SecureAccountState, error) {
	out := &mamoru.SecureAccountState{Step: f.Step, MaskedEmail: emailaddr.Mask(st.To), Undone: st.Undone}
	if f.Step == mamoru.SecureStepReview {
		var err error
		out.Changes, err = tx.ListEvents(ctx, mamoru.EventFilter{AccountID: f.AccountID, Types: undoableTypes,
			Since: f.CreatedAt.Add(-s.cfg.UndoWindow), Limit: maxPage})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// State implements mamoru.SecureAccountService.
func (x Secure) State(ctx context.Context, flowID, secret string) (*mamoru.SecureAccountState, error) {
	s := x.s
	var out *mamoru.SecureAccountState
	err := s.store.View(ctx, func(tx mamoru.Tx) error {
		f, st, err := s.loadSecure(ctx, tx, flowID, secret)
		if err != nil {
			return err
		}
		out, err = s.state(ctx, tx, f, st)
		return err
	})
	return out, err
}

// ResendCode implements mamoru.SecureAccountService. A request within
// resendInterval of the last code sends nothing and answers the same.
func (x Secure) ResendCode(ctx context.Context, flowID, secret string, r mamoru.Request) error {
	s := x.s
	err := s.store.Update(ctx, func(tx mamoru.Tx) error {
		f, st, err := s.loadSecure(ctx, tx, flowID, secret)
		if err != nil {
			return err
		}
		if f.Step != mamoru.SecureStepReset {
			return secureExpired()
		}
		a, err := tx.AccountByID(ctx, f.AccountID)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		last, err := tx.ActiveToken(ctx, a.ID, mamoru.PurposeSecureAccount, now)
		if err == nil && now.Sub(last.CreatedAt) < resendInterval {
			return nil
		}
		return s.sendSecureCode(ctx, tx, a, st.To)
	})
	if err == nil {
		s.kick()
	}
	return err
}

// ResetPassword implements mamoru.SecureAccountService.
func (x Secure) ResetPassword(ctx context.Context, flowID, secret, code, pw string, r mamoru.Request) (*mamoru.SecureAccountState, error) {
	s := x.s
	var accountID string
	err := s.store.View(ctx, func(tx mamoru.Tx) error {
		f, _, err := s.loadSecure(ctx, tx, flowID, secret)
		if err == nil && f.Step != mamoru.SecureStepReset {
			err = secureExpired()
		}
		if err == nil {
			accountID = f.AccountID
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.checkNewPassword(ctx, pw); err != nil {
		return nil, err
	}
	_, tok, err := s.checkCodeOf(ctx, func(tx mamoru.Tx) (*mamoru.Account, error) { return tx.AccountByID(ctx, accountID) },
		code, mamoru.PurposeSecureAccount)
	if err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return nil, err
	}
	var out *mamoru.SecureAccountState
	err = s.store.Update(ctx, func(tx mamoru.Tx) error {
		f, st, err := s.loadSecure(ctx, tx, flowID, secret)
		if err != nil {
			return err
		}
		if f.Step != mamoru.SecureStepReset {
			return secureExpired()
		}
		if err := use(ctx, tx, tok, s.clock.Now()); err != nil {
			return err
		}
		a, err := tx.AccountByID(ctx, accountID)
		if err != nil {
			return err
		}
		if err := s.setPassword(ctx, tx, a, hash, r); err != nil {
			return err
		}
		f.Step, f.UpdatedAt = mamoru.SecureStepReview, s.clock.Now()
		if err := tx.UpdateFlow(ctx, f); err != nil {
			return err
		}
		if _, err := s.record(ctx, tx, mamoru.EventSecureAccountCompleted, a.ID, r, nil); err != nil {
			return err
		}
		out, err = s.state(ctx, tx, f, st)
		return err
	})
	if mamoru.ErrorCode(err) == mamoru.EConflict {
		return nil, secureExpired()
	}
	if err != nil {
		return nil, err
	}
	s.kick()
	return out, nil
}

// Undo implements mamoru.SecureAccountService.
func (x Secure) Undo(ctx context.Context, flowID, secret, eventID string, r mamoru.Request) (*mamoru.SecureAccountState, error) {
	s := x.s
	var out *mamoru.SecureAccountState
	err := s.store.Update(ctx, func(tx mamoru.Tx) error {
		f, st, err := s.loadSecure(ctx, tx, flowID, secret)
		if err != nil {
			return err
		}
		if f.Step != mamoru.SecureStepReview {
			return secureExpired()
		}
		cur, err := s.state(ctx, tx, f, st)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(cur.Changes, func(e *mamoru.Event) bool { return e.ID == eventID })
		if i < 0 {
			return mamoru.Errorf(mamoru.ENotFound, "no such change")
		}
		if slices.Contains(st.Undone, eventID) {
			return mamoru.Errorf(mamoru.EConflict, "undone already")
		}
		if err := s.undo(ctx, tx, f.AccountID, cur.Changes[i], r); err != nil {
			return err
		}
		st.Undone = append(st.Undone, eventID)
		if f.State, err = json.Marshal(st); err != nil {
			return err
		}
		f.UpdatedAt = s.clock.Now()
		if err := tx.UpdateFlow(ctx, f); err != nil {
			return err
		}
		out, err = s.state(ctx, tx, f, st)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.kick()
	return out, nil
}

// undo reverts one change in tx and records it.
func (s *Service) undo(ctx context.Context, tx mamoru.Tx, accountID string, e *mamoru.Event, r mamoru.Request) error {
	a, err := tx.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	details := map[string]string{mamoru.DetailEventID: e.ID}
	switch e.Type {
	case mamoru.EventEmailChanged:
		old := e.Details[mamoru.DetailOldEmail]
		if old == "" {
			return mamoru.Errorf(mamoru.EConflict, "the change has no old address")
		}
		details[mamoru.DetailOldEmail], details[mamoru.DetailNewEmail] = a.Email, old
		a.Email, a.EmailVerifiedAt = old, now
	case mamoru.EventPhoneChanged, mamoru.EventPhoneRemoved:
		details[mamoru.DetailOldPhone], details[mamoru.DetailNewPhone] = a.Phone, e.Details[mamoru.DetailOldPhone]
		a.Phone = e.Details[mamoru.DetailOldPhone]
	default:
		return mamoru.Errorf(mamoru.EConflict, "this change cannot be undone")
	}
	a.UpdatedAt = now
	if err := tx.UpdateAccount(ctx, a); err != nil {
		if mamoru.ErrorCode(err) == mamoru.EConflict {
			return mamoru.Errorf(mamoru.EConflict, "the old address belongs to another account now")
		}
		return err
	}
	if e.Type == mamoru.EventEmailChanged {
		if _, err := s.record(ctx, tx, mamoru.EventEmailChangeReverted, a.ID, r, details); err != nil {
			return err
		}
	}
	_, err = s.record(ctx, tx, mamoru.EventChangeUndone, a.ID, r, details)
	return err
}
