package eval

import (
	"math"
	"sort"
)

// Scores are counted on a grid of 0.01 between the engine's bounds (the
// score is clamped to [-30, 30]): thresholds are swept on the same grid,
// finer than any operator sets them, and memory does not grow with the
// log.
const (
	scoreMin  = -30.0
	scoreMax  = 30.0
	scoreStep = 0.01
	scoreBins = int((scoreMax-scoreMin)/scoreStep) + 1
)

func bin(score float64) int {
	if math.IsNaN(score) {
		return 0
	}
	i := int(math.Round((score - scoreMin) / scoreStep))
	return min(max(i, 0), scoreBins-1)
}

func binScore(i int) float64 { return math.Round((scoreMin+float64(i)*scoreStep)*100) / 100 }

// hist counts scores on the grid.
type hist struct {
	n    []int64 // allocated on first use
	sum  int64
	high int64 // at or above Challenge under the policy
}

func (h *hist) add(score float64) {
	if h.n == nil {
		h.n = make([]int64, scoreBins)
	}
	h.n[bin(score)]++
	h.sum++
}

// atLeast returns how many scores are at or above bin i.
func (h *hist) atLeast(i int) int64 {
	var c int64
	for j := i; j < len(h.n); j++ {
		c += h.n[j]
	}
	return c
}

// quantile returns the score at or below which a share q of the scores
// are (the lower value on the grid), or NaN without scores.
func (h *hist) quantile(q float64) float64 {
	if h.sum == 0 {
		return math.NaN()
	}
	want := int64(math.Ceil(q * float64(h.sum)))
	want = max(want, 1)
	var c int64
	for i, n := range h.n {
		c += n
		if c >= want {
			return binScore(i)
		}
	}
	return scoreMax
}

// Quantiles of a score distribution.
type Quantiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

func (h *hist) quantiles() *Quantiles {
	if h.sum == 0 {
		return nil
	}
	return &Quantiles{P50: h.quantile(0.5), P90: h.quantile(0.9), P99: h.quantile(0.99), P999: h.quantile(0.999), Max: h.quantile(1)}
}

// Bin is the number of scores in [From, From+1).
type Bin struct {
	From  int   `json:"from"`
	Count int64 `json:"count"`
}

// histogram returns the counts per whole score, from the lowest to the
// highest non-empty one.
func (h *hist) histogram() []Bin {
	if h.sum == 0 {
		return nil
	}
	var out []Bin
	for i, n := range h.n {
		if n == 0 {
			continue
		}
		from := int(math.Floor(binScore(i)))
		if len(out) > 0 && out[len(out)-1].From == from {
			out[len(out)-1].Count += n
			continue
		}
		for len(out) > 0 && out[len(out)-1].From < from-1 {
			out = append(out, Bin{From: out[len(out)-1].From + 1})
		}
		out = append(out, Bin{From: from, Count: n})
	}
	return out
}

// Point is one operating point of a score threshold: sign-ins scoring at
// or above Threshold are re-authenticated.
type Point struct {
	Threshold float64 `json:"threshold"`
	RAR       float64 `json:"rar"` // share of the legitimate sign-ins re-authenticated
	TPR       float64 `json:"tpr"` // share of the attacks re-authenticated
}

// AtRAR is the best threshold for a target re-authentication rate: the
// lowest one whose RAR does not exceed the target. A threshold above the
// highest score (30.01) re-authenticates nothing.
type AtRAR struct {
	Target float64 `json:"target"`
	Point
}

// roc compares the scores of legitimate sign-ins (legit) and attacks
// (attack) over every threshold on the grid. It returns the curve (one
// point per distinct operating point, thresholds decreasing, so RAR and
// TPR grow), the points at the target RARs, and the area under the curve:
// the probability that an attack scores above a legitimate sign-in, ties
// counting half.
func roc(legit, attack *hist, targets []float64) (curve []Point, at []AtRAR, auc float64) {
	if legit.sum == 0 || attack.sum == 0 {
		return nil, nil, math.NaN()
	}
	nl, na := float64(legit.sum), float64(attack.sum)
	var cl, ca int64 // counts at or above the current bin
	at = make([]AtRAR, len(targets))
	for k, t := range targets {
		at[k] = AtRAR{Target: t, Point: Point{Threshold: scoreMax + scoreStep}}
	}
	curve = append(curve, Point{Threshold: scoreMax + scoreStep})
	var area float64
	for i := scoreBins - 1; i >= 0; i-- {
		l, a := legit.n[i], attack.n[i]
		if l == 0 && a == 0 {
			continue
		}
		// Attacks in this bin beat every legitimate sign-in below it and
		// tie with those in it.
		area += float64(a) * (float64(legit.sum-cl-l) + 0.5*float64(l))
		cl += l
		ca += a
		p := Point{Threshold: binScore(i), RAR: float64(cl) / nl, TPR: float64(ca) / na}
		curve = append(curve, p)
		for k, t := range targets {
			if p.RAR <= t+1e-12 {
				at[k].Point = p
			}
		}
	}
	return curve, at, area / (nl * na)
}

// AtTPR is the highest threshold that re-authenticates at least a share
// Target of the attacks, and what it costs in legitimate sign-ins.
type AtTPR struct {
	Target float64 `json:"target"`
	Point
}

// atTPR reads the points of a curve (thresholds decreasing) at the target
// TPRs.
func atTPR(curve []Point, targets []float64) []AtTPR {
	out := make([]AtTPR, len(targets))
	for k, t := range targets {
		out[k].Target = t
		for _, p := range curve {
			if p.TPR >= t-1e-12 {
				out[k].Point = p
				break
			}
		}
	}
	return out
}

// thin keeps at most n points of a curve, spread evenly along it, always
// keeping the first and last.
func thin(curve []Point, n int) []Point {
	if len(curve) <= n || n < 2 {
		return curve
	}
	out := make([]Point, 0, n)
	for k := range n {
		out = append(out, curve[k*(len(curve)-1)/(n-1)])
	}
	return out
}

// rate is n/d, or 0 when d is 0.
func rate(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// counter counts names, for reasons.
type counter map[string]int64

// Share is how often something happened in a group.
type Share struct {
	Name  string  `json:"name"`
	Count int64   `json:"count"`
	Share float64 `json:"share"`
}

// shares returns the counts, most frequent first (ties by name), as
// shares of total.
func (c counter) shares(total int64) []Share {
	out := make([]Share, 0, len(c))
	for k, v := range c {
		out = append(out, Share{Name: k, Count: v, Share: rate(v, total)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	return out
}
