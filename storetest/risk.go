package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

var riskTests = map[string]func(t *testing.T, s mamoru.Store){
	"History": func(t *testing.T, s mamoru.Store) {
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.RiskHistory(ctx(t), "a")
			wantCode(t, "no history", err, mamoru.ENotFound)
			return nil
		})
		for i, data := range [][]byte{{1, 2, 3, 0, 255}, bytes.Repeat([]byte{7}, 4096), {}} {
			update(t, s, func(tx mamoru.Tx) error {
				return tx.SaveRiskHistory(ctx(t), "a", data, at(time.Duration(i)*time.Minute))
			})
			view(t, s, func(tx mamoru.Tx) error {
				got, err := tx.RiskHistory(ctx(t), "a")
				wantNoErr(t, "RiskHistory", err)
				if !bytes.Equal(got, data) {
					t.Fatalf("history %d: got %d bytes, want %d", i, len(got), len(data))
				}
				return nil
			})
		}
	},
	"Counts": func(t *testing.T, s mamoru.Store) {
		update(t, s, func(tx mamoru.Tx) error {
			return tx.AddRiskCounts(ctx(t), map[string]uint64{"ip:a": 1, "": 1, "asn:2516": 1, "zero": 0})
		})
		update(t, s, func(tx mamoru.Tx) error { return tx.AddRiskCounts(ctx(t), map[string]uint64{"ip:a": 1}) })
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.RiskCounts(ctx(t), []string{"ip:a", "asn:2516", "", "never"})
			wantNoErr(t, "RiskCounts", err)
			want := map[string]uint64{"ip:a": 2, "asn:2516": 1, "": 1, "never": 0}
			if z, _ := tx.RiskCounts(ctx(t), []string{"zero"}); z["zero"] != 0 {
				t.Fatalf("a zero delta stored %d", z["zero"])
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("counts %v, want %v", got, want)
			}
			empty, err := tx.RiskCounts(ctx(t), nil)
			if err != nil || len(empty) != 0 {
				t.Fatalf("no keys: %v %v", empty, err)
			}
			return nil
		})
	},
	"ConcurrentCounts": func(t *testing.T, s mamoru.Store) {
		const n = 16
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if err := s.Update(ctx(t), func(tx mamoru.Tx) error {
					return tx.AddRiskCounts(ctx(t), map[string]uint64{"": 1, "country:JP": 2})
				}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.RiskCounts(ctx(t), []string{"", "country:JP"})
			wantNoErr(t, "RiskCounts", err)
			if got[""] != n || got["country:JP"] != 2*n {
				t.Fatalf("concurrent counts %v, want %d and %d", got, n, 2*n)
			}
			return nil
		})
	},
}
