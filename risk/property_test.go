package risk

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// randomGlobal is nil, the population, or the population with the
// sign-ins in extra.
func randomGlobal(r *rand.Rand, extra []Attempt) Global {
	switch r.IntN(3) {
	case 0:
		return nil
	case 1:
		return basePopulation()
	}
	g := NewMemGlobal()
	for _, a := range extra {
		g.Add(a)
	}
	return g
}

// A history of identical sign-ins always scores low and is allowed.
func TestPropertyIdenticalSignInsAreAllowed(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	e := mustEngine(t, DefaultConfig())
	for iter := 0; iter < propIters(300); iter++ {
		a := randomAttempt(r, t0)
		a.Flags = 0
		n := 1 + r.IntN(250)
		step := time.Duration(1+r.IntN(30*24*60)) * time.Minute
		h := NewHistory()
		var seen []Attempt
		at := t0
		for i := 0; i < n; i++ {
			a.Time = at
			h.Learn(a, Limits{})
			seen = append(seen, a)
			at = at.Add(step)
		}
		a.Time = at
		got := e.Assess(a, h, randomGlobal(r, seen), nil)
		if got.Score > 1e-9 || got.Decision != Allow || len(got.Reasons) != 0 {
			t.Fatalf("iteration %d: %d identical sign-ins %v apart: %+v for %+v", iter, n, step, got, a)
		}
	}
}

// An unseen country never lowers the score, nor the decision, compared to
// the same attempt from a country the account used.
func TestPropertyUnseenCountryNeverLowersTheScore(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	e := mustEngine(t, DefaultConfig())
	checked := 0
	for iter := 0; iter < propIters(400); iter++ {
		h := NewHistory()
		var seen []Attempt
		at := t0
		for i, n := 0, 1+r.IntN(150); i < n; i++ {
			at = at.Add(time.Duration(r.IntN(72*60)) * time.Minute)
			a := randomAttempt(r, at)
			h.Learn(a, Limits{MaxLogins: 1 + r.IntN(120)})
			seen = append(seen, a)
		}
		x := randomAttempt(r, at.Add(time.Duration(r.IntN(48*60))*time.Minute))
		var used []string
		for _, c := range []string{"JP", "FR", "RU", "US"} {
			if h.weightOf(hkey(fCountry, c)) > 0 {
				used = append(used, c)
			}
		}
		if len(used) == 0 {
			continue
		}
		g := randomGlobal(r, seen)
		withSeen, withUnseen := x, x
		withSeen.Place.Country = used[r.IntN(len(used))]
		withUnseen.Place.Country = "BR"
		a, b := e.Assess(withSeen, h, g, nil), e.Assess(withUnseen, h, g, nil)
		if b.Score < a.Score-1e-9 || b.Decision.Level() < a.Decision.Level() {
			t.Fatalf("iteration %d: seen %s: %.4f %s, unseen: %.4f %s", iter, withSeen.Place.Country, a.Score, a.Decision, b.Score, b.Decision)
		}
		checked++
	}
	if checked < 200 {
		t.Errorf("only %d cases checked", checked)
	}
}

// More of the same evidence never makes a known sign-in riskier: the
// score of the usual sign-in does not rise as the history grows.
func TestPropertyHabitsLowerTheScore(t *testing.T) {
	e := mustEngine(t, DefaultConfig())
	g := basePopulation()
	h := NewHistory()
	prev := 0.0
	for i := 0; i < 150; i++ {
		at := t0.Add(time.Duration(i) * time.Hour)
		h.Learn(home(at), Limits{})
		s := e.Assess(home(at.Add(time.Hour)), h, g, nil).Score
		if s > prev+1e-9 {
			t.Fatalf("after %d sign-ins the score rose from %.4f to %.4f", i+1, prev, s)
		}
		prev = s
	}
}

// propIters is n, or MAMORU_RISK_PROP_ITERS when set (for long runs).
func propIters(n int) int {
	if s := os.Getenv("MAMORU_RISK_PROP_ITERS"); s != "" {
		if m, err := strconv.Atoi(s); err == nil && m > 0 {
			return m
		}
	}
	return n
}
