package signin

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/mamoru-id/mamoru"
)

// StepApproval waits for the owner's answer to an approval request (seed
// 004: "someone who knows your password is trying to sign in"). The owner
// answers from a mail link (package account); the waiting client asks
// with Approval, and is signed in once approved.
const StepApproval = "approval"

// Approval implements mamoru.SignInService: the waiting client's question.
func (s *Service) Approval(ctx context.Context, in mamoru.ApprovalPoll, r mamoru.Request) (*mamoru.SignInResult, error) {
	f, err := s.load(ctx, in.FlowID, in.FlowSecret, StepApproval)
	if err != nil {
		return nil, err
	}
	st, err := readState(f)
	if err != nil {
		return nil, err
	}
	res := &mamoru.SignInResult{FlowID: f.ID}
	if st.Approval == nil {
		res.Status = mamoru.ApprovalRequired
		return res, nil
	}
	at, err := s.resume(ctx, f, st, r)
	if err != nil {
		return nil, err
	}
	if !st.Approval.Approved || at.Account.Status != mamoru.StatusActive {
		// The flow ends here; a second question finds it done.
		if _, err := s.advance(ctx, at, true, Verdict{Status: mamoru.ApprovalDenied}, res); err != nil {
			return nil, err
		}
		return s.failed(ctx, at, res, mamoru.ApprovalDenied)
	}
	return s.complete(ctx, at, true, "", res)
}

// ApprovalDecided implements mamoru.SignInService.
func (s *Service) ApprovalDecided(ctx context.Context, in mamoru.ApprovalPoll) (bool, error) {
	f, err := s.load(ctx, in.FlowID, in.FlowSecret, StepApproval)
	if err != nil {
		return false, err
	}
	st, err := readState(f)
	return err == nil && st.Approval != nil, err
}

// resume rebuilds the attempt of a flow waiting at a later step: its
// assessment (kept in the flow's state) and its account, as they are now.
func (s *Service) resume(ctx context.Context, f *mamoru.Flow, st flowState, r mamoru.Request) (*Attempt, error) {
	at := &Attempt{Flow: f, Request: r, Now: s.clock.Now(), Risk: st.Risk}
	err := s.store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		at.Account, err = tx.AccountByID(ctx, f.AccountID)
		return err
	})
	if err != nil {
		return nil, err
	}
	at.Email = at.Account.Email
	return at, nil
}

// readState decodes the state a flow keeps between steps.
func readState(f *mamoru.Flow) (flowState, error) {
	var st flowState
	if len(f.State) > 0 {
		if err := json.Unmarshal(f.State, &st); err != nil {
			return st, mamoru.WrapError(mamoru.EInternal, err, "sign-in flow state unreadable")
		}
	}
	return st, nil
}

// ApprovalOf returns the owner's answer kept with a flow waiting for
// approval, nil if none yet.
func ApprovalOf(f *mamoru.Flow) (*mamoru.ApprovalDecision, error) {
	st, err := readState(f)
	return st.Approval, err
}

// SetApproval records the owner's answer in the flow's state (the caller
// writes the flow with Tx.UpdateFlow, whose version check lets exactly one
// of two concurrent answers win).
func SetApproval(f *mamoru.Flow, d mamoru.ApprovalDecision) error {
	st, err := readState(f)
	if err != nil {
		return err
	}
	st.Approval = &d
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	f.State = b
	return nil
}

// Waiters wakes the clients that wait on a flow's approval in this process
// (server-sent events); other instances learn it by polling the store.
type Waiters struct {
	mu sync.Mutex
	m  map[string]map[chan struct{}]struct{}
}

// Wait returns a channel that is closed when Notify(flowID) runs, and a
// function that stops waiting.
func (w *Waiters) Wait(flowID string) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	w.mu.Lock()
	if w.m == nil {
		w.m = map[string]map[chan struct{}]struct{}{}
	}
	set := w.m[flowID]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		w.m[flowID] = set
	}
	set[ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if set, ok := w.m[flowID]; ok {
			if _, waiting := set[ch]; waiting {
				delete(set, ch)
				if len(set) == 0 {
					delete(w.m, flowID)
				}
			}
		}
	}
}

// Notify wakes every waiter of flowID.
func (w *Waiters) Notify(flowID string) {
	w.mu.Lock()
	set := w.m[flowID]
	delete(w.m, flowID)
	w.mu.Unlock()
	for ch := range set {
		close(ch)
	}
}

// Len returns how many clients wait, for metrics and benchmarks.
func (w *Waiters) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, set := range w.m {
		n += len(set)
	}
	return n
}
