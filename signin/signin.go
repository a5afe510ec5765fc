// Package signin runs sign-in flows: one state machine per attempt, bound
// to a flow ID and to the client that began it (which holds the flow's
// secret). It implements mamoru.SignInService.
//
// A flow moves through steps:
//
//	begin -> password -> [code | approval] -> done
//	begin passkey -> passkey -> done
//
// Every step first passes the checkpoint of attack protection
// (mamoru.Guard: throttles, CAPTCHA, lockout), which may refuse it before
// anything is hashed. The password step then runs, in order, the
// pre-checks (cheap, before any hashing), the password verification (argon2id,
// or a dummy verification for an unknown address so that every failure
// takes the same time), and the post-checks (later the breach check and
// the risk assessment), whose verdict may end the step with another status
// than signed_in or move the flow to another step. Checks are added with
// Service.AddPreCheck and Service.AddPostCheck; the flow's steps are named
// in its Step field, so new steps extend the machine without rewriting it.
//
// This package must not know about HTTP or cookies.
package signin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/emailaddr"
	"github.com/mamoru-id/mamoru/password"
	"github.com/mamoru-id/mamoru/session"
)

// Step names.
const (
	StepPassword = "password"
	StepCode     = "code"    // the second step: a code, backup code or security key (ChallengeRequired)
	StepPasskey  = "passkey" // passkey-first sign-in, waiting for the assertion
	StepDone     = "done"
)

// Config tunes sign-in flows.
type Config struct {
	FlowTTL time.Duration // how long a flow may take (default 15m)
}

// Attempt is what the checks see of one password step.
type Attempt struct {
	Flow     *mamoru.Flow
	Email    string          // normalized; "" if the input was not an address
	Account  *mamoru.Account // nil if unknown
	Password string          // normalized; only post-checks of a right password see it
	Request  mamoru.Request
	Now      time.Time
	// Risk is the risk assessment, set by the risk check (a post-check);
	// it is recorded with the attempt and kept in the flow across a code
	// step.
	Risk *mamoru.RiskSummary
	// Wave is true when an attack wave touches the attempt (the
	// checkpoint's attack mode): a new device must be challenged and a
	// right password is forced to a reset.
	Wave bool
	// Method is the method that passed the second step ("" if none); a
	// second factor makes the session AAL2.
	Method mamoru.Method
	// Remember: the owner asked that this device skip the second step
	// for a while (set with a Method that is a second factor).
	Remember bool
}

// flowState is what a flow waiting for a later step keeps of its attempt.
type flowState struct {
	Risk *mamoru.RiskSummary `json:"risk,omitempty"`
	// Approval is the owner's answer, at StepApproval.
	Approval *mamoru.ApprovalDecision `json:"approval,omitempty"`
	// The second step (StepCode): the methods it accepts, where the last
	// code went, the WebAuthn ceremony under way, the wrong proofs so far
	// and the codes sent.
	Methods  []mamoru.Method `json:"methods,omitempty"`
	SentTo   string          `json:"sent_to,omitempty"`
	WebAuthn []byte          `json:"webauthn,omitempty"`
	Tries    int             `json:"tries,omitempty"`
	Sends    int             `json:"sends,omitempty"`
	SentAt   time.Time       `json:"sent_at,omitzero"`
}

// Verdict is a check's decision. The zero Verdict lets the attempt go on.
type Verdict struct {
	// Status ends the step with this status when not "".
	Status mamoru.SignInStatus
	// NextStep moves the flow to another step instead of signing in.
	NextStep string
	// Prepare, with NextStep, runs in the transaction that moves the flow
	// (sending the code of StepCode, bound to the flow).
	Prepare func(ctx context.Context, tx mamoru.Tx, f *mamoru.Flow) error
	// Methods, with NextStep StepCode, are the methods the second step
	// accepts, and SentTo where Prepare sent the first one's code (a
	// masked address or number; "" when nothing was sent).
	Methods []mamoru.Method
	SentTo  string
}

// Check is one decision of the password step. An error aborts the
// attempt with that error.
type Check func(ctx context.Context, a *Attempt) (Verdict, error)

