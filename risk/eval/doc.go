// Package eval replays a login log through the risk engine, offline, and
// reports what an operator needs to choose thresholds (`mamoru eval`).
//
// # Input
//
// A CSV file in the format of the public RBA login data set
// (das-group/rba-dataset, Wiefling et al., "Pump Up Password Security!
// Evaluating and Enhancing Risk-Based Authentication on a Real-World
// Large-Scale Online Service", ACM TOPS 2022): columns Login Timestamp,
// User ID, IP Address, Country, Region, City, ASN, User Agent String,
// Browser Name and Version, OS Name and Version, Device Type, Login
// Successful, Is Attack IP and Is Account Takeover, found by header name;
// other columns are ignored. Bad records are counted and skipped (the
// first few are reported with their line), never fatal. The reader holds
// a window of rows (Options.Reorder) to put a log that is almost in time
// order in order.
//
// # Replay
//
// Rows are replayed in time order. A row from an attack IP or an account
// takeover is an attack row: it is assessed with its user's history as if
// its password had been right (the engine assesses after the password),
// and never learned. A successful row otherwise is the user's own: it is
// assessed, then learned by the user's history and by the global counts.
// A failed row of the user's own is a mistyped password: it is not
// assessed. Every failed row, attack or not, counts in the reputation
// window (failures per IP and per ASN) after it is assessed. Memory grows
// with the number of users (one compact risk.History each), not with the
// number of rows.
//
// # Simulated attackers
//
// The attacker models of Wiefling et al. (naive, VPN, targeted; see
// Models) attack a uniform sample of users who had at least
// Options.MinHistory legitimate sign-ins, after the replay, against their
// history and the global counts at the end of the log, a few hours after
// the victim's last sign-in. Their networks and clients are drawn from the
// log (reservoir samples of its rows). Their scores are compared with the
// scores of the legitimate sign-ins of returning users: sweeping a
// threshold on the score gives, for each model, the true-positive rate
// (TPR) at each target re-authentication rate (RAR) and the area under the
// curve (AUC).
//
// # Report
//
// Report holds the figures; WriteText words them for people, WriteJSON
// writes them for programs, WritePlot draws TPR against RAR as SVG.
package eval
