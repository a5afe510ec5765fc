// Package risk scores a sign-in attempt and decides what to do with it:
// allow it, allow it and tell the owner, challenge it with a second step,
// wait for the owner's approval, or deny it; every decision comes with
// reasons a person can read (Explain), in Japanese or English.
//
// # The model
//
// The score is the statistical model of Freeman et al., "Who Are You? A
// Statistical Approach to Measuring User Authenticity" (NDSS 2016), as
// studied on a large service by Wiefling et al. (ACM TOPS 2022): the
// likelihood ratio
//
//	S = p(x | attack) / p(x | legitimate, account)
//
// of the attempt's features x, where the attacker's distribution is
// approximated by the global popularity of each value over every
// account's legitimate sign-ins (Global), and the account's by its own
// history (History), smoothed so that values the account never used keep
// a probability. Features are grouped into independent chains, each a
// hierarchy from coarse to fine:
//
//	network:  country → asn → prefix (/24, /48) → ip
//	location: country → region → city   (country counted once, in network)
//	client:   device_type → os → browser → ua
//	device:   the signed device cookie
//
// Within a chain, the account's probability of a value given its parent is
// a Dirichlet (Witten-Bell) estimate: (c(x) + T·g(x|parent)) / (c(parent)
// + T), where c counts the account's sign-ins with the value, T is the
// number of distinct values the account used at that level, and g is the
// global probability of x given its parent, itself smoothed with a prior
// for never-seen values. So an unseen value costs (c(parent)+T)/T at the
// first level where the account departs from its habits and nothing below
// it (the paper's back-off along the hierarchy), and an account that
// changes networks often (large T) pays less for a new one than an account
// that never does. Where the account has no data for a whole feature the
// ratio is 1: a first sign-in scores 0.
//
// The prior term p(account|attack)/p(account|legitimate) of the paper is
// left out: it does not depend on the attempt, and thresholds are easier
// to set on the attempt alone.
//
// # The score scale
//
// Score is log10 S, summed over the chains: 0 means the attempt is as
// likely to come from an attacker as from the owner; each +1 makes it ten
// times more likely to come from an attacker; negative scores are the
// owner's usual sign-ins (a known device and network typically score −5
// or lower). With a history of n sign-ins, one value never used before
// adds about log10(n+1) (2.0 at n = 100); a new country, a new device and
// a new OS together add about 6. Scores are clamped to [-30, 30].
//
// # Decisions
//
// The decision is the strongest of (1) the band the score falls in
// (Bands: DefaultConfig uses Notify 2, Challenge 4, and no score band for
// Approval or Deny, which only rules or overrides reach), and (2) the
// decisions forced by the rules that fired (see the Reason codes and
// Config.Overrides). An allow-listed network (Lists.AllowCIDRs) caps the
// decision at Notify unless a deny rule or a hostile value fired.
//
// A brand-new account (no history at all) is not challenged for being
// new: the score is 0, the reason no_history, and only the other rules
// (lists, reputation, flags) can raise the decision. During an attack wave
// (FlagAttackWave) such a sign-in counts as a new device and is
// challenged.
//
// # What the package must not do
//
// No I/O: no files, network or clock. The time of an attempt comes in the
// Attempt, history and global counts come in as values, and the caller
// stores them. History keeps hashes of feature values, never the raw
// User-Agent or device identifier.
package risk
