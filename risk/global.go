package risk

import "sync"

// Global is the popularity of feature values across every account's
// legitimate sign-ins: how many sign-ins had each value (keyed as Values
// returns them), and how many sign-ins were counted in all. It stands for
// the attacker's distribution in the score (see the package doc). A
// server keeps these counts as it learns sign-ins, so that scoring needs
// no scan.
type Global interface {
	Count(f Feature, value string) uint64
	Total() uint64
}

// MemGlobal is a Global in memory, for evaluation and tests. It is safe
// for concurrent use.
type MemGlobal struct {
	mu     sync.RWMutex
	counts [numFeatures]map[string]uint64
	total  uint64
}

var _ Global = (*MemGlobal)(nil)

// NewMemGlobal returns an empty MemGlobal.
func NewMemGlobal() *MemGlobal {
	g := &MemGlobal{}
	for i := range g.counts {
		g.counts[i] = map[string]uint64{}
	}
	return g
}

// Add counts the legitimate sign-in a.
func (g *MemGlobal) Add(a Attempt) {
	f := extract(a)
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, v := range f.val {
		if v != "" {
			g.counts[i][v]++
		}
	}
	g.total++
}

// Count implements Global.
func (g *MemGlobal) Count(f Feature, value string) uint64 {
	i, ok := featureIndex(f)
	if !ok {
		return 0
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.counts[i][value]
}

// Total implements Global.
func (g *MemGlobal) Total() uint64 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.total
}

// featureIndex returns the index of f in Features.
func featureIndex(f Feature) (fidx, bool) {
	for i, g := range Features {
		if g == f {
			return fidx(i), true
		}
	}
	return 0, false
}
