package mamoru

import (
	"context"
	"time"
)

// Request describes who is asking: the client's address and user agent as
// the web layer determined them, and the language the client prefers. It is
// recorded with sessions and flows; messages use the account's language,
// never this one, except for mail to an address that has no account.
type Request struct {
	IP        string
	UserAgent string
	Language  Language
	// DeviceID identifies the browser by a long-lived device cookie whose
	// signature the web layer checked; "" when there is none or it was
	// forged.
	DeviceID string
	// NewDevice is true when DeviceID was made for this request (the
	// browser had no valid device cookie): it names nothing seen before.
	NewDevice bool
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
	ApprovalDenied        SignInStatus = "approval_denied" // the owner denied the attempt
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
	Captcha    string // the CAPTCHA answer, when the checkpoint asked for one
}

// CodeStep is the second step of a sign-in flow (ChallengeRequired): a
// one-time code, a backup code, or a WebAuthn assertion.
type CodeStep struct {
	FlowID     string
	FlowSecret string
	// Method is one of the result's Methods; "" is the first of them.
	Method Method
	// Code is the code of MethodTOTP, MethodBackupCode, MethodSMS and
	// MethodEmail.
	Code string
	// Credential is the WebAuthn assertion (PublicKeyCredential JSON) of
	// MethodWebAuthn, answering the options of SignInService.WebAuthnOptions.
	Credential []byte
	// Remember asks that this device skip the second step for a while
	// (after a method that is a second factor).
	Remember bool
}

// FlowRef names a sign-in flow and proves the client holds it.
type FlowRef struct {
	FlowID     string
	FlowSecret string
}

// PasskeyStart is a passkey-first sign-in flow: the WebAuthn options for
// navigator.credentials.get (discoverable credentials, no user name).
type PasskeyStart struct {
	FlowID     string
	FlowSecret string
	Options    []byte // {"publicKey": {...}}
}

// PasskeyStep answers a PasskeyStart with the browser's assertion.
type PasskeyStep struct {
	FlowID     string
	FlowSecret string
	Credential []byte
}

// SignInResult is where a sign-in flow stands after a step.
type SignInResult struct {
	Status     SignInStatus
	FlowID     string
	FlowSecret string // set when the flow was begun by this call
	SentTo     string // ChallengeRequired, ApprovalRequired: the masked address the code or request went to
	// Methods are the ways the second step accepts (ChallengeRequired),
	// the account's 2-step methods first; MethodEmail for an account
	// without any.
	Methods      []Method
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
	// SubmitCode runs the second step of a flow whose password step ended
	// in ChallengeRequired, with one of its methods: the right proof signs
	// in; EInvalidCode for a wrong one (after five wrong proofs the flow
	// is over); EFlowExpired when the flow is over.
	SubmitCode(ctx context.Context, in CodeStep, r Request) (*SignInResult, error)
	// ResendCode sends a new code of MethodSMS or MethodEmail for a flow
	// at the second step (replacing the last one); ERateLimited when asked
	// again too soon or too often.
	ResendCode(ctx context.Context, in FlowRef, m Method, r Request) (*SignInResult, error)
	// WebAuthnOptions begins the WebAuthn ceremony of a flow at the second
	// step: the options for navigator.credentials.get.
	WebAuthnOptions(ctx context.Context, in FlowRef, r Request) ([]byte, error)
	// BeginPasskey begins a passkey-first sign-in (no user name).
	BeginPasskey(ctx context.Context, r Request) (*PasskeyStart, error)
	// SubmitPasskey finishes it: SignedIn with a session of AAL2, or
	// EInvalidCode for an assertion that does not verify.
	SubmitPasskey(ctx context.Context, in PasskeyStep, r Request) (*SignInResult, error)
	// Approval is the waiting client's question about a flow that waits
	// for the owner's approval: ApprovalRequired while it waits, SignedIn
	// (with a new session) once approved, ApprovalDenied once denied;
	// EFlowExpired when the flow is over or not this client's.
	Approval(ctx context.Context, in ApprovalPoll, r Request) (*SignInResult, error)
	// ApprovalDecided reports, without changing anything, whether the
	// owner has decided (for a client that waits on events).
	ApprovalDecided(ctx context.Context, in ApprovalPoll) (bool, error)
}

// ApprovalPoll names a flow waiting for approval and proves the client
// holds it.
type ApprovalPoll = FlowRef

// ApprovalDecision is the owner's answer to a sign-in approval request,
// kept with the flow: who answered how, when, from where.
type ApprovalDecision struct {
	Approved  bool      `json:"approved"`
	At        time.Time `json:"at"`
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
}

