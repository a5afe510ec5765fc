package webhook

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/notify"
)

// BenchmarkDispatch measures what EventRecorded adds to the transaction
// that records an event, per event and endpoint: building the payload (and
// signing the SET) and handing the message to the store (here a tx that
// only keeps it: the INSERT is the store's cost, not this package's).
func BenchmarkDispatch(b *testing.B) {
	keys := testKeys(b)
	events := sampleEvents()
	for _, c := range []struct {
		name, format, event string
	}{
		{"json", "json", "sign_in.succeeded"},
		{"set/mamoru", "set", "sign_in.succeeded"},
		{"set/caep", "set", "session.ended"},
	} {
		b.Run(c.name, func(b *testing.B) {
			d, err := NewDispatcher(Config{Endpoints: []Endpoint{endpoint("app", "https://app.example.com/hook", c.format)}},
				testIssuer, keys, nil)
			if err != nil {
				b.Fatal(err)
			}
			e := events[c.event]
			tx := &captureTx{}
			b.ReportAllocs()
			for b.Loop() {
				tx.msgs = tx.msgs[:0]
				if err := d.EventRecorded(ctx, tx, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeliver measures deliveries per second end to end: outbox
// (SQLite) → notify.Worker → Sender → a local receiver that verifies
// nothing and answers 204. One op is one delivery. With one account the
// order key allows one delivery per worker round; with 64, a full batch.
func BenchmarkDeliver(b *testing.B) {
	for _, accounts := range []int{64, 1} {
		b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
			var got atomic.Int64
			done := make(chan struct{}, 1)
			want := int64(b.N)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusNoContent)
				if got.Add(1) == want {
					done <- struct{}{}
				}
			}))
			defer srv.Close()
			cfg := Config{Endpoints: []Endpoint{endpoint("app", srv.URL, "json")}}
			d, err := NewDispatcher(cfg, testIssuer, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			store := openStore(b)
			for i := 0; i < b.N; {
				err := store.Update(ctx, func(tx mamoru.Tx) error {
					for j := 0; j < 200 && i+j < b.N; j++ {
						e := eventOf(mamoru.EventSignInSucceeded, fmt.Sprintf("acct%d", (i+j)%accounts))
						if err := d.EventRecorded(ctx, tx, e); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				i += 200
			}
			sender, err := NewSender(cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer sender.Close()
			w := notify.NewWorker(store, sender, mamoru.SystemClock{}, quiet,
				notify.WorkerConfig{PollInterval: time.Millisecond})
			runCtx, stop := context.WithCancel(ctx)
			stopped := make(chan struct{})
			defer func() { stop(); <-stopped }()

			b.ResetTimer()
			start := time.Now()
			go func() { w.Run(runCtx); close(stopped) }()
			select {
			case <-done:
			case <-time.After(10 * time.Minute):
				b.Fatalf("%d of %d delivered", got.Load(), want)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
		})
	}
}
