package mamoru

import (
	"context"
	"time"
)

// Language is the language of an account or a request: every user-facing
// text exists in each of them.
type Language string

// The supported languages.
const (
	Japanese Language = "ja"
	English  Language = "en"
)

// Languages lists the supported languages, the default first.
var Languages = []Language{English, Japanese}

// ParseLanguage returns the Language for s ("ja", "en", case-insensitive,
// region subtags ignored) and whether it is supported.
func ParseLanguage(s string) (Language, bool) {
	if len(s) >= 2 {
		switch s[:2] {
		case "ja", "JA", "Ja", "jA":
			if len(s) == 2 || s[2] == '-' || s[2] == '_' {
				return Japanese, true
			}
		case "en", "EN", "En", "eN":
			if len(s) == 2 || s[2] == '-' || s[2] == '_' {
				return English, true
			}
		}
	}
	return "", false
}

// AccountStatus says whether an account may sign in.
type AccountStatus string

// The account statuses. Only StatusActive accounts may sign in.
const (
	StatusActive     AccountStatus = "active"
	StatusLocked     AccountStatus = "locked"     // locked by an operator, reversible by unlock
	StatusRestricted AccountStatus = "restricted" // permanently restricted by an operator
)

// Valid reports whether s is a known status.
func (s AccountStatus) Valid() bool {
	return s == StatusActive || s == StatusLocked || s == StatusRestricted
}

// Account is a person's identity: one normalized email address, a password
// hash and a language. The zero value of a time field means "never".
type Account struct {
	ID                string
	Email             string // normalized (see package emailaddr); unique
	EmailVerifiedAt   time.Time
	PasswordHash      string // PHC string (argon2id, or an imported bcrypt/PBKDF2 hash)
	PasswordChangedAt time.Time
	Language          Language
	TimeZone          string // IANA name, e.g. "Asia/Tokyo"; "" means UTC
	Phone             string // E.164, verified; "" for none
	Status            AccountStatus
	// ResetRequiredAt is when a new password became required (by an
	// operator, the secure-account flow or a breach); zero when none is.
	// While set, a correct password signs nobody in.
	ResetRequiredAt time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
	LastSignInAt    time.Time
}

// EmailVerified reports whether the email address has been verified.
func (a *Account) EmailVerified() bool { return !a.EmailVerifiedAt.IsZero() }

// AccountFilter selects accounts for ListAccounts.
type AccountFilter struct {
	EmailContains string // substring of the normalized email; "" for all
	Limit         int    // at most this many; 0 means a default of 100
	Offset        int
}

// AccountStore persists accounts.
type AccountStore interface {
	// CreateAccount inserts a; a.ID must be set. A duplicate email (or ID)
	// returns an *Error with code EConflict.
	CreateAccount(ctx context.Context, a *Account) error
	// AccountByID returns ENotFound if there is no such account.
	AccountByID(ctx context.Context, id string) (*Account, error)
	// AccountByEmail looks up by the normalized email; ENotFound if none.
	AccountByEmail(ctx context.Context, email string) (*Account, error)
	// UpdateAccount writes every mutable field of a (all but ID and
	// CreatedAt); ENotFound if the account does not exist, EConflict if the
	// new email belongs to another account.
	UpdateAccount(ctx context.Context, a *Account) error
	// ListAccounts returns accounts ordered by creation time, oldest first.
	ListAccounts(ctx context.Context, f AccountFilter) ([]*Account, error)
}
