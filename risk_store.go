package mamoru

import (
	"context"
	"time"
)

// RiskStore keeps what the risk engine learns: each account's compact
// history of legitimate sign-ins (an opaque, versioned blob owned by
// package risk) and global popularity counts of feature values across all
// accounts, so that an assessment reads a few rows and scans nothing.
type RiskStore interface {
	// RiskHistory returns the account's history blob; ENotFound if none.
	RiskHistory(ctx context.Context, accountID string) ([]byte, error)
	// SaveRiskHistory writes the account's history blob.
	SaveRiskHistory(ctx context.Context, accountID string, data []byte, at time.Time) error
	// RiskCounts returns the global counts of the keys (missing keys count
	// 0). Keys are valid UTF-8 text without NUL, at most 512 bytes.
	RiskCounts(ctx context.Context, keys []string) (map[string]uint64, error)
	// AddRiskCounts adds each delta to its key's global count.
	AddRiskCounts(ctx context.Context, deltas map[string]uint64) error
}

// RiskSummary is the risk assessment of a sign-in attempt as recorded with
// its event: what the engine decided and why.
type RiskSummary struct {
	Score    float64      `json:"score"`
	Decision string       `json:"decision"`
	Audit    bool         `json:"audit,omitempty"` // decided but not enforced
	Reasons  []RiskReason `json:"reasons,omitempty"`
}

// RiskReason is one reason of an assessment: a stable code and its
// parameters.
type RiskReason struct {
	Code   string            `json:"code"`
	Params map[string]string `json:"params,omitempty"`
}
