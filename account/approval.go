package account

import (
	"context"
	"net/url"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/notify"
	"github.com/mamoru-id/mamoru/signin"
)

// approvalTTL is how long an approval request can be answered (seed 004's
// links expire in 10 minutes).
const approvalTTL = 10 * time.Minute

var _ mamoru.ApprovalService = (*Service)(nil)

// SendApproval mails the owner an approval request for the attempt (it
// runs in the transaction that moves the flow to signin.StepApproval):
// "Security alert: sign-in attempt detected — someone who knows your
// password is trying to sign in", with the date, device, approximate place
// and IP, and Approve / Deny links to a page that has only those buttons.
// The link is bound to the flow, single use and valid approvalTTL.
func (s *Service) SendApproval(at *signin.Attempt) func(ctx context.Context, tx mamoru.Tx, f *mamoru.Flow) error {
	return s.flowMail(at, mamoru.PurposeApproveSignIn, approvalTTL, notify.TemplateSignInApproval, func(t *issued) map[string]any {
		return map[string]any{
			"ApproveLink": s.mailer.Link("/signin/approval-request", url.Values{"token": {t.link}, "answer": {"approve"}}),
			"DenyLink":    s.mailer.Link("/signin/approval-request", url.Values{"token": {t.link}, "answer": {"deny"}}),
		}
	})
}

// approvalOf reads a link's token, its flow (nil if gone) and the view.
func (s *Service) approvalOf(ctx context.Context, tx mamoru.Tx, link string) (*mamoru.Token, *mamoru.Flow, *mamoru.ApprovalView, error) {
	tok, a, err := s.approvalToken(ctx, tx, link)
	if err != nil {
		return nil, nil, nil, err
	}
	v := &mamoru.ApprovalView{Language: a.Language, TimeZone: a.TimeZone}
	f, err := tx.FlowByID(ctx, tok.Data)
	if mamoru.ErrorCode(err) == mamoru.ENotFound || (err == nil && f.AccountID != tok.AccountID) {
		v.Expired = true
		return tok, nil, v, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	attempt := &mamoru.Event{IP: f.IP, UserAgent: f.UserAgent}
	s.events.Enrich(attempt)
	v.AttemptTime, v.AttemptIP, v.AttemptPlace, v.AttemptDevice = f.CreatedAt, attempt.IP, attempt.Place, attempt.Device
	d, err := signin.ApprovalOf(f)
	if err != nil {
		return nil, nil, nil, err
	}
	if d != nil {
		s.setDecision(v, d)
	}
	now := s.clock.Now()
	v.Expired = v.Decision == nil && (f.Step != signin.StepApproval || !now.Before(tok.ExpiresAt) || !now.Before(f.ExpiresAt) || !tok.UsedAt.IsZero())
	return tok, f, v, nil
}

// approvalToken returns an approval link's token, used or not, and its
// account; EInvalidCode for anything else.
func (s *Service) approvalToken(ctx context.Context, tx mamoru.Tx, link string) (*mamoru.Token, *mamoru.Account, error) {
	if len(link) == 0 || len(link) > 128 {
		return nil, nil, invalidCode()
	}
	tok, err := tx.TokenByLinkHash(ctx, s.linkHash(link))
	if mamoru.ErrorCode(err) == mamoru.ENotFound || (err == nil && tok.Purpose != mamoru.PurposeApproveSignIn) {
		return nil, nil, invalidCode()
	}
	if err != nil {
		return nil, nil, err
	}
	a, err := tx.AccountByID(ctx, tok.AccountID)
	return tok, a, err
}

// setDecision puts an answer, with the answerer's place and device, in a
// view.
func (s *Service) setDecision(v *mamoru.ApprovalView, d *mamoru.ApprovalDecision) {
	e := &mamoru.Event{IP: d.IP, UserAgent: d.UserAgent}
	s.events.Enrich(e)
	v.Decision, v.DecisionPlace, v.DecisionDev = d, e.Place, e.Device
}

// ApprovalLink implements mamoru.ApprovalService.
func (s *Service) ApprovalLink(ctx context.Context, link string) (*mamoru.ApprovalView, error) {
	var v *mamoru.ApprovalView
	err := s.store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		_, _, v, err = s.approvalOf(ctx, tx, link)
		return err
	})
	return v, err
}

// Decide implements mamoru.ApprovalService. The answer is kept with the
// flow (of two concurrent answers exactly one wins: the flow's version),
// the link is used up, and the answer is recorded. Approval lets the
// waiting client sign in; denial ends the attempt, and (unless configured
// otherwise) makes a new password required: whoever tried knows it. The
// clicker gets no session either way.
func (s *Service) Decide(ctx context.Context, link string, approve bool, r mamoru.Request) (*mamoru.ApprovalView, error) {
	var view *mamoru.ApprovalView
	var flowID, email string
	// The address the link is about, for its lock ("" for a bad link).
	_ = s.store.View(ctx, func(tx mamoru.Tx) error {
		if _, a, err := s.approvalToken(ctx, tx, link); err == nil {
			email = a.Email
		}
		return nil
	})
	// The checkpoint: throttled networks, and the lock of the address.
	pass, err := s.guard.Enter(ctx, &mamoru.GuardAttempt{Action: mamoru.GuardApproval, Request: r, Identifier: email})
	if err != nil {
		return nil, err
	}
	outcome := mamoru.GuardOutcome{}
	defer func() { pass.Done(ctx, outcome) }()
	err = s.store.Update(ctx, func(tx mamoru.Tx) error {
		tok, f, v, err := s.approvalOf(ctx, tx, link)
		if err != nil {
			return err
		}
		view = v
		if f == nil || v.Decision != nil || v.Expired {
			return invalidCode()
		}
		now := s.clock.Now()
		d := mamoru.ApprovalDecision{Approved: approve, At: now, IP: r.IP, UserAgent: r.UserAgent}
		if err := signin.SetApproval(f, d); err != nil {
			return err
		}
		f.UpdatedAt = now
		if err := tx.UpdateFlow(ctx, f); err != nil {
			if mamoru.ErrorCode(err) == mamoru.EConflict {
				return invalidCode() // another answer won
			}
			return err
		}
		if err := use(ctx, tx, tok, now); err != nil {
			return err
		}
		typ := mamoru.EventSignInApproved
		if !approve {
			typ = mamoru.EventSignInDenied
		}
		if _, err := s.record(ctx, tx, typ, tok.AccountID, r, map[string]string{mamoru.DetailActor: "owner"}); err != nil {
			return err
		}
		if !approve && !s.cfg.ApprovalDenyKeepsPassword {
			if _, err := s.requireResetIn(ctx, tx, tok.AccountID, "owner", "approval_denied", r); err != nil {
				return err
			}
		}
		flowID = f.ID
		s.setDecision(v, &d)
		return nil
	})
	if mamoru.ErrorCode(err) == mamoru.EInvalidCode {
		outcome.Result = mamoru.GuardFailure
		if view == nil || view.Decision == nil {
			// Reread: a concurrent answer may have won meanwhile.
			if v, verr := s.ApprovalLink(ctx, link); verr == nil {
				view = v
			}
		}
		return view, err
	}
	if err != nil {
		return nil, err
	}
	outcome.Result = mamoru.GuardSuccess
	s.kick()
	if s.onDecided != nil {
		s.onDecided(flowID)
	}
	return view, nil
}
