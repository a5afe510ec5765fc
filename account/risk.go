package account

import (
	"context"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/event"
	"github.com/mamoru-id/mamoru/risk"
	"github.com/mamoru-id/mamoru/signin"
)

// Risk is the risk engine wired to the store: it assesses every sign-in
// with a right password (a sign-in post-check), learns from the legitimate
// ones and from the owner's answers, and counts failures for network
// reputation.
type Risk struct {
	Engine *risk.Engine
	Window *risk.Window // failures per IP and ASN, this process
	// Reputation, when set, replaces Window as the source of network
	// reputation (the guard's shared counters: every instance's failures).
	Reputation risk.Reputation
	Limits     risk.Limits

	// Global counts are popularity statistics: a legitimate sign-in adds
	// to pending, and FlushRisk writes pending in one transaction every
	// few seconds, so that a sign-in does not write a dozen hot rows.
	// Assessments read the stored counts plus pending.
	mu      sync.Mutex
	pending map[string]uint64
}

// add counts a legitimate sign-in's keys, in memory until the next flush.
func (r *Risk) add(keys []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		r.pending = map[string]uint64{}
	}
	for _, k := range keys {
		r.pending[k]++
	}
}

// withPending adds the counts not yet flushed to g.
func (r *Risk) withPending(g storeGlobal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range g {
		g[k] += r.pending[k]
	}
}

// take returns and forgets the counts not yet flushed.
func (r *Risk) take() map[string]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending
	r.pending = nil
	return p
}

// giveBack returns counts whose flush failed, to be tried again.
func (r *Risk) giveBack(p map[string]uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		r.pending = map[string]uint64{}
	}
	for k, n := range p {
		r.pending[k] += n
	}
}

// totalKey is the key of the global count of all legitimate sign-ins.
const totalKey = "total"

// countKey is the key of a feature value's global count.
func countKey(f risk.Feature, v string) string {
	k := string(f) + ":" + v
	if len(k) > 512 {
		k = k[:512]
	}
	return k
}

// riskAttempt describes a sign-in attempt for the engine, from the client
// of r at the current time.
func (s *Service) riskAttempt(r mamoru.Request) risk.Attempt {
	e := event.FromRequest(mamoru.EventSignInSucceeded, "", r)
	s.events.Enrich(e)
	return fromEvent(e, r.DeviceID)
}

// fromEvent describes a recorded attempt for the engine.
func fromEvent(e *mamoru.Event, deviceID string) risk.Attempt {
	ip, _ := netip.ParseAddr(e.IP)
	return risk.Attempt{Time: e.Time, IP: ip.Unmap(), Place: e.Place, Device: e.Device, UserAgent: e.UserAgent, DeviceID: deviceID}
}

// storeGlobal is global popularity read from the store for the values of
// one attempt.
type storeGlobal map[string]uint64

func (g storeGlobal) Count(f risk.Feature, v string) uint64 { return g[countKey(f, v)] }
func (g storeGlobal) Total() uint64                         { return g[totalKey] }

// keys returns the count keys of an attempt, total included.
func keys(a risk.Attempt) []string {
	vals := risk.Values(a)
	out := make([]string, 0, len(vals)+1)
	for f, v := range vals {
		out = append(out, countKey(f, v))
	}
	out = append(out, totalKey)
	sort.Strings(out)
	return out
}

// history reads the account's history in tx; a missing or unreadable one
// is empty (an unreadable blob is logged, and replaced on the next
// legitimate sign-in).
func (s *Service) history(ctx context.Context, tx mamoru.Tx, accountID string) (*risk.History, error) {
	data, err := tx.RiskHistory(ctx, accountID)
	if mamoru.ErrorCode(err) == mamoru.ENotFound {
		return risk.NewHistory(), nil
	}
	if err != nil {
		return nil, err
	}
	h, err := risk.DecodeHistory(data)
	if err != nil {
		s.log.Error("risk: unreadable history, starting afresh", "account", accountID, "err", err)
		return risk.NewHistory(), nil
	}
	return h, nil
}

