package mamoru

import (
	"context"
)

// Request describes who is asking: the client's address and user agent as
// the web layer determined them, and the language the client prefers. It is
// recorded with sessions and flows; messages use the account's language,
// never this one, except for mail to an address that has no account.
type Request struct {
	IP        string
	UserAgent string
	Language  Language
}

// SignUpInput is what a new account starts with.
type SignUpInput struct {
	Email    string
	Password string
	Language Language
}

// ResetInput completes a password reset, proven by either the emailed code
// (with Email) or the link token.
type ResetInput struct {
	Email    string
	Code     string
	Token    string
	Password string
}

// ChangePasswordInput changes the password of a signed-in account.
type ChangePasswordInput struct {
	Current       string
	New           string
	SignOutOthers bool // end every other session too
}

// AccountService is self-service account management.
type AccountService interface {
	// SignUp creates an unverified account and emails a verification code
	// and link. When the email belongs to an account already, it emails the
	// owner instead and returns the same result (no enumeration). It
	// returns validation errors (EInvalidEmail, EInvalidLanguage,
	// EPasswordTooShort, EPasswordTooLong, EPasswordCommon) only.
	SignUp(ctx context.Context, in SignUpInput, r Request) error
	// ResendVerification replaces the pending verification token with a new
	// one and emails it, if the account exists and is unverified; the result
	// is the same in every case.
	ResendVerification(ctx context.Context, email string, r Request) error
	// VerifyEmail proves the address with the emailed code; EInvalidCode for
	// any wrong, expired, used or unknown code, or unknown email.
	VerifyEmail(ctx context.Context, email, code string) error
	// VerifyEmailLink proves the address with the emailed link token.
	VerifyEmailLink(ctx context.Context, token string) error
	// ForgotPassword emails a reset code and link if the account exists; the
	// result is the same whether it does or not.
	ForgotPassword(ctx context.Context, email string, r Request) error
	// CheckResetLink reports whether a reset link token is usable, without
	// using it (for showing the form); EInvalidCode if not.
	CheckResetLink(ctx context.Context, token string) error
	// ResetPassword sets a new password and ends every session. It never
	// signs the client in.
	ResetPassword(ctx context.Context, in ResetInput, r Request) error
	// ChangePassword checks the current password, sets the new one, and
	// replaces the caller's session with a fresh one (returned with its
	// token); with SignOutOthers every other session ends too.
	ChangePassword(ctx context.Context, s *Session, in ChangePasswordInput, r Request) (*Session, string, error)
	// Account returns an account by ID.
	Account(ctx context.Context, id string) (*Account, error)
}

// SignInStatus is the outcome of a sign-in step. The values are part of the
// public API.
type SignInStatus string

// The sign-in outcomes.
const (
	SignedIn              SignInStatus = "signed_in"
	ChallengeRequired     SignInStatus = "challenge_required"
	ApprovalRequired      SignInStatus = "approval_required"
	PasswordResetRequired SignInStatus = "password_reset_required"
	Locked                SignInStatus = "locked"
	Restricted            SignInStatus = "restricted"
	InvalidCredentials    SignInStatus = "invalid_credentials"
)

// SignInStart is a new sign-in flow: its ID and the secret that binds it to
// the client that began it.
type SignInStart struct {
	FlowID     string
	FlowSecret string
}

// PasswordStep is the password step of a sign-in flow.
type PasswordStep struct {
	FlowID     string // from Begin; "" begins a new flow in the same call (JSON API)
	FlowSecret string
	Email      string
	Password   string
}

// SignInResult is where a sign-in flow stands after a step.
type SignInResult struct {
	Status       SignInStatus
	FlowID       string
	FlowSecret   string   // set when the flow was begun by this call
	Session      *Session // set when Status is SignedIn
	SessionToken string   // the secret for the client; set when Status is SignedIn
	Account      *Account // set when Status is SignedIn
}

// SignInService runs sign-in flows.
type SignInService interface {
	// Begin starts a flow bound to a new secret.
	Begin(ctx context.Context, r Request) (*SignInStart, error)
	// SubmitPassword runs the password step. Unknown email, wrong password
	// and unusable account give the same result in the same time.
	SubmitPassword(ctx context.Context, in PasswordStep, r Request) (*SignInResult, error)
}

// SessionService authenticates and manages sessions.
type SessionService interface {
	// Authenticate returns the active session for a token and its account,
	// and records the activity; EUnauthorized if there is none.
	Authenticate(ctx context.Context, token string, r Request) (*Session, *Account, error)
	// ListSessions returns the account's active sessions, newest first.
	ListSessions(ctx context.Context, accountID string) ([]*Session, error)
	// RevokeSession ends one of the account's sessions; ENotFound if the
	// session is not the account's.
	RevokeSession(ctx context.Context, accountID, sessionID string) error
	// RevokeAll ends every session of the account, the caller's included.
	RevokeAll(ctx context.Context, accountID string) error
	// SignOut ends one session.
	SignOut(ctx context.Context, s *Session) error
}

// OutboxService shows what the outbox holds (the dev outbox pages).
type OutboxService interface {
	ListMessages(ctx context.Context, f MessageFilter) ([]*Message, error)
	MessageByID(ctx context.Context, id string) (*Message, error)
}
