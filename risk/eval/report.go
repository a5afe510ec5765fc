package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mamoru-id/mamoru/risk"
)

// Report is what an evaluation found. Rates are shares in [0, 1].
type Report struct {
	Input  Input  `json:"input"`
	Policy Policy `json:"policy"`
	// Groups of rows of the log: legitimate (successful sign-ins of users
	// with a history), legitimate_first, legitimate_failed (counted only),
	// attack_ip_failed, attack_ip_successful, takeover_unlisted, and attack
	// (the three attack groups together).
	Groups []Group `json:"groups"`
	// RAR is the re-authentication rate: the share of legitimate
	// successful sign-ins, each user's first one excluded, that the policy
	// challenges or refuses (decision challenge or stronger). RARAll
	// includes the first sign-ins.
	RAR    float64 `json:"rar"`
	RARAll float64 `json:"rar_all"`
	// NotifyRate is the share of the same sign-ins the owner would be told
	// about (notify or stronger).
	NotifyRate float64 `json:"notify_rate"`
	// Detection is the share of the attack rows (Is Attack IP or Is
	// Account Takeover) that the policy challenges or refuses, assessed as
	// if their password had been right; TakeoverDetection the same for the
	// takeovers alone.
	Detection         float64 `json:"detection_rate"`
	TakeoverDetection float64 `json:"takeover_detection_rate"`
	Takeovers         int64   `json:"takeovers"`
	// Attackers are the simulated attackers' results (nil with none).
	Attackers *Attackers `json:"attackers,omitempty"`
}

// Input describes the log.
type Input struct {
	Rows           int64     `json:"rows"`     // good rows replayed
	BadRows        int64     `json:"bad_rows"` // records skipped
	BadExamples    []BadRow  `json:"bad_examples,omitempty"`
	MissingColumns []string  `json:"missing_columns,omitempty"`
	Late           int64     `json:"late_rows"` // rows replayed after a later one (beyond the reorder window)
	Users          int       `json:"users"`     // users with at least one legitimate successful sign-in
	From           time.Time `json:"from"`
	To             time.Time `json:"to"`
}

// Policy is the part of the configuration the figures depend on most.
// A nil band is off.
type Policy struct {
	Notify    *float64 `json:"notify"`
	Challenge *float64 `json:"challenge"`
	Approval  *float64 `json:"approval"`
	Deny      *float64 `json:"deny"`
	Audit     bool     `json:"audit,omitempty"`
}

// Group is the outcome of one group of rows.
type Group struct {
	Name      string           `json:"name"`
	Rows      int64            `json:"rows"`
	Assessed  bool             `json:"assessed"`
	Decisions map[string]int64 `json:"decisions,omitempty"`
	// Challenged is the share of the rows with decision challenge or
	// stronger; Notified notify or stronger.
	Challenged float64    `json:"challenged"`
	Notified   float64    `json:"notified"`
	Scores     *Quantiles `json:"scores,omitempty"`
	Histogram  []Bin      `json:"histogram,omitempty"`
	Reasons    []Share    `json:"reasons,omitempty"`
}

// Attackers are the results of the simulated attackers.
type Attackers struct {
	Attempts   int     `json:"attempts"`    // per model
	Users      int     `json:"users"`       // sampled users they were spread over
	MinHistory int     `json:"min_history"` // legitimate sign-ins a sampled user had at least
	Seed       uint64  `json:"seed"`
	Models     []Model `json:"models"`
}

// Model is the result of one attacker model. The curve and the points at
// the target RARs compare its scores with those of the legitimate
// sign-ins of the "legitimate" group under a threshold on the score alone
// (no rule); Challenged is what the whole policy does.
type Model struct {
	Name       string           `json:"name"`
	Attempts   int64            `json:"attempts"`
	Decisions  map[string]int64 `json:"decisions"`
	Challenged float64          `json:"challenged"`
	AUC        *float64         `json:"auc,omitempty"`
	Scores     *Quantiles       `json:"scores,omitempty"`
	AtRAR      []AtRAR          `json:"at_rar,omitempty"`
	AtTPR      []AtTPR          `json:"at_tpr,omitempty"`
	Curve      []Point          `json:"curve,omitempty"`
	Reasons    []Share          `json:"reasons,omitempty"`
}

