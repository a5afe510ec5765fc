package eval

import (
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
)

// WritePlot writes an SVG plot of the simulated attackers' true-positive
// rate against the re-authentication rate of legitimate sign-ins, one
// curve per attacker model (the threshold on the score swept), the
// RAR axis logarithmic. A dot on each curve marks what the whole policy
// does (bands and rules), and dotted lines the target RARs. title, if not
// empty, is printed above the plot.
func (r *Report) WritePlot(w io.Writer, title string) error {
	const (
		width, height          = 760, 500
		left, right, top, bott = 70, 190, 50, 60
		pw, ph                 = width - left - right, height - top - bott
	)
	var models []Model
	if r.Attackers != nil {
		models = r.Attackers.Models
	}
	// The RAR axis: from a power of ten below the smallest positive RAR
	// (at least 1e-5, at most 1e-2) to 1.
	minRAR := 1.0
	for _, m := range models {
		for _, p := range m.Curve {
			if p.RAR > 0 && p.RAR < minRAR {
				minRAR = p.RAR
			}
		}
	}
	lo := math.Pow(10, math.Floor(math.Log10(minRAR)))
	lo = min(max(lo, 1e-5), 1e-2)
	x := func(rar float64) float64 {
		if rar < lo {
			rar = lo
		}
		return left + pw*(math.Log10(rar)-math.Log10(lo))/(-math.Log10(lo))
	}
	y := func(tpr float64) float64 { return top + ph*(1-tpr) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	if title == "" {
		title = "Simulated attackers: true-positive rate against re-authentication rate"
	}
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))

	// Grid and axes.
	for e := math.Log10(lo); e <= 0.001; e++ {
		v := math.Pow(10, e)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ccc"/>`+"\n", x(v), top, x(v), top+ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s%%</text>`+"\n", x(v), top+ph+18, strconv.FormatFloat(math.Pow(10, math.Round(e)+2), 'f', -1, 64))
		for k := 2; k <= 9 && e < 0; k++ {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>`+"\n", x(float64(k)*v), top, x(float64(k)*v), top+ph)
		}
	}
	for k := 0; k <= 10; k++ {
		v := float64(k) / 10
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`+"\n", left, y(v), left+pw, y(v), map[bool]string{true: "#ccc", false: "#eee"}[k%5 == 0])
		if k%2 == 0 {
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%d%%</text>`+"\n", left-6, y(v)+4, k*10)
		}
	}
	var targets []AtRAR
	for _, m := range models {
		if len(m.AtRAR) > 0 {
			targets = m.AtRAR
			break
		}
	}
	for _, t := range targets {
		if t.Target >= lo {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#999" stroke-dasharray="2,3"/>`+"\n", x(t.Target), top, x(t.Target), top+ph)
		}
	}
	// Chance: an engine that knows nothing challenges attacks as often as
	// legitimate sign-ins.
	var chance []string
	for k := 0; k <= 60; k++ {
		v := lo * math.Pow(1/lo, float64(k)/60)
		chance = append(chance, fmt.Sprintf("%.1f,%.1f", x(v), y(v)))
	}
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#aaa" stroke-dasharray="6,4"/>`+"\n", strings.Join(chance, " "))
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n", left, top, pw, ph)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">re-authentication rate of legitimate sign-ins (RAR, log scale)</text>`+"\n", left+pw/2, height-18)
	fmt.Fprintf(&b, `<text transform="translate(18,%d) rotate(-90)" text-anchor="middle">attacks re-authenticated (TPR)</text>`+"\n", top+ph/2)

	// Curves, policy points and the legend.
	colors := []string{"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"}
	ly := top + 10
	for i, m := range models {
		c := colors[i%len(colors)]
		var pts []string
		for _, p := range m.Curve {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.RAR), y(p.TPR)))
		}
		if len(pts) > 0 {
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), c)
		}
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="5" fill="%s" stroke="white"/>`+"\n", x(r.RAR), y(m.Challenged), c)
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", left+pw+15, ly, left+pw+40, ly, c)
		label := m.Name
		if m.AUC != nil {
			label += fmt.Sprintf(" (AUC %.3f)", *m.AUC)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", left+pw+46, ly+4, html.EscapeString(label))
		ly += 22
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#aaa" stroke-dasharray="6,4"/>`+"\n", left+pw+15, ly, left+pw+40, ly)
	fmt.Fprintf(&b, `<text x="%d" y="%d">chance</text>`+"\n", left+pw+46, ly+4)
	ly += 22
	fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="5" fill="#555" stroke="white"/>`+"\n", left+pw+27, ly)
	fmt.Fprintf(&b, `<text x="%d" y="%d">the policy</text>`+"\n", left+pw+46, ly+4)
	ly += 22
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999" stroke-dasharray="2,3"/>`+"\n", left+pw+15, ly, left+pw+40, ly)
	fmt.Fprintf(&b, `<text x="%d" y="%d">target RARs</text>`+"\n", left+pw+46, ly+4)
	if len(models) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">no simulated attackers</text>`+"\n", left+pw/2, top+ph/2)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
