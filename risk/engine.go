package risk

// Assessment is the result of Assess.
type Assessment struct {
	Score    float64  // log10 likelihood ratio; see the package doc
	Decision Decision // what to do
	Reasons  []Reason // why, most important first
	Audit    bool     // decided but not to be enforced (Config.Audit)
}

// Has reports whether a has a reason with the given code.
func (a Assessment) Has(code string) bool {
	for _, r := range a.Reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

// Engine assesses sign-in attempts under one Config. It is safe for
// concurrent use.
type Engine struct {
	cfg Config
}

// New returns an Engine for cfg, or cfg's problems.
func New(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg}, nil
}

// Assess scores the attempt a of the account whose history is h, against
// global popularity g and network reputation r, and decides. It is a pure
// function of its arguments: it changes nothing and reads no clock. h may
// be nil or empty (a first sign-in); g and r may be nil.
func (e *Engine) Assess(a Attempt, h *History, g Global, r Reputation) Assessment {
	return Assessment{Decision: Allow, Audit: e.cfg.Audit}
}
