package mamoru

import (
	"math/big"
	"math/rand/v2"
	"testing"
	"time"
)

// TestSlidingCount compares sliding with the formula in arbitrary precision,
// on values whose product overflows 64 bits and on negative counts.
func TestSlidingCount(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		w := time.Duration(1 + r.Int64N(int64(365*24*time.Hour)))
		elapsed := r.Int64N(int64(w))
		cur := r.Int64N(1<<40) - 1<<39
		prev := r.Int64N(1<<60) - 1<<59
		if r.IntN(4) == 0 {
			prev = r.Int64N(100) - 50
		}
		x := new(big.Int).Mul(big.NewInt(prev), big.NewInt(int64(w)-elapsed))
		x.Div(x, big.NewInt(int64(w))) // Euclidean: floor for a positive divisor
		want := cur + x.Int64()
		if got := SlidingCount(cur, prev, w, elapsed); got != want {
			t.Fatalf("SlidingCount(%d, %d, %v, %d) = %d, want %d", cur, prev, w, elapsed, got, want)
		}
	}
}

func TestCounterWindow(t *testing.T) {
	for _, c := range []struct {
		ns, w, idx, elapsed int64
	}{
		{0, 10, 0, 0}, {9, 10, 0, 9}, {10, 10, 1, 0}, {-1, 10, -1, 9}, {-10, 10, -1, 0}, {-11, 10, -2, 9},
	} {
		idx, elapsed := CounterWindow(c.ns, time.Duration(c.w))
		if idx != c.idx || elapsed != c.elapsed {
			t.Errorf("CounterWindow(%d, %d) = %d, %d; want %d, %d", c.ns, c.w, idx, elapsed, c.idx, c.elapsed)
		}
	}
}