// RiskCheck is the sign-in post-check of the risk engine. It assesses the
// attempt, keeps the assessment on it (recorded with its event, and shown
// in the login history) and acts on the decision: allow and notify sign
// in (notify tells the owner); challenge and approval stop for a code
// emailed to the account (until 2-step verification and sign-in approval
// land); deny answers as a wrong password would (the password's
// correctness is not revealed) and is recorded. In audit mode every
// decision is recorded and none enforced.
func (s *Service) RiskCheck(ctx context.Context, at *signin.Attempt) (signin.Verdict, error) {
	if s.risk == nil {
		return signin.Verdict{}, nil
	}
	a := s.riskAttempt(at.Request)
	if at.Wave {
		a.Flags |= risk.FlagAttackWave
	}
	var h *risk.History
	var g storeGlobal
	err := s.store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		if h, err = s.history(ctx, tx, at.Account.ID); err != nil {
			return err
		}
		g, err = tx.RiskCounts(ctx, keys(a))
		return err
	})
	if err != nil {
		return signin.Verdict{}, err
	}
	s.risk.withPending(g)
	var rep risk.Reputation
	switch {
	case s.risk.Reputation != nil:
		rep = s.risk.Reputation
	case s.risk.Window != nil:
		rep = s.risk.Window
	}
	as := s.risk.Engine.Assess(a, h, g, rep)
	at.Risk = summary(as)
	if as.Audit {
		return signin.Verdict{}, nil
	}
	if at.Wave && (as.Decision == risk.Challenge || as.Decision == risk.Approval) {
		// A right password from a stranger while a stuffing wave runs: the
		// password is taken to be on the attackers' list (seed 001).
		return s.forceReset(ctx, at, "attack_wave")
	}
	switch as.Decision {
	case risk.Challenge:
		return s.Challenge(ctx, at)
	case risk.Approval:
		// An account with 2-step methods proves the attempt with them:
		// an approval from the mailbox would be the weaker proof.
		if v, err := s.Challenge(ctx, at); err != nil || v.Methods[0] != mamoru.MethodEmail {
			return v, err
		}
		return signin.Verdict{Status: mamoru.ApprovalRequired, NextStep: signin.StepApproval, Prepare: s.SendApproval(at)}, nil
	case risk.Deny:
		return signin.Verdict{Status: mamoru.InvalidCredentials}, nil
	}
	return signin.Verdict{}, nil
}

// summary is what an event keeps of an assessment.
func summary(as risk.Assessment) *mamoru.RiskSummary {
	out := &mamoru.RiskSummary{Score: as.Score, Decision: string(as.Decision), Audit: as.Audit}
	for _, r := range as.Reasons {
		out.Reasons = append(out.Reasons, mamoru.RiskReason{Code: r.Code, Params: r.Params})
	}
	return out
}

// learn teaches the account's history and the global counts a legitimate
// sign-in, in tx.
func (s *Service) learn(ctx context.Context, tx mamoru.Tx, accountID string, a risk.Attempt) error {
	if s.risk == nil {
		return nil
	}
	h, err := s.history(ctx, tx, accountID)
	if err != nil {
		return err
	}
	h.Learn(a, s.risk.Limits)
	if err := tx.SaveRiskHistory(ctx, accountID, h.Encode(), s.clock.Now()); err != nil {
		return err
	}
	// Counted in memory now; if tx rolls back the count stays, which a
	// popularity statistic can bear.
	s.risk.add(keys(a))
	return nil
}

// FlushRisk writes the global counts gathered in memory since the last
// flush; call it every few seconds and at shutdown. A failed flush keeps
// the counts for the next one.
func (s *Service) FlushRisk(ctx context.Context) error {
	if s.risk == nil {
		return nil
	}
	p := s.risk.take()
	if len(p) == 0 {
		return nil
	}
	err := s.store.Update(ctx, func(tx mamoru.Tx) error { return tx.AddRiskCounts(ctx, p) })
	if err != nil {
		s.risk.giveBack(p)
	}
	return err
}

// RunRiskFlusher calls FlushRisk every interval until ctx ends, then once
// more.
func (s *Service) RunRiskFlusher(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.FlushRisk(context.WithoutCancel(ctx)); err != nil {
				s.log.Error("risk: flushing global counts at shutdown failed", "err", err)
			}
			return
		case <-t.C:
			if err := s.FlushRisk(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("risk: flushing global counts failed", "err", err)
			}
		}
	}
}

// markHostile records "this wasn't me" about the attempt of e in the
// account's history, in tx.
func (s *Service) markHostile(ctx context.Context, tx mamoru.Tx, e *mamoru.Event) error {
	if s.risk == nil || e.AccountID == "" {
		return nil
	}
	h, err := s.history(ctx, tx, e.AccountID)
	if err != nil {
		return err
	}
	h.MarkHostile(fromEvent(e, e.Details[mamoru.DetailDeviceID]))
	return tx.SaveRiskHistory(ctx, e.AccountID, h.Encode(), s.clock.Now())
}

// failed counts a failed attempt for network reputation.
func (s *Service) failedAttempt(r mamoru.Request, place mamoru.Place) {
	if s.risk == nil || s.risk.Window == nil || s.risk.Reputation != nil {
		return
	}
	ip, err := netip.ParseAddr(r.IP)
	if err != nil {
		return
	}
	s.risk.Window.Fail(ip.Unmap(), place.ASN, s.clock.Now())
}
