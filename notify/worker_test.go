package notify_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/notify"
	"github.com/mamoru-id/mamoru/sqlite"
)

var ctx = context.Background()

// flakySender fails while down is true and records what it delivered.
type flakySender struct {
	mu   sync.Mutex
	down bool
	sent []string
}

func (f *flakySender) Send(ctx context.Context, m *mamoru.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("connection refused")
	}
	f.sent = append(f.sent, m.ID)
	return nil
}

func setup(t *testing.T) (mamoru.Store, *mamoru.FakeClock) {
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, mamoru.NewFakeClock(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
}

func enqueue(t *testing.T, store mamoru.Store, clock mamoru.Clock, n int) {
	for i := 0; i < n; i++ {
		m := &mamoru.Message{ID: mamoru.NewID(), Channel: mamoru.ChannelEmail, To: "a@example.com", Template: "t",
			Language: mamoru.English, Subject: "s", Text: "x", CreatedAt: clock.Now(), NextAttemptAt: clock.Now()}
		if err := store.Update(ctx, func(tx mamoru.Tx) error { return tx.EnqueueMessage(ctx, m) }); err != nil {
			t.Fatal(err)
		}
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestRetryWithBackoffThenDeliver(t *testing.T) {
	store, clock := setup(t)
	enqueue(t, store, clock, 3)
	s := &flakySender{down: true}
	w := notify.NewWorker(store, s, clock, quiet, notify.WorkerConfig{BaseBackoff: time.Second, MaxAttempts: 5})
	if n, err := w.RunOnce(ctx); n != 3 || err != nil {
		t.Fatalf("first run: %d %v", n, err)
	}
	// Not due again before the backoff has passed.
	if n, _ := w.RunOnce(ctx); n != 0 {
		t.Fatalf("retried at once: %d", n)
	}
	s.down = false
	clock.Advance(time.Second)
	if n, _ := w.RunOnce(ctx); n != 3 {
		t.Fatalf("after backoff: %d", n)
	}
	if len(s.sent) != 3 {
		t.Fatalf("sent %d", len(s.sent))
	}
	ms, _ := notify.OutboxReader{Store: store}.ListMessages(ctx, mamoru.MessageFilter{})
	for _, m := range ms {
		if m.SentAt.IsZero() || m.Attempts != 1 || m.LastError != "connection refused" {
			t.Errorf("message %+v", m)
		}
	}
	// Delivered messages are never sent again.
	clock.Advance(time.Hour)
	if n, _ := w.RunOnce(ctx); n != 0 || len(s.sent) != 3 {
		t.Fatalf("redelivered: %d %d", n, len(s.sent))
	}
}

func TestParkAfterMaxAttempts(t *testing.T) {
	store, clock := setup(t)
	enqueue(t, store, clock, 1)
	s := &flakySender{down: true}
	w := notify.NewWorker(store, s, clock, quiet, notify.WorkerConfig{BaseBackoff: time.Second, MaxBackoff: time.Minute, MaxAttempts: 3})
	for i := 0; i < 10; i++ {
		w.RunOnce(ctx)
		clock.Advance(time.Minute)
	}
	ms, _ := notify.OutboxReader{Store: store}.ListMessages(ctx, mamoru.MessageFilter{})
	if ms[0].ParkedAt.IsZero() || ms[0].Attempts != 3 {
		t.Fatalf("not parked after 3 attempts: %+v", ms[0])
	}
}

// TestClaimOfACrashedWorkerLapses: a worker that claimed messages and died
// (no MarkSent) does not lose them: after the claim lapses another worker
// delivers them.
func TestClaimOfACrashedWorkerLapses(t *testing.T) {
	store, clock := setup(t)
	enqueue(t, store, clock, 2)
	now := clock.Now()
	err := store.Update(ctx, func(tx mamoru.Tx) error {
		_, err := tx.ClaimMessages(ctx, now, now.Add(time.Minute), 10)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s := &flakySender{}
	w := notify.NewWorker(store, s, clock, quiet, notify.WorkerConfig{})
	if n, _ := w.RunOnce(ctx); n != 0 {
		t.Fatal("took claimed messages")
	}
	clock.Advance(time.Minute + time.Second)
	if n, _ := w.RunOnce(ctx); n != 2 || len(s.sent) != 2 {
		t.Fatalf("after the claim lapsed: %d", n)
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	store, clock := setup(t)
	w := notify.NewWorker(store, &flakySender{}, clock, quiet, notify.WorkerConfig{BaseBackoff: time.Second, MaxBackoff: time.Minute})
	for attempts, max := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 20: time.Minute} {
		for i := 0; i < 50; i++ {
			d := w.Backoff(attempts)
			if d < max/2 || d > max {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempts, d, max/2, max)
			}
		}
	}
}

// slowSender takes d per message, or until its context ends.
type slowSender struct {
	d    time.Duration
	mu   sync.Mutex
	sent int
}

func (s *slowSender) Send(ctx context.Context, m *mamoru.Message) error {
	select {
	case <-time.After(s.d):
		s.mu.Lock()
		s.sent++
		s.mu.Unlock()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// batchSender records the batches it was given.
type batchSender struct{ batches [][]string }

func (b *batchSender) Send(ctx context.Context, m *mamoru.Message) error {
	return errors.New("not batched")
}
func (b *batchSender) SendBatch(ctx context.Context, ms []*mamoru.Message) []error {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	b.batches = append(b.batches, ids)
	errs := make([]error, len(ms))
	errs[len(ms)-1] = &permanentErr{}
	return errs
}

type permanentErr struct{}

func (*permanentErr) Error() string   { return "550 no such user" }
func (*permanentErr) Permanent() bool { return true }

func TestSendingStopsBeforeClaimsLapse(t *testing.T) {
	store, _ := setup(t)
	enqueue(t, store, mamoru.SystemClock{}, 3)
	s := &slowSender{d: 60 * time.Millisecond}
	// The deadline is wall time: the real clock.
	w := notify.NewWorker(store, s, mamoru.SystemClock{}, quiet, notify.WorkerConfig{ClaimTTL: 100 * time.Millisecond, Batch: 3})
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	list, _ := notify.OutboxReader{Store: store}.ListMessages(ctx, mamoru.MessageFilter{})
	sent, untried := 0, 0
	for _, m := range list {
		if !m.SentAt.IsZero() {
			sent++
		}
		if m.SentAt.IsZero() && m.Attempts == 0 {
			untried++
		}
	}
	// 80 ms of the 100 ms claim: one message sent, the second cut short
	// (a failed attempt), the third not tried and left to its lapsing claim.
	if sent != 1 || untried != 1 {
		t.Fatalf("sent %d, untried %d; want 1 and 1", sent, untried)
	}
}

func TestBatchSenderAndPermanentFailures(t *testing.T) {
	store, clock := setup(t)
	enqueue(t, store, clock, 3)
	b := &batchSender{}
	w := notify.NewWorker(store, b, clock, quiet, notify.WorkerConfig{Batch: 10})
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if len(b.batches) != 1 || len(b.batches[0]) != 3 {
		t.Fatalf("batches %v, want one of 3", b.batches)
	}
	parked, _ := notify.OutboxReader{Store: store}.ListMessages(ctx, mamoru.MessageFilter{Parked: true})
	if len(parked) != 1 || parked[0].Attempts != 1 || parked[0].LastError != "550 no such user" {
		t.Fatalf("a permanent failure is parked at once: %+v", parked)
	}
}
