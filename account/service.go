// Package account is self-service account management: sign-up, email
// verification, forgotten and changed passwords, settings, email and
// phone changes, the owner's view of the security events and answers to
// "was this you?", and the secure-account flow. It implements
// mamoru.AccountService, ActivityService, SecureAccountService and
// ProfileService over a mamoru.Store, and writes every event and message
// it causes in the same transaction as the change.
//
// It must not know about HTTP or cookies, and must never reveal whether an
// email address has an account: every path that takes an address answers
// the same whatever the address.
package account

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/emailaddr"
	"github.com/mamoru-id/mamoru/event"
	"github.com/mamoru-id/mamoru/notify"
	"github.com/mamoru-id/mamoru/password"
	"github.com/mamoru-id/mamoru/session"
)

// Config holds the account rules.
type Config struct {
	Policy         password.Policy
	VerifyTTL      time.Duration // lifetime of an email verification code and link (default 1h)
	ResetTTL       time.Duration // lifetime of a password reset code and link (default 15m)
	MaxCodeTries   int           // wrong codes before a token dies (default 5)
	CodeKey        []byte        // HMAC key for storing codes and link tokens; at least 32 bytes
	BackgroundJobs int           // concurrent background jobs (default 16)
	ChangeTTL      time.Duration // lifetime of a code confirming a new email address or phone number (default 10m)
	AnswerTTL      time.Duration // lifetime of "was this you?" links in notifications (default 7 days)
	RevertTTL      time.Duration // lifetime of the link that reverts an email change (default 7 days)
	SecureFlowTTL  time.Duration // how long a secure-account flow lasts (default 1h)
	UndoWindow     time.Duration // how far back the secure-account flow lists changes to undo (default 30 days)
	PhoneRegion    string        // region for phone numbers typed without a country code (default "JP")
	// ApprovalDenyKeepsPassword: when the owner denies a sign-in approval
	// request, do not make a new password required (by default it is:
	// whoever tried knows the password).
	ApprovalDenyKeepsPassword bool
	// TwoStep says when the second step is asked.
	TwoStep TwoStepConfig
}

// Service implements mamoru.AccountService.
type Service struct {
	store    mamoru.Store
	hasher   *password.Hasher
	sessions *session.Manager
	mailer   *notify.Mailer
	common   func(string) bool
	clock    mamoru.Clock
	log      *slog.Logger
	cfg      Config
	kick     func()
	events   mamoru.EventRecorder
	risk     *Risk
	breached func(ctx context.Context, pw string) (bool, error)
	guard    Guard
	mfa      *MFA

	onDecided func(flowID string)

	bg    sync.WaitGroup
	slots chan struct{}
}

var (
	_ mamoru.AccountService  = (*Service)(nil)
	_ mamoru.ActivityService = (*Service)(nil)
	_ mamoru.ProfileService  = (*Service)(nil)
)

// Deps are the collaborators of a Service.
type Deps struct {
	Store    mamoru.Store
	Hasher   *password.Hasher
	Sessions *session.Manager
	Mailer   *notify.Mailer
	Common   func(string) bool // reports a password from the common-password list
	Clock    mamoru.Clock
	Logger   *slog.Logger
	Kick     func()               // wakes the outbox worker after a message is committed; may be nil
	Events   mamoru.EventRecorder // records security events; nil records them without places or devices
	Risk     *Risk                // the risk engine; nil assesses nothing (new-sign-in mails then follow a simple novelty rule)
	// Breached reports a password found in a breach corpus (package
	// breach); nil checks nothing. New passwords that it reports are
	// refused, and a sign-in with one is forced to a reset.
	Breached func(ctx context.Context, pw string) (bool, error)
	// Guard is the checkpoint of attack protection; nil lets everything
	// through. Forgot-password and reset pass it, and a reset ends the
	// lock of the account's identifier.
	Guard Guard
	// OnApprovalDecided runs after the owner answered an approval request
	// (committed), to wake the client waiting on that flow; may be nil.
	OnApprovalDecided func(flowID string)
	// MFA are the means of 2-step verification; nil: no 2-step methods.
	MFA *MFA
}

// Guard is what the account service needs of the checkpoint.
type Guard interface {
	mamoru.Guard
	// Unlock ends the lock of an identifier, in tx.
	Unlock(ctx context.Context, tx mamoru.Tx, identifier string) error
}

// openGuard lets everything through and locks nothing.
type openGuard struct{ mamoru.OpenGuard }

func (openGuard) Unlock(context.Context, mamoru.Tx, string) error { return nil }

