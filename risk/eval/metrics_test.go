package eval

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func histOf(scores ...float64) *hist {
	var h hist
	for _, s := range scores {
		h.add(s)
	}
	return &h
}

func TestHist(t *testing.T) {
	h := histOf(-5, -5, -4.004, 0, 3.5, 30, 99, math.NaN())
	if h.sum != 8 {
		t.Fatal(h.sum)
	}
	if got := h.quantile(0.5); got != -4 {
		t.Errorf("p50 %v", got)
	}
	if got := h.quantile(1); got != 30 {
		t.Errorf("max %v", got)
	}
	if got := h.quantile(0.01); got != -30 { // NaN counts at the bottom
		t.Errorf("min %v", got)
	}
	if got := h.atLeast(bin(3.5)); got != 3 {
		t.Errorf("at least 3.5: %d", got)
	}
	bins := histOf(-2.5, -1, 1.99, 2).histogram()
	want := []Bin{{-3, 1}, {-2, 0}, {-1, 1}, {0, 0}, {1, 1}, {2, 1}}
	if len(bins) != len(want) {
		t.Fatalf("%v", bins)
	}
	for i := range want {
		if bins[i] != want[i] {
			t.Errorf("%v", bins)
		}
	}
	var empty hist
	if empty.quantiles() != nil || !math.IsNaN(empty.quantile(0.5)) || empty.histogram() != nil {
		t.Error("empty histogram")
	}
}

func TestROC(t *testing.T) {
	// Perfectly separated.
	legit := histOf(-5, -4, -3, -2)
	attack := histOf(1, 2)
	curve, at, auc := roc(legit, attack, []float64{0, 0.25, 0.5})
	if auc != 1 {
		t.Errorf("auc %v", auc)
	}
	if at[0].Threshold != 1 || at[0].TPR != 1 || at[0].RAR != 0 {
		t.Errorf("at 0: %+v", at[0])
	}
	if at[1].Threshold != -2 || at[1].RAR != 0.25 || at[2].Threshold != -3 || at[2].RAR != 0.5 {
		t.Errorf("%+v", at)
	}
	first, last := curve[0], curve[len(curve)-1]
	if first.RAR != 0 || first.TPR != 0 || first.Threshold <= scoreMax || last.RAR != 1 || last.TPR != 1 {
		t.Errorf("curve %+v", curve)
	}
	for i := 1; i < len(curve); i++ {
		if curve[i].RAR < curve[i-1].RAR || curve[i].TPR < curve[i-1].TPR || curve[i].Threshold >= curve[i-1].Threshold {
			t.Errorf("not monotonic at %d: %+v", i, curve)
		}
	}

	tp := atTPR(curve, []float64{0.5, 1})
	if tp[0].Threshold != 2 || tp[0].TPR != 0.5 || tp[0].RAR != 0 || tp[1].Threshold != 1 || tp[1].TPR != 1 {
		t.Errorf("at TPR: %+v", tp)
	}

	// The same distribution: 0.5; ties count half.
	_, _, auc = roc(histOf(1, 2, 3), histOf(1, 2, 3), nil)
	if math.Abs(auc-0.5) > 1e-12 {
		t.Errorf("auc %v", auc)
	}
	_, _, auc = roc(histOf(0, 0), histOf(0, 5), nil)
	if math.Abs(auc-0.75) > 1e-12 {
		t.Errorf("auc %v", auc)
	}
	// The opposite: 0. A target no threshold meets re-authenticates nothing.
	_, at, auc = roc(histOf(5, 6), histOf(-1), []float64{0.1})
	if auc != 0 || at[0].Threshold <= scoreMax || at[0].TPR != 0 || at[0].RAR != 0 {
		t.Errorf("auc %v at %+v", auc, at)
	}
	if c, _, _ := roc(&hist{}, histOf(1), nil); c != nil {
		t.Error("curve without legitimate scores")
	}

	// Against brute force on random scores.
	rng := rand.New(rand.NewPCG(1, 2))
	var ls, as []float64
	for range 500 {
		ls = append(ls, math.Round(rng.NormFloat64()*300)/100)
		as = append(as, math.Round((1+rng.NormFloat64())*300)/100)
	}
	_, at, auc = roc(histOf(ls...), histOf(as...), []float64{0.05})
	var wins float64
	for _, a := range as {
		for _, l := range ls {
			switch {
			case a > l:
				wins++
			case a == l:
				wins += 0.5
			}
		}
	}
	if want := wins / float64(len(as)*len(ls)); math.Abs(auc-want) > 1e-9 {
		t.Errorf("auc %v, want %v", auc, want)
	}
	var nl, na int
	for _, l := range ls {
		if l >= at[0].Threshold-1e-9 {
			nl++
		}
	}
	for _, a := range as {
		if a >= at[0].Threshold-1e-9 {
			na++
		}
	}
	if float64(nl)/500 != at[0].RAR || float64(na)/500 != at[0].TPR || at[0].RAR > 0.05 {
		t.Errorf("%+v: %d legit, %d attacks at or above", at[0], nl, na)
	}
}

func TestThin(t *testing.T) {
	var c []Point
	for i := range 1000 {
		c = append(c, Point{Threshold: float64(-i)})
	}
	th := thin(c, 200)
	if len(th) != 200 || th[0] != c[0] || th[199] != c[999] {
		t.Errorf("%d points, ends %v %v", len(th), th[0], th[len(th)-1])
	}
	if len(thin(c[:10], 200)) != 10 {
		t.Error("short curve thinned")
	}
}

func TestMisraGries(t *testing.T) {
	var s [2]counted[string]
	for _, v := range strings.Split("a b a c a d a b b a", " ") {
		see(s[:], v)
	}
	if v, ok := top(s[:]); !ok || v != "a" {
		t.Errorf("%v %v", v, ok)
	}
	var empty [2]counted[int]
	if _, ok := top(empty[:]); ok {
		t.Error("top of nothing")
	}
}

func TestPlotIsSVG(t *testing.T) {
	auc := 0.93
	r := &Report{RAR: 0.02, Attackers: &Attackers{Models: []Model{
		{Name: "naive", Challenged: 0.9, AUC: &auc, AtRAR: []AtRAR{{Target: 0.01, Point: Point{Threshold: 4, RAR: 0.009, TPR: 0.8}}},
			Curve: []Point{{Threshold: 30.01}, {Threshold: 4, RAR: 0.009, TPR: 0.8}, {Threshold: -30, RAR: 1, TPR: 1}}},
		{Name: "targeted <&>", Challenged: 0.1},
	}}}
	for _, rep := range []*Report{r, {}} {
		var b bytes.Buffer
		if err := rep.WritePlot(&b, ""); err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(&b)
		for {
			_, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("not XML: %v", err)
			}
		}
	}
}
