package mamoru

import (
	"context"
	"time"
)

// GuardAction is what an attempt that passes the checkpoint tries to do.
type GuardAction string

// The guarded actions. Each entry point that takes a secret from a client
// (a password, a code, a link) passes the checkpoint with one of them.
const (
	GuardSignIn   GuardAction = "signin"   // a password sign-in (web page and JSON API)
	GuardCode     GuardAction = "code"     // a one-time code of a sign-in step
	GuardApproval GuardAction = "approval" // a sign-in approval link
	GuardForgot   GuardAction = "forgot"   // asking for a password-reset code
	GuardReset    GuardAction = "reset"    // setting a new password with a reset code
	GuardVerify   GuardAction = "verify"   // other emailed codes and one-click links
)

// GuardAttempt is one attempt at the checkpoint.
type GuardAttempt struct {
	Action  GuardAction
	Request Request
	// Identifier is the canonical identifier the attempt names (the
	// normalized email address; for a code step, the account's address),
	// "" if none. Lockout is keyed by it whether or not an account has it.
	Identifier string
	// Captcha is the client's CAPTCHA answer ("" if none).
	Captcha string
}

// GuardResult is how a guarded attempt ended.
type GuardResult uint8

// The results of a guarded attempt.
const (
	// GuardNone: the attempt ended without a verdict on its secret (an
	// internal error, a dead flow); it counts for nothing.
	GuardNone GuardResult = iota
	// GuardSuccess: the secret was right.
	GuardSuccess
	// GuardFailure: the secret was wrong (or the identifier unknown).
	GuardFailure
)

// GuardOutcome is what the checkpoint learns when a guarded attempt ends.
type GuardOutcome struct {
	Result GuardResult
	// Unknown is true when the identifier has no account (known only to
	// the server: never shown to the client).
	Unknown bool
	// Password is the password tried, for the spraying detector, which
	// counts it through a keyed hash whose key lives only in memory; ""
	// for other secrets.
	Password string
}

// GuardPass is an attempt the checkpoint let through. Done must be called
// once when the attempt ends.
type GuardPass interface {
	// Wave reports whether an attack wave touches this attempt (attack
	// mode, globally or for its network or device): a new device must be
	// challenged, and a right password used in the wave is forced to a
	// reset.
	Wave() bool
	// Done tells the checkpoint how the attempt ended.
	Done(ctx context.Context, o GuardOutcome)
}

// Guard is the one checkpoint of attack protection that every entry point
// passes before it verifies a secret: network throttles, CAPTCHA when
// required, account lockout. Enter answers
//   - an *Error with ERateLimited (and RetryAfter) when a throttle holds,
//   - ECaptchaRequired when a CAPTCHA is needed and the attempt has no
//     valid one,
//   - ELocked when the identifier is locked (the same for an identifier
//     with no account),
//
// and otherwise a pass, without hashing anything.
type Guard interface {
	Enter(ctx context.Context, a *GuardAttempt) (GuardPass, error)
}

// OpenGuard is the Guard that lets every attempt through: for tests and
// for a server with attack protection turned off.
type OpenGuard struct{}

// Enter implements Guard.
func (OpenGuard) Enter(context.Context, *GuardAttempt) (GuardPass, error) { return openPass{}, nil }

type openPass struct{}

func (openPass) Wave() bool                         { return false }
func (openPass) Done(context.Context, GuardOutcome) {}

// RetryAfter returns how long the client should wait before trying again,
// from an *Error in err's chain; 0 if none says.
func RetryAfter(err error) time.Duration {
	if e := asError(err); e != nil {
		return e.RetryAfter
	}
	return 0
}