func band(v float64) *float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return &v
}

func decisions(g *group) (map[string]int64, float64) {
	m := map[string]int64{}
	var high int64
	for l, n := range g.decisions {
		if n > 0 {
			m[string(risk.Decisions[l])] = n
		}
		if l >= risk.Challenge.Level() {
			high += n
		}
	}
	return m, rate(high, g.rows)
}

func notified(g *group) float64 {
	var n int64
	for l, c := range g.decisions {
		if l >= risk.Notify.Level() {
			n += c
		}
	}
	return rate(n, g.rows)
}

// report builds the report of the replay (without the attackers).
func (rp *replay) report(rd *Reader) *Report {
	bad, examples := rd.Bad()
	b := rp.o.Config.Bands
	rep := &Report{
		Input: Input{
			Rows: rp.rows, BadRows: bad, BadExamples: examples, MissingColumns: rd.Missing(),
			Late: rp.late, Users: len(rp.users), From: rp.from, To: rp.to,
		},
		Policy: Policy{Notify: band(b.Notify), Challenge: band(b.Challenge), Approval: band(b.Approval), Deny: band(b.Deny), Audit: rp.o.Config.Audit},
	}
	var all group // the attack groups together
	for i, name := range groupNames {
		g := &rp.groups[i]
		out := Group{Name: name, Rows: g.rows, Assessed: i != 2}
		if out.Assessed {
			out.Decisions, out.Challenged = decisions(g)
			out.Notified = notified(g)
			out.Scores = g.scores.quantiles()
			out.Histogram = g.scores.histogram()
			out.Reasons = g.reasons.shares(g.rows)
		}
		rep.Groups = append(rep.Groups, out)
		if i >= 3 {
			all.rows += g.rows
			for l, n := range g.decisions {
				all.decisions[l] += n
			}
			if g.scores.sum > 0 {
				if all.scores.n == nil {
					all.scores.n = make([]int64, scoreBins)
				}
				for j, n := range g.scores.n {
					all.scores.n[j] += n
				}
				all.scores.sum += g.scores.sum
			}
			for k, n := range g.reasons {
				if all.reasons == nil {
					all.reasons = counter{}
				}
				all.reasons[k] += n
			}
		}
	}
	tot := Group{Name: GroupAttackTotal, Rows: all.rows, Assessed: true}
	tot.Decisions, tot.Challenged = decisions(&all)
	tot.Notified = notified(&all)
	tot.Scores = all.scores.quantiles()
	tot.Histogram = all.scores.histogram()
	tot.Reasons = all.reasons.shares(all.rows)
	rep.Groups = append(rep.Groups, tot)

	ret, first := &rp.groups[0], &rp.groups[1]
	_, rep.RAR = decisions(ret)
	var both group
	both.rows = ret.rows + first.rows
	for l := range both.decisions {
		both.decisions[l] = ret.decisions[l] + first.decisions[l]
	}
	_, rep.RARAll = decisions(&both)
	rep.NotifyRate = notified(ret)
	rep.Detection = tot.Challenged
	var to group
	to.rows = rp.groups[4].rows + rp.groups[5].rows
	for l := range to.decisions {
		to.decisions[l] = rp.groups[4].decisions[l] + rp.groups[5].decisions[l]
	}
	_, rep.TakeoverDetection = decisions(&to)
	rep.Takeovers = to.rows
	return rep
}