// New returns a Service.
func New(d Deps, cfg Config) *Service {
	if cfg.VerifyTTL <= 0 {
		cfg.VerifyTTL = time.Hour
	}
	if cfg.ResetTTL <= 0 {
		cfg.ResetTTL = 15 * time.Minute
	}
	if cfg.MaxCodeTries <= 0 {
		cfg.MaxCodeTries = 5
	}
	cfg.TwoStep.defaults()
	if cfg.BackgroundJobs <= 0 {
		cfg.BackgroundJobs = 16
	}
	if cfg.ChangeTTL <= 0 {
		cfg.ChangeTTL = 10 * time.Minute
	}
	if cfg.AnswerTTL <= 0 {
		cfg.AnswerTTL = 7 * 24 * time.Hour
	}
	if cfg.RevertTTL <= 0 {
		cfg.RevertTTL = 7 * 24 * time.Hour
	}
	if cfg.SecureFlowTTL <= 0 {
		cfg.SecureFlowTTL = time.Hour
	}
	if cfg.UndoWindow <= 0 {
		cfg.UndoWindow = 30 * 24 * time.Hour
	}
	if cfg.PhoneRegion == "" {
		cfg.PhoneRegion = "JP"
	}
	if d.Events == nil {
		d.Events = event.New(d.Clock, nil, nil)
	}
	if len(cfg.CodeKey) < 32 {
		panic("account: CodeKey must be at least 32 bytes")
	}
	if d.Kick == nil {
		d.Kick = func() {}
	}
	if d.Common == nil {
		d.Common = func(string) bool { return false }
	}
	if d.Breached == nil {
		d.Breached = func(context.Context, string) (bool, error) { return false, nil }
	}
	if d.Guard == nil {
		d.Guard = openGuard{}
	}
	return &Service{store: d.Store, hasher: d.Hasher, sessions: d.Sessions, mailer: d.Mailer, common: d.Common,
		clock: d.Clock, log: d.Logger, cfg: cfg, kick: d.Kick, events: d.Events, risk: d.Risk,
		breached: d.Breached, guard: d.Guard, mfa: d.MFA, onDecided: d.OnApprovalDecided, slots: make(chan struct{}, cfg.BackgroundJobs)}
}

// Close waits for background jobs (forgot-password and resend requests
// already answered) to finish.
func (s *Service) Close() { s.bg.Wait() }

// background runs fn after the caller has answered, so that the answer
// takes the same time whether or not the address has an account (OWASP
// Forgot Password Cheat Sheet). When every slot is busy it runs fn now:
// under that load the timing says nothing anyway, and nothing is dropped.
func (s *Service) background(ctx context.Context, name string, fn func(ctx context.Context) error) {
	ctx = context.WithoutCancel(ctx)
	run := func() {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := fn(ctx); err != nil {
			s.log.Error("account: background job failed", "job", name, "err", err)
		}
	}
	select {
	case s.slots <- struct{}{}:
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			defer func() { <-s.slots }()
			run()
		}()
	default:
		run()
	}
}

// forAddress answers a request about an email address the same way
// whether or not it has an account: it validates the address, then, after
// the answer (see background), runs fn in one transaction with the account,
// if there is one, and wakes the outbox worker.
func (s *Service) forAddress(ctx context.Context, job, email string, fn func(ctx context.Context, tx mamoru.Tx, a *mamoru.Account) error) error {
	email, err := emailaddr.Normalize(email)
	if err != nil {
		return err
	}
	s.background(ctx, job, func(ctx context.Context) error {
		err := s.store.Update(ctx, func(tx mamoru.Tx) error {
			a, err := tx.AccountByEmail(ctx, email)
			if err != nil {
				return err
			}
			return fn(ctx, tx, a)
		})
		if mamoru.ErrorCode(err) == mamoru.ENotFound {
			return nil
		}
		if err == nil {
			s.kick()
		}
		return err
	})
	return nil
}

// Account implements mamoru.AccountService.
func (s *Service) Account(ctx context.Context, id string) (*mamoru.Account, error) {
	var a *mamoru.Account
	err := s.store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		a, err = tx.AccountByID(ctx, id)
		return err
	})
	return a, err
}

// checkNewPassword applies the password policy, then the breach corpus
// (NIST SP 800-63B 3.1.1.2: a password known to be compromised is
// refused). Policy.Check and Hasher.Hash both normalize, so the password
// is passed on as typed.
func (s *Service) checkNewPassword(ctx context.Context, pw string) error {
	if err := s.cfg.Policy.Check(pw, s.common); err != nil {
		return err
	}
	bad, err := s.breached(ctx, pw)
	if err != nil {
		return err
	}
	if bad {
		return mamoru.Errorf(mamoru.EPasswordBreached, "the password appears in a breach corpus")
	}
	return nil
}
