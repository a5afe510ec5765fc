package mamoru

import (
	"context"
	"time"
)

// TokenPurpose says what a one-time token proves.
type TokenPurpose string

// The token purposes.
const (
	PurposeVerifyEmail   TokenPurpose = "verify_email"
	PurposePasswordReset TokenPurpose = "password_reset"
	PurposeChangeEmail   TokenPurpose = "change_email"   // code to the new address; Data is the new address
	PurposeVerifyPhone   TokenPurpose = "verify_phone"   // code by SMS; Data is the new number (E.164)
	PurposeRevertEmail   TokenPurpose = "revert_email"   // link to the old address; Data is the email.changed event ID
	PurposeEventFeedback TokenPurpose = "event_feedback" // "was this you?" links; Data is the event ID
	PurposeSecureAccount TokenPurpose = "secure_account" // the code of a secure-account flow
	PurposeSignInCode    TokenPurpose = "signin_code"    // the code of a sign-in the risk engine stopped; Data is the flow ID
	PurposeUnlock        TokenPurpose = "unlock"         // the owner's link that ends a lock after failed attempts
	PurposeApproveSignIn TokenPurpose = "approve_signin" // the owner's link that approves or denies a sign-in; Data is the flow ID
	PurposeStepUp        TokenPurpose = "step_up"        // the SMS code of a step-up; Data is the session ID
)

// Token is a single-use secret sent to the owner: a short code to type and a
// long random link token, either of which proves receipt. Only keyed hashes
// of both are stored. A token dies when used, when it expires, after too many
// wrong codes, or when a newer token of the same purpose replaces it.
type Token struct {
	ID        string
	AccountID string
	Purpose   TokenPurpose
	Email     string // the address (or phone number) the token was sent to
	Data      string // purpose-specific, see the purposes
	CodeHash  []byte
	LinkHash  []byte
	Attempts  int // wrong codes entered so far
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// TokenStore persists one-time tokens.
type TokenStore interface {
	// CreateToken inserts t.
	CreateToken(ctx context.Context, t *Token) error
	// ActiveToken returns the newest token of the account and purpose that
	// is unused and expires after now; ENotFound if none.
	ActiveToken(ctx context.Context, accountID string, purpose TokenPurpose, now time.Time) (*Token, error)
	// TokenByLinkHash returns the token whatever its state; ENotFound if none.
	TokenByLinkHash(ctx context.Context, hash []byte) (*Token, error)
	// UseToken marks the token used at t if it is still unused, atomically:
	// of two concurrent calls exactly one succeeds, the other gets EConflict.
	UseToken(ctx context.Context, id string, at time.Time) error
	// AddTokenAttempt increments Attempts and returns the new count.
	AddTokenAttempt(ctx context.Context, id string) (int, error)
	// RevokeTokens marks every unused token of the account and purpose used
	// at t (when a new one replaces them, or the flow they serve ends).
	RevokeTokens(ctx context.Context, accountID string, purpose TokenPurpose, at time.Time) error
	// DeleteTokensBefore removes tokens that expired before t.
	DeleteTokensBefore(ctx context.Context, t time.Time) (int, error)
}