// Group returns the group of the given name, or nil.
func (r *Report) Group(name string) *Group {
	for i := range r.Groups {
		if r.Groups[i].Name == name {
			return &r.Groups[i]
		}
	}
	return nil
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

var groupTitles = map[string]string{
	GroupReturning:   "legitimate, returning",
	GroupFirst:       "legitimate, user's first",
	GroupFailed:      "legitimate, wrong password",
	GroupAttackFail:  "attack IP, failed",
	GroupAttackOK:    "attack IP, takeover",
	GroupTakeover:    "takeover, other IP",
	GroupAttackTotal: "all attack rows",
}

func pct(x float64) string {
	switch {
	case x == 0:
		return "0%"
	case x < 0.001:
		return fmt.Sprintf("%.3f%%", 100*x)
	case x < 0.1:
		return fmt.Sprintf("%.2f%%", 100*x)
	}
	return fmt.Sprintf("%.1f%%", 100*x)
}

func score(x float64) string {
	if x > scoreMax {
		return "above all"
	}
	return fmt.Sprintf("%.2f", x)
}

func bandText(v *float64) string {
	if v == nil {
		return "off"
	}
	return fmt.Sprintf("%.1f", *v)
}

// WriteText writes r for people to read: the input, the decisions per
// group of rows, the rates, the reasons, and the simulated attackers.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	in := r.Input
	fmt.Fprintf(&b, "Log: %d rows", in.Rows)
	if !in.From.IsZero() {
		fmt.Fprintf(&b, " from %s to %s", in.From.Format("2006-01-02 15:04"), in.To.Format("2006-01-02 15:04 MST"))
	}
	fmt.Fprintf(&b, ", %d users with a legitimate sign-in\n", in.Users)
	fmt.Fprintf(&b, "Skipped: %d bad rows", in.BadRows)
	if in.Late > 0 {
		fmt.Fprintf(&b, "; %d rows out of time order replayed late", in.Late)
	}
	b.WriteString("\n")
	for _, e := range in.BadExamples {
		fmt.Fprintf(&b, "  line %d: %s\n", e.Line, e.Err)
	}
	if len(in.MissingColumns) > 0 {
		fmt.Fprintf(&b, "Missing columns (unknown values): %s\n", strings.Join(in.MissingColumns, ", "))
	}
	p := r.Policy
	fmt.Fprintf(&b, "Policy: score bands notify %s, challenge %s, approval %s, deny %s", bandText(p.Notify), bandText(p.Challenge), bandText(p.Approval), bandText(p.Deny))
	if p.Audit {
		b.WriteString(" (audit mode: decisions are not enforced)")
	}
	b.WriteString("\n\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-26s\trows\t", "rows of the log")
	for _, d := range risk.Decisions {
		fmt.Fprintf(tw, "%s\t", d)
	}
	fmt.Fprint(tw, "≥challenge\tscore p50\tp90\tp99\tmax\t\n")
	for _, g := range r.Groups {
		fmt.Fprintf(tw, "%-26s\t%d\t", groupTitles[g.Name], g.Rows)
		if !g.Assessed { // a wrong password: the engine never sees it
			fmt.Fprint(tw, strings.Repeat("-\t", len(risk.Decisions)+5), "\n")
			continue
		}
		for _, d := range risk.Decisions {
			fmt.Fprintf(tw, "%d\t", g.Decisions[string(d)])
		}
		fmt.Fprintf(tw, "%s\t", pct(g.Challenged))
		if q := g.Scores; q != nil {
			fmt.Fprintf(tw, "%.2f\t%.2f\t%.2f\t%.2f\t\n", q.P50, q.P90, q.P99, q.Max)
		} else {
			fmt.Fprint(tw, "-\t-\t-\t-\t\n")
		}
	}
	tw.Flush()
	b.WriteString("\n")
	fmt.Fprintf(&b, "Re-authentication rate (RAR) of legitimate sign-ins: %s (%s with each user's first sign-in)\n", pct(r.RAR), pct(r.RARAll))
	fmt.Fprintf(&b, "Owner notified (notify or stronger): %s\n", pct(r.NotifyRate))
	if g := r.Group(GroupAttackTotal); g == nil || g.Rows == 0 {
		b.WriteString("Detection rate of attack rows: no attack rows in the log (Is Attack IP, Is Account Takeover)")
	} else {
		fmt.Fprintf(&b, "Detection rate of attack rows: %s", pct(r.Detection))
	}
	if r.Takeovers > 0 {
		fmt.Fprintf(&b, "; of the %d account takeovers: %s", r.Takeovers, pct(r.TakeoverDetection))
	}
	b.WriteString("\n\n")
	for _, name := range []string{GroupReturning, GroupAttackTotal} {
		g := r.Group(name)
		if g == nil || len(g.Reasons) == 0 {
			continue
		}
		fmt.Fprintf(&b, "Reasons on %s:", groupTitles[name])
		for i, s := range g.Reasons {
			if i == 8 {
				break
			}
			fmt.Fprintf(&b, " %s %s", s.Name, pct(s.Share))
			if i < len(g.Reasons)-1 && i < 7 {
				b.WriteString(",")
			}
		}
		b.WriteString("\n")
	}

	if a := r.Attackers; a != nil {
		fmt.Fprintf(&b, "\nSimulated attackers (Wiefling et al. 2022): %d attempts per model on %d users with ≥%d legitimate sign-ins, seed %d\n",
			a.Attempts, a.Users, a.MinHistory, a.Seed)
		b.WriteString("TPR at a RAR is the share of attempts at or above the score threshold that challenges that share of legitimate sign-ins.\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%-10s\tattempts\t≥challenge (policy)\tAUC\tscore p50\t", "model")
		var targets []AtRAR
		for _, m := range a.Models {
			if len(m.AtRAR) > 0 {
				targets = m.AtRAR
				break
			}
		}
		for _, t := range targets {
			fmt.Fprintf(tw, "TPR@%s\t", pct(t.Target))
		}
		fmt.Fprint(tw, "\n")
		for _, m := range a.Models {
			fmt.Fprintf(tw, "%-10s\t%d\t%s\t", m.Name, m.Attempts, pct(m.Challenged))
			if m.AUC != nil {
				fmt.Fprintf(tw, "%.3f\t", *m.AUC)
			} else {
				fmt.Fprint(tw, "-\t")
			}
			if m.Scores != nil {
				fmt.Fprintf(tw, "%.2f\t", m.Scores.P50)
			} else {
				fmt.Fprint(tw, "-\t")
			}
			for _, t := range m.AtRAR {
				fmt.Fprintf(tw, "%s\t", pct(t.TPR))
			}
			fmt.Fprint(tw, "\n")
		}
		tw.Flush()
		if len(targets) > 0 {
			b.WriteString("\nScore thresholds for the target RARs (score alone, no rules):\n")
			tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprint(tw, "target RAR\tthreshold\tRAR\t")
			for _, m := range a.Models {
				fmt.Fprintf(tw, "TPR %s\t", m.Name)
			}
			fmt.Fprint(tw, "\n")
			for k, t := range targets {
				fmt.Fprintf(tw, "%s\t%s\t%s\t", pct(t.Target), score(t.Threshold), pct(t.RAR))
				for _, m := range a.Models {
					if k < len(m.AtRAR) {
						fmt.Fprintf(tw, "%s\t", pct(m.AtRAR[k].TPR))
					} else {
						fmt.Fprint(tw, "-\t")
					}
				}
				fmt.Fprint(tw, "\n")
			}
			tw.Flush()
		}
		var tpr []AtTPR
		for _, m := range a.Models {
			if len(m.AtTPR) > 0 {
				tpr = m.AtTPR
				break
			}
		}
		if len(tpr) > 0 {
			b.WriteString("\nRAR it takes to catch a share of each attacker (score alone, no rules):\n")
			tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprint(tw, "target TPR\t")
			for _, m := range a.Models {
				fmt.Fprintf(tw, "RAR %s\tthreshold\t", m.Name)
			}
			fmt.Fprint(tw, "\n")
			for k, t := range tpr {
				fmt.Fprintf(tw, "%s\t", pct(t.Target))
				for _, m := range a.Models {
					if k < len(m.AtTPR) {
						fmt.Fprintf(tw, "%s\t%s\t", pct(m.AtTPR[k].RAR), score(m.AtTPR[k].Threshold))
					} else {
						fmt.Fprint(tw, "-\t-\t")
					}
				}
				fmt.Fprint(tw, "\n")
			}
			tw.Flush()
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
