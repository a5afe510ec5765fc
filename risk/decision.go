package risk

// Decision is what to do with a sign-in attempt. The values are stable.
type Decision string

// The decisions, weakest first.
const (
	Allow     Decision = "allow"     // let it in
	Notify    Decision = "notify"    // let it in and tell the owner
	Challenge Decision = "challenge" // ask for a second step (2-step code, passkey)
	Approval  Decision = "approval"  // wait for the owner to approve it from a message
	Deny      Decision = "deny"      // refuse it
)

// Decisions lists the decisions, weakest first.
var Decisions = []Decision{Allow, Notify, Challenge, Approval, Deny}

// Level returns the strength of d, 0 (Allow) to 4 (Deny), or -1 for a
// value that is not a decision.
func (d Decision) Level() int {
	switch d {
	case Allow:
		return 0
	case Notify:
		return 1
	case Challenge:
		return 2
	case Approval:
		return 3
	case Deny:
		return 4
	}
	return -1
}

// Valid reports whether d is one of the decisions.
func (d Decision) Valid() bool { return d.Level() >= 0 }

// max returns the stronger of d and e.
func (d Decision) max(e Decision) Decision {
	if e.Level() > d.Level() {
		return e
	}
	return d
}
