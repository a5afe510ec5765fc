package account

import (
	"context"
	"slices"

	"github.com/mamoru-id/mamoru"
)

// maxPage is the most events one page of history returns.
const maxPage = 100

// signInTypes are the events of the login history.
var signInTypes = []mamoru.EventType{mamoru.EventSignInSucceeded, mamoru.EventSignInFailed}

// securityTypes are the events of the security events page: everything
// but sign-in attempts and sent notifications.
var securityTypes = func() []mamoru.EventType {
	var out []mamoru.EventType
	for _, t := range mamoru.EventTypes {
		if !slices.Contains(signInTypes, t) && t != mamoru.EventNotificationSent {
			out = append(out, t)
		}
	}
	return out
}()

func (s *Service) list(ctx context.Context, accountID string, types []mamoru.EventType, p mamoru.Page) ([]*mamoru.Event, error) {
	limit := p.Limit
	if limit <= 0 || limit > maxPage {
		limit = maxPage
	}
	var out []*mamoru.Event
	err := s.store.View(ctx, func(tx mamoru.Tx) error {
		if p.Before != "" {
			e, err := tx.EventByID(ctx, p.Before)
			if err != nil || e.AccountID != accountID {
				return mamoru.Errorf(mamoru.ENotFound, "no such event")
			}
		}
		var err error
		out, err = tx.ListEvents(ctx, mamoru.EventFilter{AccountID: accountID, Types: types, BeforeID: p.Before, Limit: limit})
		return err
	})
	return out, err
}

// LoginHistory implements mamoru.ActivityService.
func (s *Service) LoginHistory(ctx context.Context, accountID string, p mamoru.Page) ([]*mamoru.Event, error) {
	return s.list(ctx, accountID, signInTypes, p)
}

// Events implements mamoru.ActivityService.
func (s *Service) Events(ctx context.Context, accountID string, p mamoru.Page) ([]*mamoru.Event, error) {
	return s.list(ctx, accountID, securityTypes, p)
}

// answerable reports whether the owner may answer "was this you?" for e:
// things done to the account, not the answers themselves.
func answerable(e *mamoru.Event) bool {
	switch e.Type {
	case mamoru.EventConfirmed, mamoru.EventDenied, mamoru.EventNotificationSent,
		mamoru.EventSecureAccountStarted, mamoru.EventSecureAccountCompleted, mamoru.EventChangeUndone:
		return false
	}
	return true
}

// ownEvent reads one of the account's answerable events in tx.
func ownEvent(ctx context.Context, tx mamoru.Tx, accountID, eventID string) (*mamoru.Event, error) {
	e, err := tx.EventByID(ctx, eventID)
	if mamoru.ErrorCode(err) == mamoru.ENotFound || (err == nil && (e.AccountID != accountID || !answerable(e))) {
		return nil, mamoru.Errorf(mamoru.ENotFound, "no such event")
	}
	return e, err
}

// confirm records "yes, that was me" in tx.
func (s *Service) confirm(ctx context.Context, tx mamoru.Tx, e *mamoru.Event, r mamoru.Request) error {
	if err := tx.SetEventFeedback(ctx, e.ID, mamoru.FeedbackConfirmed, s.clock.Now()); err != nil {
		return err
	}
	if e.Type == mamoru.EventSignInSucceeded || e.Type == mamoru.EventSignInFailed {
		// "This was me" teaches the risk engine the attempt's device and place.
		if err := s.learn(ctx, tx, e.AccountID, fromEvent(e, e.Details[mamoru.DetailDeviceID])); err != nil {
			return err
		}
	}
	_, err := s.record(ctx, tx, mamoru.EventConfirmed, e.AccountID, r, map[string]string{mamoru.DetailEventID: e.ID})
	return err
}