// ApprovalView is what the owner's approval page shows: the attempt and,
// once answered, the answer (seed 004: when, which device, which IP, for
// both).
type ApprovalView struct {
	AttemptTime   time.Time
	AttemptIP     string
	AttemptPlace  Place
	AttemptDevice Device
	// Decision is nil while nobody has answered.
	Decision      *ApprovalDecision
	DecisionPlace Place
	DecisionDev   Device
	// Expired: the request can no longer be answered (10 minutes passed,
	// or the sign-in went away) and was not answered.
	Expired  bool
	Language Language // the account's: the page speaks it
	TimeZone string   // the account's: times are shown in it
}

// ApprovalService answers sign-in approval requests from the owner's
// mail link. The link names one attempt; it works once, and reopening it
// shows what happened.
type ApprovalService interface {
	// ApprovalLink returns the view of the request of a link; EInvalidCode
	// for an unknown link.
	ApprovalLink(ctx context.Context, link string) (*ApprovalView, error)
	// Decide answers it; EInvalidCode for an unknown, expired or used link
	// (the view then says what happened). It never signs the clicker in.
	Decide(ctx context.Context, link string, approve bool, r Request) (*ApprovalView, error)
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

// Page selects a page of a newest-first list: the entries older than
// Before (an event ID; "" for the newest), at most Limit of them (0 for a
// default).
type Page struct {
	Before string
	Limit  int
}

// SecureAccountStart is a secure-account flow begun for a client: the
// flow ID and the secret that binds it to that client (a cookie).
type SecureAccountStart struct {
	FlowID     string
	FlowSecret string
}

// ActivityService is what the owner sees of their account's history, and
// their answers to "Was this you?".
type ActivityService interface {
	// LoginHistory returns the account's sign-in attempts (succeeded and
	// failed), newest first.
	LoginHistory(ctx context.Context, accountID string, p Page) ([]*Event, error)
	// Events returns the account's security events other than sign-in
	// attempts and notifications, newest first.
	Events(ctx context.Context, accountID string, p Page) ([]*Event, error)
	// ConfirmEvent records "yes, that was me" for one of the account's
	// events: ENotFound if it is not the account's, EConflict if it has an
	// answer already.
	ConfirmEvent(ctx context.Context, s *Session, eventID string, r Request) error
	// DenyEvent records "no, that wasn't me" and starts the secure-account
	// flow: every session of the account ends (the caller's too), a new
	// password becomes required and a code to set it is emailed. The
	// returned flow belongs to the caller's client.
	DenyEvent(ctx context.Context, s *Session, eventID string, r Request) (*SecureAccountStart, error)
	// CheckAnswerLink returns the event a one-click "was this you?" link
	// (from a notification) is about, without using the link; EInvalidCode
	// if the link is unknown, used or expired.
	CheckAnswerLink(ctx context.Context, token string) (*Event, error)
	// AnswerLink uses a one-click link: yes confirms the event (and returns
	// nil); no does what DenyEvent does and returns the flow. The link
	// works once; EInvalidCode otherwise.
	AnswerLink(ctx context.Context, token string, yes bool, r Request) (*SecureAccountStart, error)
	// RevertEmail uses the link sent to the old address after an email
	// change (valid 7 days): the old address is restored and the
	// secure-account flow starts. EInvalidCode for a bad link; EConflict
	// if the old address now belongs to another account.
	RevertEmail(ctx context.Context, token string, r Request) (*SecureAccountStart, error)
}

// Secure-account flow steps.
const (
	SecureStepReset  = "reset"  // waiting for the emailed code and a new password
	SecureStepReview = "review" // password replaced; recent changes listed for undo
)

// SecureAccountState is where a secure-account flow stands.
type SecureAccountState struct {
	Step        string
	MaskedEmail string   // where the code went, e.g. "m***@example.com"
	Changes     []*Event // recent email, phone and 2-step changes, newest first (review step)
	Undone      []string // IDs of the changes undone in this flow
}

// SecureAccountService runs the secure-account flow that "this wasn't me"
// starts: every session is ended, then the owner sets a new password with
// an emailed code, then reviews what changed recently and undoes it with
// one click. Every step is recorded.
type SecureAccountService interface {
	State(ctx context.Context, flowID, secret string) (*SecureAccountState, error)
	// ResendCode sends a new code (rate limited by the code rules).
	ResendCode(ctx context.Context, flowID, secret string, r Request) error
	// ResetPassword checks the code and sets the new password; EInvalidCode,
	// password policy errors. The flow moves to the review step. It signs
	// nobody in.
	ResetPassword(ctx context.Context, flowID, secret, code, password string, r Request) (*SecureAccountState, error)
	// Undo reverts one of the listed changes (review step only);
	// ENotFound if it is not listed, EConflict if it cannot be undone
	// (undone already, or the old email belongs to another account now).
	Undo(ctx context.Context, flowID, secret, eventID string, r Request) (*SecureAccountState, error)
}

// SettingsInput changes account settings; nil fields stay as they are.
type SettingsInput struct {
	Language *Language
	TimeZone *string // IANA name; "" for UTC
}

// ProfileService changes the owner's settings, email address and phone
// number. Changing the address or number needs the current password and
// a code sent to the new address or number; the owner is notified (the old
// address too, with a link to revert).
type ProfileService interface {
	UpdateSettings(ctx context.Context, s *Session, in SettingsInput, r Request) (*Account, error)
	// StartEmailChange checks the password and emails a code to the new
	// address (unless it belongs to another account: then nothing is sent
	// and the answer is the same).
	StartEmailChange(ctx context.Context, s *Session, newEmail, password string, r Request) error
	// ConfirmEmailChange checks the code and changes the address.
	ConfirmEmailChange(ctx context.Context, s *Session, code string, r Request) (*Account, error)
	// StartPhoneChange checks the password and texts a code to the number
	// (EInvalidPhone).
	StartPhoneChange(ctx context.Context, s *Session, phone, password string, r Request) error
	// ConfirmPhoneChange checks the code and sets the number.
	ConfirmPhoneChange(ctx context.Context, s *Session, code string, r Request) (*Account, error)
	// RemovePhone checks the password and removes the number.
	RemovePhone(ctx context.Context, s *Session, password string, r Request) (*Account, error)
}

// TwoStepMethod is one of an account's 2-step methods as its owner sees it.
type TwoStepMethod struct {
	ID         string
	Kind       CredentialKind
	Name       string
	Passkey    bool // a WebAuthn credential that also signs in without a password
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
	Remaining  int       // backup codes not yet used
}

// TwoStepStatus is the owner's view of 2-step verification.
type TwoStepStatus struct {
	Methods []TwoStepMethod
	// RememberedDevices is how many devices skip the second step.
	RememberedDevices int
	// PhoneVerified: the account has a phone number, so SMS codes can be
	// turned on.
	PhoneVerified bool
	// StepUpUntil is when this session's step-up stops allowing sensitive
	// changes; zero or past: a step-up is needed first.
	StepUpUntil time.Time
	// StepUpMethods are the methods a step-up accepts now.
	StepUpMethods []Method
}

// TOTPSetup is an authenticator app being added: what to show the owner
// once (the secret as text, the otpauth URL, its QR code) and the opaque
// state to send back with the first code.
type TOTPSetup struct {
	Secret string // base32, for typing
	URL    string // otpauth://totp/…
	QRPNG  []byte
	State  string
}

// StepUpInput proves the owner again, with one of the step-up methods.
type StepUpInput struct {
	Method     Method
	Code       string // TOTP, backup code, SMS code
	Password   string // MethodPassword
	Credential []byte // MethodWebAuthn: the assertion
	State      string // MethodWebAuthn: the state of StepUpWebAuthnOptions
}

// TwoStepService manages a signed-in owner's 2-step methods. Every change
// needs a recent step-up in the session (EStepUpRequired otherwise),
// is recorded, and tells the owner by mail.
type TwoStepService interface {
	TwoStep(ctx context.Context, s *Session) (*TwoStepStatus, error)
	BeginTOTP(ctx context.Context, s *Session) (*TOTPSetup, error)
	// ConfirmTOTP adds the app once its first code is right.
	ConfirmTOTP(ctx context.Context, s *Session, state, code, name string, r Request) error
	// BeginWebAuthnRegistration returns the options for
	// navigator.credentials.create and an opaque state.
	BeginWebAuthnRegistration(ctx context.Context, s *Session, passkey bool) (options []byte, state string, err error)
	FinishWebAuthnRegistration(ctx context.Context, s *Session, state string, response []byte, name string, r Request) error
	// NewBackupCodes makes 10 new backup codes (the old ones stop
	// working) and returns them, to be shown once.
	NewBackupCodes(ctx context.Context, s *Session, r Request) ([]string, error)
	EnableSMS(ctx context.Context, s *Session, r Request) error
	RemoveMethod(ctx context.Context, s *Session, id string, r Request) error
	ForgetDevices(ctx context.Context, s *Session, r Request) error

	// SendStepUpCode sends an SMS code for a step-up; the masked number.
	SendStepUpCode(ctx context.Context, s *Session, r Request) (string, error)
	StepUpWebAuthnOptions(ctx context.Context, s *Session) (options []byte, state string, err error)
	// StepUp checks the proof and returns a fresh session (new ID) that
	// may make sensitive changes for a while.
	StepUp(ctx context.Context, s *Session, in StepUpInput, r Request) (*Session, string, error)
}
