package breach

import "context"

// Source is what found a password breached.
type Source uint8

// The sources, in the order Checker asks them.
const (
	SourceNone   Source = iota // nothing matched: not breached as far as the checker knows
	SourceCommon               // the embedded list of common passwords (Common): exact
	SourceFilter               // the offline filter (Filter): about 1 in 256 passwords not in it match too
	SourceOnline               // the Pwned Passwords range API (Online): exact
)

// String returns "none", "common", "filter" or "online".
func (s Source) String() string {
	switch s {
	case SourceNone:
		return "none"
	case SourceCommon:
		return "common"
	case SourceFilter:
		return "filter"
	case SourceOnline:
		return "online"
	}
	return "unknown"
}

// Result is the answer of Checker.Breached.
type Result struct {
	// Breached is true when a source matched: the password must not be
	// used (see Confirmed for how sure that is).
	Breached bool
	Source   Source // which source matched; SourceNone when not Breached
	// Count is the number of times the range API says the password was
	// seen in breaches, when it was asked and knew the password (Source
	// is SourceOnline); 0 otherwise.
	Count int64
}

// Confirmed reports whether the result is certain: the password matched
// exactly (in the common list or in the range API's answer). A filter
// match alone is not: about 0.4% of the passwords that are not in the
// filter's corpus match it too.
func (r Result) Confirmed() bool {
	return r.Source == SourceCommon || r.Source == SourceOnline
}

// Checker tells whether a password is breached, from the common list,
// an offline filter, and the range API, each optional but the first.
// It is safe for concurrent use. It never logs or keeps a password.
type Checker struct {
	filter *Filter
	online *Online
}

// NewChecker returns a Checker that asks the common list, then filter if
// it is not nil, then online if it is not nil. The Checker does not own
// filter: the caller closes it, after the last Breached.
func NewChecker(filter *Filter, online *Online) *Checker {
	return &Checker{filter: filter, online: online}
}

// Breached tells whether password is breached, asking in this order:
//
//  1. the common list (Common, which compares the password in
//     CommonForm): a match is the answer, SourceCommon;
//  2. the filter, if any, with the password as given (Have I Been Pwned
//     hashes it as typed). A miss is the answer, not breached: the filter
//     has no false negatives, and the range API is not asked, so nothing
//     leaves the server for most passwords. A hit, without the range API,
//     is the answer, SourceFilter, unconfirmed;
//  3. the range API, if any: for a filter hit, to confirm it (a count
//     above 0 gives SourceOnline; 0 means the hit was one of the filter's
//     false positives, and the answer is not breached); without a filter,
//     for every password that is not common.
//
// When the range API fails, Breached returns the error (code
// mamoru.EUnavailable, or the context's error) with the answer of the
// sources before it: a filter hit, unconfirmed, or not breached. The
// caller decides: refusing an unconfirmed hit at sign-up costs a user a
// second try, while forcing a password reset at sign-in on one costs
// about 0.4% of users with safe passwords a needless reset (see
// docs/breach.md).
func (c *Checker) Breached(ctx context.Context, password string) (Result, error) {
	if Common(password) {
		return Result{Breached: true, Source: SourceCommon}, nil
	}
	if c == nil {
		return Result{}, nil
	}
	var offline Result
	if c.filter != nil {
		if !c.filter.Contains(password) {
			return Result{}, nil
		}
		offline = Result{Breached: true, Source: SourceFilter}
	}
	if c.online == nil {
		return offline, nil
	}
	n, err := c.online.Count(ctx, password)
	if err != nil {
		return offline, err
	}
	if n > 0 {
		return Result{Breached: true, Source: SourceOnline, Count: n}, nil
	}
	return Result{}, nil
}
