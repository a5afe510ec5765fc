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
// a probability. As in the paper, features are taken as independent
// between groups and related by a hierarchy within one; the groups are
// chains from coarse to fine:
//
//	network: country → asn → prefix (/24, /48) → ip
//	client:  device_type → os → browser → ua (the User-Agent's hash)
//	device:  the signed device cookie
//
// Region and city are features (Values) but are not scored: they follow
// from the network almost always, and counting them too would count the
// same evidence twice; impossible travel uses the coordinates.
//
// Within a chain, the account's probability of a value given its parent
// is a Dirichlet estimate with Witten-Bell weight:
//
//	p(x | parent, account) = (c(x) + T·q(x|parent)) / (c(parent) + T)
//
// where c counts the account's sign-ins with the value (the whole
// feature's at the top), T is the number of distinct values the account
// used at that level (taken as at least the level above's), and q is the
// global probability of x given its parent, smoothed with a prior for
// values nobody used: (C(x)+1)/(C(parent)+K(x)/K(parent)), K being a
// nominal number of values per feature (250 countries, 100,000 ASNs, …).
// The level adds log10(q/p). So a value new to the account costs
// (c(parent)+T)/T at the first level where the account departs from its
// habits, and nothing below it (the back-off of the paper along the
// hierarchy); an account that changes networks often (large T) pays less
// for a new one than an account that never does. A level whose value is
// unknown (no GeoIP data, an empty User-Agent), or for which the account
// has no data at all, counts 1: a first sign-in scores exactly 0. A
// missing device cookie counts as a device never seen when the account
// has had cookies.
//
// Taking T at least the parent's makes the score monotonic in novelty: an
// attempt from a country the account never used never scores lower than
// the same attempt from a country it used (a property test checks it).
//
// The paper's prior term p(account|attack)/p(account|legitimate) is left
// out: it does not depend on the attempt, and thresholds are easier to
// set on the attempt alone. The attacker's IP distribution is global
// popularity too; network reputation enters through rules instead.
//
// # The score scale
//
// Score is log10 S, summed over the chains and clamped to [-30, 30]:
//
//   - 0: the attempt is as likely to come from an attacker as from the
//     owner (and every first sign-in scores 0);
//   - each +1: ten times more likely to come from an attacker;
//   - negative: the owner's habits. A known device on a known network
//     scores about -10 against a population of many accounts.
//
// With a history of n sign-ins, the first value the account never used in
// a chain adds about log10((n+T)/T): 2.0 at n = 100 with one value, 1.3
// with five. A new country, a new device and a new OS together score
// about 5 to 6 at n = 100; the owner's new phone on the home network
// about -1.5; the owner's own laptop abroad about -5.
//
// # Decisions
//
// The decision is the strongest of (1) the band the score falls in
// (Bands; DefaultConfig: Notify from 2, Challenge from 4, no score band
// for Approval or Deny (+Inf), which only rules or overrides reach) and
// (2) the decisions forced by the rules that fired (see the Reason codes;
// Config.Overrides changes them). An allow-listed network
// (Lists.AllowCIDRs) caps the decision at Notify unless a deny rule or a
// hostile value fired.
//
// A brand-new account (no history at all) is not challenged for being
// new: its score is 0, the reason no_history, and only the other rules
// (lists, reputation, flags) can raise the decision; the owner hears of
// the sign-in like any other. During an attack wave (FlagAttackWave) such
// a sign-in counts as one from a new device and is challenged. An account
// whose values have all aged out still knows when it last signed in, so
// it is a long absence (challenged), never a first sign-in.
//
// # What the package must not do
//
// No I/O: no files, network or clock. The time of an attempt comes in the
// Attempt, history and global counts come in as values, and the caller
// stores them. History keeps hashes of feature values, never the raw
// User-Agent or device identifier.
package risk
