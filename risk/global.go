package risk

import "sync"

// Global is the popularity of feature values across every account's
// legitimate sign-ins: how many sign-ins had each value (keys from
// Values), and how many sign-ins were counted.
type Global interface {
	Count(f Feature, value string) uint64
	Total() uint64
}

// MemGlobal is a Global in memory, for evaluation and tests. It is safe
// for concurrent use.
type MemGlobal struct {
	mu     sync.RWMutex
	counts map[Feature]map[string]uint64
	total  uint64
}

var _ Global = (*MemGlobal)(nil)

// NewMemGlobal returns an empty MemGlobal.
func NewMemGlobal() *MemGlobal { return &MemGlobal{counts: map[Feature]map[string]uint64{}} }

// Add counts the legitimate sign-in a.
func (g *MemGlobal) Add(a Attempt) {}

// Count implements Global.
func (g *MemGlobal) Count(f Feature, value string) uint64 { return 0 }

// Total implements Global.
func (g *MemGlobal) Total() uint64 { return 0 }