// Observer learns the outcome of every password step, to record it (the
// login history) and tell the owner (new sign-in notifications).
type Observer interface {
	// Prepare runs after a right password (and code), before the
	// transaction that issues the session, for reads that need not hold
	// that transaction (on SQLite, the one writer) open; its result goes
	// to SignedIn.
	Prepare(ctx context.Context, at *Attempt) (any, error)
	// SignedIn runs inside the transaction that issues the session; a is
	// the account as updated there.
	SignedIn(ctx context.Context, tx mamoru.Tx, at *Attempt, a *mamoru.Account, s *mamoru.Session, prepared any) error
	// Failed runs after an attempt that signed nobody in, whatever the
	// reason: a.Account is nil for an unknown address. It must take about
	// the same time whether or not the account exists.
	Failed(ctx context.Context, a *Attempt, status mamoru.SignInStatus) error
}

// Service implements mamoru.SignInService.
type Service struct {
	store      mamoru.Store
	hasher     *password.Hasher
	sessions   *session.Manager
	clock      mamoru.Clock
	log        *slog.Logger
	cfg        Config
	pre        []Check
	post       []Check
	observer   Observer
	challenger Challenger
	guard      mamoru.Guard
}

// SetGuard sets the checkpoint every step passes; call it before the
// Service is used. Without one, every attempt passes (mamoru.OpenGuard).
func (s *Service) SetGuard(g mamoru.Guard) { s.guard = g }

var _ mamoru.SignInService = (*Service)(nil)

// New returns a Service.
func New(store mamoru.Store, hasher *password.Hasher, sessions *session.Manager, clock mamoru.Clock, log *slog.Logger, cfg Config) *Service {
	if cfg.FlowTTL <= 0 {
		cfg.FlowTTL = 15 * time.Minute
	}
	return &Service{store: store, hasher: hasher, sessions: sessions, clock: clock, log: log, cfg: cfg, guard: mamoru.OpenGuard{}}
}

// AddPreCheck adds a check that runs before the password is verified.
// Pre-checks see no Account verdict on the password and must be cheap.
func (s *Service) AddPreCheck(c Check) { s.pre = append(s.pre, c) }

// AddPostCheck adds a check that runs after a right password.
func (s *Service) AddPostCheck(c Check) { s.post = append(s.post, c) }

// SetObserver sets the observer of outcomes; call it before the Service
// is used.
func (s *Service) SetObserver(o Observer) { s.observer = o }

// failed ends the attempt with a status that signs nobody in, telling the
// observer.
func (s *Service) failed(ctx context.Context, at *Attempt, res *mamoru.SignInResult, status mamoru.SignInStatus) (*mamoru.SignInResult, error) {
	res.Status = status
	if s.observer != nil {
		if err := s.observer.Failed(ctx, at, status); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// Begin implements mamoru.SignInService.
func (s *Service) Begin(ctx context.Context, r mamoru.Request) (*mamoru.SignInStart, error) {
	f, secret := s.newFlow(r)
	if err := s.store.Update(ctx, func(tx mamoru.Tx) error { return tx.CreateFlow(ctx, f) }); err != nil {
		return nil, err
	}
	return &mamoru.SignInStart{FlowID: f.ID, FlowSecret: secret}, nil
}

// newFlow returns a flow waiting for the password, not yet stored, and the
// secret that binds it.
func (s *Service) newFlow(r mamoru.Request) (*mamoru.Flow, string) {
	secret := mamoru.NewSecret()
	now := s.clock.Now()
	return &mamoru.Flow{
		ID:          mamoru.NewID(),
		Kind:        mamoru.FlowSignIn,
		BindingHash: mamoru.HashSecret(secret),
		Step:        StepPassword,
		IP:          r.IP,
		UserAgent:   r.UserAgent,
		CreatedAt:   now,
		UpdatedAt:   now,
		ExpiresAt:   now.Add(s.cfg.FlowTTL),
	}, secret
}

// save writes the flow's new state: a one-shot flow, never stored so far,
// is created; a stored one is updated if nobody else moved it meanwhile.
func save(ctx context.Context, tx mamoru.Tx, f *mamoru.Flow, stored bool) error {
	if stored {
		return tx.UpdateFlow(ctx, f)
	}
	return tx.CreateFlow(ctx, f)
}

// flowExpired is the one answer for a flow that is unknown, expired, bound
// to another client or past the step asked for.
func flowExpired() error {
	return mamoru.Errorf(mamoru.EFlowExpired, "sign-in flow is unknown, expired or bound to another client")
}

// fetch reads a flow; flowExpired if there is none.
func (s *Service) fetch(ctx context.Context, id string) (*mamoru.Flow, error) {
	var f *mamoru.Flow
	err := s.store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		f, err = tx.FlowByID(ctx, id)
		return err
	})
	if mamoru.ErrorCode(err) == mamoru.ENotFound {
		return nil, flowExpired()
	}
	return f, err
}

