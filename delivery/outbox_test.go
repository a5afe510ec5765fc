package delivery_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/delivery"
	"github.com/mamoru-id/mamoru/internal/smtpd"
	"github.com/mamoru-id/mamoru/notify"
	"github.com/mamoru-id/mamoru/sqlite"
)

// openStore opens a new SQLite database in a temporary directory.
func openStore(t testing.TB) mamoru.Store {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mamoru.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// emailMessage returns a new outbox email.
func emailMessage(to string, i int) *mamoru.Message {
	now := time.Now()
	return &mamoru.Message{
		ID: mamoru.NewID(), Channel: mamoru.ChannelEmail, To: to, Template: "verify_email", Language: "ja",
		Subject:   fmt.Sprintf("確認コード %d / Your code", i),
		Text:      fmt.Sprintf("コード: %06d\nhttps://id.mamoru.example/verify?code=%06d&lang=ja\n", i, i),
		HTML:      fmt.Sprintf("<p>コード: <b>%06d</b></p>", i),
		CreatedAt: now, NextAttemptAt: now,
	}
}

// enqueueAll writes the messages in one transaction, as the services do.
func enqueueAll(t testing.TB, store mamoru.Store, ms ...*mamoru.Message) {
	t.Helper()
	err := store.Update(context.Background(), func(tx mamoru.Tx) error {
		for _, m := range ms {
			if err := tx.EnqueueMessage(context.Background(), m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func getMessage(t testing.TB, store mamoru.Store, id string) *mamoru.Message {
	t.Helper()
	var m *mamoru.Message
	err := store.View(context.Background(), func(tx mamoru.Tx) error {
		var err error
		m, err = tx.MessageByID(context.Background(), id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOutboxSMTP runs the real outbox worker over SQLite against the real
// SMTP server: every message arrives exactly once; with the server down
// messages are retried and parked; parked messages stay parked when it is
// back.
func TestOutboxSMTP(t *testing.T) {
	srv := smtpd.Start(t)
	store := openStore(t)
	snd := newSMTP(t, smtpConfig(t, srv))
	router := &delivery.Router{Email: snd}
	const maxAttempts = 3
	w := notify.NewWorker(store, router, mamoru.SystemClock{}, slog.New(slog.NewTextHandler(io.Discard, nil)), notify.WorkerConfig{
		PollInterval: 50 * time.Millisecond,
		Batch:        8,
		MaxAttempts:  maxAttempts,
		BaseBackoff:  100 * time.Millisecond,
		MaxBackoff:   200 * time.Millisecond,
		SendTimeout:  5 * time.Second,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.Run(ctx)
		close(done)
	}()
	defer func() {
		cancel()
		<-done
	}()

	// 1. N messages in one transaction, one permanent failure among them.
	const n = 25
	var ms []*mamoru.Message
	for i := 0; i < n; i++ {
		ms = append(ms, emailMessage(fmt.Sprintf("user%d@example.jp", i), i))
	}
	refused := emailMessage("reject-nobody@example.jp", 99)
	enqueueAll(t, store, append(ms, refused)...)
	w.Kick()
	got := srv.WaitMessages(t, n, 30*time.Second)
	waitFor(t, 10*time.Second, "every message marked sent", func() bool {
		for _, m := range ms {
			if getMessage(t, store, m.ID).SentAt.IsZero() {
				return false
			}
		}
		return true
	})
	time.Sleep(300 * time.Millisecond) // room for a duplicate to show up
	if got = srv.Messages(t); len(got) != n {
		t.Fatalf("%d messages delivered; want %d", len(got), n)
	}
	seen := map[string]int{}
	for _, d := range got {
		seen[d.Header.Get("Message-Id")]++
	}
	for _, m := range ms {
		if c := seen["<"+m.ID+"@mamoru.example>"]; c != 1 {
			t.Errorf("message %s delivered %d times", m.ID, c)
		}
		if got := getMessage(t, store, m.ID); got.Attempts != 0 || got.LastError != "" {
			t.Errorf("message %s: attempts %d, last error %q", m.ID, got.Attempts, got.LastError)
		}
	}
	// The refused recipient is parked after one attempt: 550 is permanent.
	waitFor(t, 10*time.Second, "the refused message parked", func() bool { return !getMessage(t, store, refused.ID).ParkedAt.IsZero() })
	if r := getMessage(t, store, refused.ID); r.Attempts != 1 || !strings.Contains(r.LastError, "550") || !r.SentAt.IsZero() {
		t.Errorf("refused: attempts %d, last error %q, sent %v", r.Attempts, r.LastError, r.SentAt)
	}

	// 2. The server is down: retried with backoff, then parked.
	srv.Stop()
	down := []*mamoru.Message{emailMessage("late1@example.jp", 1), emailMessage("late2@example.jp", 2)}
	enqueueAll(t, store, down...)
	w.Kick()
	sawRetry := false
	waitFor(t, 20*time.Second, "messages parked while the server is down", func() bool {
		parked := true
		for _, m := range down {
			got := getMessage(t, store, m.ID)
			if got.Attempts > 0 && got.Attempts < maxAttempts && got.ParkedAt.IsZero() {
				sawRetry = true // failed, not parked, waiting for the next attempt
			}
			parked = parked && !got.ParkedAt.IsZero()
		}
		return parked
	})
	if !sawRetry {
		t.Error("never saw a message waiting for a retry")
	}
	for _, m := range down {
		got := getMessage(t, store, m.ID)
		if got.Attempts != maxAttempts || got.LastError == "" || !got.SentAt.IsZero() {
			t.Errorf("parked %s: attempts %d, last error %q, sent %v", m.ID, got.Attempts, got.LastError, got.SentAt)
		}
		if !strings.Contains(got.LastError, "connect") {
			t.Errorf("last error %q", got.LastError)
		}
	}

	// 3. Back up: nothing parked is sent again, new mail flows.
	srv.Restart(t)
	after := emailMessage("after@example.jp", 3)
	enqueueAll(t, store, after)
	w.Kick()
	srv.WaitMessages(t, n+1, 10*time.Second)
	time.Sleep(500 * time.Millisecond) // ten poll intervals
	if c := srv.Count(); c != n+1 {
		t.Errorf("%d messages after the restart; want %d (parked ones must stay parked)", c, n+1)
	}
	for _, m := range down {
		if got := getMessage(t, store, m.ID); got.ParkedAt.IsZero() || !got.SentAt.IsZero() {
			t.Errorf("parked message %s was sent", m.ID)
		}
	}
}
