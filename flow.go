package mamoru

import (
	"context"
	"time"
)

// FlowKind names the kind of a multi-step flow.
type FlowKind string

// The flow kinds.
const (
	FlowSignIn        FlowKind = "signin"
	FlowSecureAccount FlowKind = "secure_account"
)

// Flow is one attempt at a multi-step process (a sign-in), bound to the
// browser or client that began it: the client holds a secret whose SHA-256
// is BindingHash, and every step must present it. Version increases with
// each update so that concurrent steps cannot both win.
type Flow struct {
	ID          string
	Kind        FlowKind
	BindingHash []byte
	AccountID   string // "" until the account is identified
	Step        string // the step waiting for input, e.g. "password"; "done" when finished
	State       []byte // step data, JSON, owned by the flow's package
	IP          string
	UserAgent   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ExpiresAt   time.Time
	Version     int
}

// FlowStore persists flows.
type FlowStore interface {
	// CreateFlow inserts f with Version 1.
	CreateFlow(ctx context.Context, f *Flow) error
	// FlowByID returns ENotFound if none.
	FlowByID(ctx context.Context, id string) (*Flow, error)
	// UpdateFlow writes AccountID, Step, State, UpdatedAt and ExpiresAt if the
	// stored Version equals f.Version, and increments f.Version. Otherwise it
	// returns EConflict (another step won) or ENotFound.
	UpdateFlow(ctx context.Context, f *Flow) error
	// DeleteFlowsBefore removes flows that expired before t.
	DeleteFlowsBefore(ctx context.Context, t time.Time) (int, error)
}
