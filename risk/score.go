package risk

import "math"

// cardinality is the nominal number of values of each feature, the prior
// for values never seen globally: a value nobody used has global
// probability 1/(N+K) at the top of a chain, and 1/(C(parent)+K/Kparent)
// below its parent.
var cardinality = [numFeatures]float64{
	fCountry: 250, fASN: 1e5, fPrefix: 1.6e7, fIP: 4e9,
	fRegion: 4e3, fCity: 4e5,
	fDeviceType: 5, fOS: 50, fBrowser: 1e3, fUA: 1e6,
	fDevice: 1e9,
}

// chains are the scored feature hierarchies, coarse to fine (see the
// package doc). Region and city are not scored.
var chains = [...][]fidx{
	{fCountry, fASN, fPrefix, fIP},
	{fDeviceType, fOS, fBrowser, fUA},
	{fDevice},
}

// Score bounds.
const (
	minScore = -30
	maxScore = 30
)

// score returns log10 of the likelihood ratio p(x|attack)/p(x|account)
// of the attempt's features f for the history h (not nil), with the
// global popularity g (may be nil).
func score(f *feats, h *History, g Global) float64 {
	var n float64
	if g != nil {
		n = float64(g.Total())
	}
	s := 0.0
	for _, chain := range chains {
		s += scoreChain(f, h, g, n, chain)
	}
	return min(max(s, minScore), maxScore)
}

// scoreChain scores one chain. Along the chain, for each level whose value
// is known and for which the account has data, the account's probability
// of the value given its parent is
//
//	p = (c + T·q) / (cp + T)
//
// with c the account's weight of the value (at most cp), cp the weight of
// the parent value (at the top: of the whole feature), T the number of
// values the account used at this level (at least that of the level
// above, so that departing early never costs less than departing late),
// and q the global probability of the value given its parent, the
// attacker's; the level adds log10(q/p). Once a level's value is new to
// the account, cp is 0 below it and the levels below add nothing.
func scoreChain(f *feats, h *History, g Global, n float64, chain []fidx) float64 {
	ratio := 1.0
	used := false
	var parentC, parentK, parentW, t float64
	for _, i := range chain {
		key := f.key[i]
		if h.n[i] == 0 {
			continue // the account has no data: ratio 1
		}
		if key == 0 && i != fDevice {
			continue // unknown: ratio 1
		}
		// A missing device cookie, for an account that has had some,
		// counts as a device never seen.
		var c float64
		if key != 0 {
			if g != nil {
				c = float64(g.Count(Features[i], f.val[i]))
			}
		}
		k := cardinality[i]
		var q float64
		if !used {
			q = (c + 1) / (n + k)
		} else {
			q = min(1, (c+1)/(parentC+k/parentK))
		}
		ti := max(float64(h.n[i])*unit, t)
		cp := parentW
		if !used {
			cp = float64(h.sum[i])
		}
		w := min(float64(h.weightOf(key)), cp)
		p := (w + ti*q) / (cp + ti)
		ratio *= q / p
		used = true
		parentC, parentK, parentW, t = c, k, w, ti
	}
	if ratio == 1 {
		return 0
	}
	return math.Log10(ratio)
}