// deny records "no, that wasn't me" in tx (an earlier "yes" does not stop
// a later "no": the owner may have been wrong) and starts the
// secure-account flow, whose codes go to the address to ("" for the
// account's).
func (s *Service) deny(ctx context.Context, tx mamoru.Tx, e *mamoru.Event, to string, r mamoru.Request) (*mamoru.SecureAccountStart, error) {
	err := tx.SetEventFeedback(ctx, e.ID, mamoru.FeedbackDenied, s.clock.Now())
	if err != nil && mamoru.ErrorCode(err) != mamoru.EConflict {
		return nil, err
	}
	if _, err := s.record(ctx, tx, mamoru.EventDenied, e.AccountID, r, map[string]string{mamoru.DetailEventID: e.ID}); err != nil {
		return nil, err
	}
	if e.Type == mamoru.EventSignInSucceeded || e.Type == mamoru.EventSignInFailed {
		// "This wasn't me" makes the attempt's values hostile for the account.
		if err := s.markHostile(ctx, tx, e); err != nil {
			return nil, err
		}
	}
	a, err := tx.AccountByID(ctx, e.AccountID)
	if err != nil {
		return nil, err
	}
	if to == "" {
		to = a.Email
	}
	return s.startSecure(ctx, tx, a, to, r)
}

// ConfirmEvent implements mamoru.ActivityService.
func (s *Service) ConfirmEvent(ctx context.Context, sess *mamoru.Session, eventID string, r mamoru.Request) error {
	return s.store.Update(ctx, func(tx mamoru.Tx) error {
		e, err := ownEvent(ctx, tx, sess.AccountID, eventID)
		if err != nil {
			return err
		}
		return s.confirm(ctx, tx, e, r)
	})
}

// DenyEvent implements mamoru.ActivityService.
func (s *Service) DenyEvent(ctx context.Context, sess *mamoru.Session, eventID string, r mamoru.Request) (*mamoru.SecureAccountStart, error) {
	var start *mamoru.SecureAccountStart
	err := s.store.Update(ctx, func(tx mamoru.Tx) error {
		e, err := ownEvent(ctx, tx, sess.AccountID, eventID)
		if err != nil {
			return err
		}
		start, err = s.deny(ctx, tx, e, "", r)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.kick()
	return start, nil
}

// answerLink reads the event of a "was this you?" link in tx.
func (s *Service) answerLink(ctx context.Context, tx mamoru.Tx, link string) (*mamoru.Token, *mamoru.Event, error) {
	_, tok, err := s.checkLink(ctx, tx, link, mamoru.PurposeEventFeedback)
	if err != nil {
		return nil, nil, err
	}
	e, err := ownEvent(ctx, tx, tok.AccountID, tok.Data)
	if mamoru.ErrorCode(err) == mamoru.ENotFound {
		return nil, nil, invalidCode() // the event is past its retention
	}
	return tok, e, err
}

// CheckAnswerLink implements mamoru.ActivityService.
func (s *Service) CheckAnswerLink(ctx context.Context, link string) (*mamoru.Event, error) {
	var e *mamoru.Event
	err := s.store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		_, e, err = s.answerLink(ctx, tx, link)
		return err
	})
	return e, err
}

// AnswerLink implements mamoru.ActivityService.
func (s *Service) AnswerLink(ctx context.Context, link string, yes bool, r mamoru.Request) (*mamoru.SecureAccountStart, error) {
	var start *mamoru.SecureAccountStart
	err := s.store.Update(ctx, func(tx mamoru.Tx) error {
		tok, e, err := s.answerLink(ctx, tx, link)
		if err != nil {
			return err
		}
		if err := use(ctx, tx, tok, s.clock.Now()); err != nil {
			return err
		}
		if yes {
			err := s.confirm(ctx, tx, e, r)
			if mamoru.ErrorCode(err) == mamoru.EConflict {
				return nil // answered already; "yes" changes nothing
			}
			return err
		}
		// The codes go where the link went: the account's address may be
		// an attacker's by now.
		start, err = s.deny(ctx, tx, e, tok.Email, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.kick()
	return start, nil
}
