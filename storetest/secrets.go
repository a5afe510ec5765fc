package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/mamoru-id/mamoru"
)

func ensureSecret(t *testing.T, s mamoru.Store, name string, candidate []byte) []byte {
	t.Helper()
	var got []byte
	update(t, s, func(tx mamoru.Tx) error {
		var err error
		got, err = tx.EnsureSecret(ctx(t), name, candidate)
		return err
	})
	return got
}

var secretTests = map[string]func(t *testing.T, s mamoru.Store){
	"Ensure": func(t *testing.T, s mamoru.Store) {
		first := []byte{0, 1, 2, 3, 0xfe, 0xff}
		if got := ensureSecret(t, s, "cookie", first); !bytes.Equal(got, first) {
			t.Fatalf("EnsureSecret of a new name: got %x, want the candidate %x", got, first)
		}
		if got := ensureSecret(t, s, "cookie", []byte("second")); !bytes.Equal(got, first) {
			t.Fatalf("EnsureSecret of a stored name: got %x, want the first value %x", got, first)
		}
		other := []byte("other")
		if got := ensureSecret(t, s, "code", other); !bytes.Equal(got, other) {
			t.Fatalf("EnsureSecret of another name: got %x, want %x", got, other)
		}
	},
	"EnsureConcurrent": func(t *testing.T, s mamoru.Store) {
		const n = 10
		var wg sync.WaitGroup
		got := make([][]byte, n)
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = s.Update(ctx(t), func(tx mamoru.Tx) error {
					var err error
					got[i], err = tx.EnsureSecret(ctx(t), "key", fmt.Appendf(nil, "candidate %d", i))
					return err
				})
			})
		}
		close(start)
		wg.Wait()
		for i := range n {
			wantNoErr(t, "EnsureSecret", errs[i])
			if !bytes.Equal(got[i], got[0]) {
				t.Fatalf("concurrent EnsureSecret calls returned %q and %q", got[0], got[i])
			}
		}
		if stored := ensureSecret(t, s, "key", []byte("late")); !bytes.Equal(stored, got[0]) {
			t.Fatalf("EnsureSecret: stored %q, the callers got %q", stored, got[0])
		}
	},
}