// load returns the flow if the client holds its secret and it waits for step.
func (s *Service) load(ctx context.Context, id, secret, step string) (*mamoru.Flow, error) {
	if id == "" || secret == "" || len(id) > 64 || len(secret) > 128 {
		return nil, flowExpired()
	}
	f, err := s.fetch(ctx, id)
	if err != nil {
		return nil, err
	}
	if f.Kind != mamoru.FlowSignIn || subtle.ConstantTimeCompare(f.BindingHash, mamoru.HashSecret(secret)) != 1 ||
		!s.clock.Now().Before(f.ExpiresAt) || f.Step != step {
		return nil, flowExpired()
	}
	return f, nil
}

// SubmitPassword implements mamoru.SignInService.
func (s *Service) SubmitPassword(ctx context.Context, in mamoru.PasswordStep, r mamoru.Request) (*mamoru.SignInResult, error) {
	res := &mamoru.SignInResult{}
	var f *mamoru.Flow
	var err error
	// A one-shot sign-in (JSON API) begins its flow in the same call and
	// keeps it in memory: it is stored only when the attempt ends in a
	// result worth keeping (signed in, or waiting for another step). A
	// failed one-shot attempt writes nothing, so a credential-stuffing run
	// cannot fill the database with flows.
	stored := in.FlowID != ""
	if stored {
		if f, err = s.load(ctx, in.FlowID, in.FlowSecret, StepPassword); err != nil {
			return nil, err
		}
	} else {
		f, res.FlowSecret = s.newFlow(r)
	}
	res.FlowID = f.ID

	at := &Attempt{Flow: f, Request: r, Now: s.clock.Now()}
	if email, err := emailaddr.Normalize(in.Email); err == nil {
		at.Email = email
	}
	// The checkpoint comes first: a throttled network or a missing
	// CAPTCHA is refused before any database read or hashing; a locked
	// identifier (known or not) answers Locked, without hashing.
	pass, err := s.guard.Enter(ctx, &mamoru.GuardAttempt{Action: mamoru.GuardSignIn, Request: r, Identifier: at.Email, Captcha: in.Captcha})
	if mamoru.ErrorCode(err) == mamoru.ELocked {
		return s.failed(ctx, at, res, mamoru.Locked)
	}
	if err != nil {
		return nil, err
	}
	outcome := mamoru.GuardOutcome{}
	defer func() { pass.Done(ctx, outcome) }()
	at.Wave = pass.Wave()
	if at.Email != "" {
		err := s.store.View(ctx, func(tx mamoru.Tx) error {
			a, err := tx.AccountByEmail(ctx, at.Email)
			if err == nil {
				at.Account = a
			}
			if mamoru.ErrorCode(err) == mamoru.ENotFound {
				return nil
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	for _, c := range s.pre {
		v, err := c(ctx, at)
		if err != nil {
			return nil, err
		}
		if v.Status != "" {
			return s.failed(ctx, at, res, v.Status)
		}
	}

	// The hasher normalizes; an imported hash is also tried as typed. A
	// known device (a valid device cookie) hashes with priority: a flood
	// of strangers' attempts leaves it a slot.
	hctx := ctx
	if r.DeviceID != "" && !r.NewDevice {
		hctx = password.WithPriority(ctx)
	}
	ok, rehash := false, false
	if at.Account == nil {
		_ = s.hasher.DummyVerify(hctx, in.Password)
	} else if ok, rehash, err = s.hasher.Verify(hctx, in.Password, at.Account.PasswordHash); err != nil && ctx.Err() == nil {
		s.log.Error("signin: stored password hash unusable", "account", at.Account.ID, "err", err)
		ok = false
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !ok || at.Account.Status != mamoru.StatusActive {
		outcome = mamoru.GuardOutcome{Result: mamoru.GuardFailure, Unknown: at.Account == nil, Password: in.Password}
		return s.failed(ctx, at, res, mamoru.InvalidCredentials)
	}
	at.Password = password.Normalize(in.Password)
	for _, c := range s.post {
		v, err := c(ctx, at)
		if err != nil {
			return nil, err
		}
		if v.NextStep != "" || v.Status != "" {
			res, err := s.advance(ctx, at, stored, v, res)
			if err == nil && v.NextStep == "" && v.Status != mamoru.SignedIn {
				if v.Status == mamoru.InvalidCredentials {
					// Refused like a wrong password (risk deny): it counts
					// like one.
					outcome.Result = mamoru.GuardFailure
				}
				return s.failed(ctx, at, res, v.Status)
			}
			return res, err
		}
	}

	var newHash string
	if rehash {
		if newHash, err = s.hasher.Hash(ctx, in.Password); err != nil {
			return nil, err
		}
	}
	res, err = s.complete(ctx, at, stored, newHash, res)
	if err == nil {
		outcome.Result = mamoru.GuardSuccess
	}
	return res, err
}

// complete signs the attempt's account in: in one transaction the flow is
// done (of two concurrent steps one wins), the account records the
// sign-in (and a new hash of an imported or outdated one), a new session
// is issued, and the observer records it.
func (s *Service) complete(ctx context.Context, at *Attempt, stored bool, newHash string, res *mamoru.SignInResult) (*mamoru.SignInResult, error) {
	var prepared any
	var err error
	if s.observer != nil {
		if prepared, err = s.observer.Prepare(ctx, at); err != nil {
			return nil, err
		}
	}
	err = s.store.Update(ctx, func(tx mamoru.Tx) error {
		now := s.clock.Now()
		g := *at.Flow
		g.AccountID, g.Step, g.UpdatedAt = at.Account.ID, StepDone, now
		if err := save(ctx, tx, &g, stored); err != nil {
			return err
		}
		a, err := tx.AccountByID(ctx, at.Account.ID)
		if err != nil {
			return err
		}
		a.LastSignInAt = now
		if newHash != "" && a.PasswordHash == at.Account.PasswordHash {
			a.PasswordHash = newHash
		}
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		res.Account = a
		aal := 1
		if at.Method.SecondFactor() {
			aal = 2
		}
		res.Session, res.SessionToken, err = s.sessions.Issue(ctx, tx, a.ID, aal, at.Request)
		if err == nil && s.observer != nil {
			err = s.observer.SignedIn(ctx, tx, at, a, res.Session, prepared)
		}
		return err
	})
	if mamoru.ErrorCode(err) == mamoru.EConflict {
		// A concurrent step on the same flow won.
		return nil, flowExpired()
	}
	if err != nil {
		return nil, err
	}
	res.Status = mamoru.SignedIn
	return res, nil
}

// advance records a post-check's verdict on the flow.
func (s *Service) advance(ctx context.Context, at *Attempt, stored bool, v Verdict, res *mamoru.SignInResult) (*mamoru.SignInResult, error) {
	st := flowState{Risk: at.Risk, Methods: v.Methods, SentTo: v.SentTo}
	if v.SentTo != "" {
		st.Sends, st.SentAt = 1, s.clock.Now()
	}
	state, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(ctx, func(tx mamoru.Tx) error {
		g := *at.Flow
		g.AccountID, g.UpdatedAt, g.State = at.Account.ID, s.clock.Now(), state
		if v.NextStep != "" {
			g.Step = v.NextStep
			if v.Prepare != nil {
				if err := v.Prepare(ctx, tx, &g); err != nil {
					return err
				}
			}
		} else {
			g.Step = StepDone
		}
		return save(ctx, tx, &g, stored)
	})
	if mamoru.ErrorCode(err) == mamoru.EConflict {
		return nil, flowExpired()
	}
	if err != nil {
		return nil, err
	}
	res.Status = v.Status
	switch {
	case v.Methods != nil:
		res.Methods, res.SentTo = v.Methods, v.SentTo
	case v.NextStep != "":
		res.SentTo = emailaddr.Mask(at.Account.Email)
	}
	return res, nil
}
