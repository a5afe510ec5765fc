package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// newFlow returns a sign-in flow created at created, expiring 15 minutes
// later, with no account yet.
func newFlow(created time.Time) *mamoru.Flow {
	id := mamoru.NewID()
	return &mamoru.Flow{
		ID:          id,
		Kind:        mamoru.FlowSignIn,
		BindingHash: hash("flow " + id),
		Step:        "password",
		State:       []byte(`{"b":1,"a":[2, 3]}`), // not canonical JSON: must come back byte for byte
		IP:          "192.0.2.1",
		UserAgent:   "curl/8.0",
		CreatedAt:   created,
		UpdatedAt:   created,
		ExpiresAt:   created.Add(15 * time.Minute),
	}
}

func createFlow(t *testing.T, s mamoru.Store, f *mamoru.Flow) {
	t.Helper()
	update(t, s, func(tx mamoru.Tx) error { return tx.CreateFlow(ctx(t), f) })
}

var flowTests = map[string]func(t *testing.T, s mamoru.Store){
	"CreateAndGet": func(t *testing.T, s mamoru.Store) {
		f := newFlow(t0)
		f.Version = 7 // CreateFlow stores Version 1 whatever the caller says
		createFlow(t, s, f)
		if f.Version != 1 {
			t.Fatalf("CreateFlow: f.Version = %d, want 1", f.Version)
		}
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.FlowByID(ctx(t), f.ID)
			wantNoErr(t, "FlowByID", err)
			equal(t, "FlowByID", got, f)
			_, err = tx.FlowByID(ctx(t), "nosuchid")
			wantCode(t, "FlowByID", err, mamoru.ENotFound)
			return nil
		})
		update(t, s, func(tx mamoru.Tx) error {
			dup := newFlow(t0)
			dup.ID = f.ID
			wantCode(t, "CreateFlow with a taken ID", tx.CreateFlow(ctx(t), dup), mamoru.EConflict)
			return nil
		})
	},
	"Update": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		f := newFlow(t0)
		createFlow(t, s, f)
		stale := *f
		g := *f
		g.AccountID = a.ID
		g.Step = "done"
		g.State = []byte{0, 1, 2, 0xff}
		g.UpdatedAt = at(time.Minute)
		g.ExpiresAt = at(20 * time.Minute)
		g.IP = "203.0.113.9" // not written by UpdateFlow
		update(t, s, func(tx mamoru.Tx) error { return tx.UpdateFlow(ctx(t), &g) })
		if g.Version != 2 {
			t.Fatalf("UpdateFlow: Version = %d, want 2", g.Version)
		}
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.FlowByID(ctx(t), f.ID)
			wantNoErr(t, "FlowByID", err)
			want := g
			want.IP = f.IP
			equal(t, "FlowByID after UpdateFlow", got, &want)
			return nil
		})
		update(t, s, func(tx mamoru.Tx) error {
			stale.Step = "stale"
			wantCode(t, "UpdateFlow with a stale version", tx.UpdateFlow(ctx(t), &stale), mamoru.EConflict)
			if stale.Version != 1 {
				t.Errorf("a failed UpdateFlow changed Version to %d", stale.Version)
			}
			unknown := newFlow(t0)
			unknown.Version = 1
			wantCode(t, "UpdateFlow of an unknown flow", tx.UpdateFlow(ctx(t), unknown), mamoru.ENotFound)
			return nil
		})
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.FlowByID(ctx(t), f.ID)
			wantNoErr(t, "FlowByID", err)
			if got.Step != "done" || got.Version != 2 {
				t.Fatalf("a stale UpdateFlow changed the flow: %+v", got)
			}
			return nil
		})
		// Back to no account.
		g.AccountID = ""
		update(t, s, func(tx mamoru.Tx) error { return tx.UpdateFlow(ctx(t), &g) })
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.FlowByID(ctx(t), f.ID)
			wantNoErr(t, "FlowByID", err)
			if got.AccountID != "" || got.Version != 3 {
				t.Fatalf("FlowByID: got %+v, want no account and Version 3", got)
			}
			return nil
		})
	},
	"UpdateConcurrent": func(t *testing.T, s mamoru.Store) {
		f := newFlow(t0)
		createFlow(t, s, f)
		const n = 10
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				g := *f // every step read Version 1
				g.Step = "step"
				errs[i] = s.Update(ctx(t), func(tx mamoru.Tx) error { return tx.UpdateFlow(ctx(t), &g) })
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				wantCode(t, "a losing UpdateFlow", err, mamoru.EConflict)
			}
		}
		if won != 1 {
			t.Fatalf("%d of %d concurrent UpdateFlow calls with the same version succeeded, want 1", won, n)
		}
	},
	"DeleteBefore": func(t *testing.T, s mamoru.Store) {
		old := newFlow(t0)                     // expires at(15m)
		atCut := newFlow(at(15 * time.Minute)) // expires at(30m)
		fresh := newFlow(at(20 * time.Minute)) // expires at(35m)
		createFlow(t, s, old)
		createFlow(t, s, atCut)
		createFlow(t, s, fresh)
		var n int
		update(t, s, func(tx mamoru.Tx) error {
			var err error
			n, err = tx.DeleteFlowsBefore(ctx(t), at(30*time.Minute))
			return err
		})
		if n != 1 {
			t.Fatalf("DeleteFlowsBefore: got %d, want 1", n)
		}
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.FlowByID(ctx(t), old.ID)
			wantCode(t, "FlowByID of a deleted flow", err, mamoru.ENotFound)
			for _, f := range []*mamoru.Flow{atCut, fresh} {
				_, err := tx.FlowByID(ctx(t), f.ID)
				wantNoErr(t, "FlowByID of a kept flow", err)
			}
			return nil
		})
	},
}
