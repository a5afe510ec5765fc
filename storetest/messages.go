package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// newMessage returns an email message to `to` created at created.
func newMessage(to string, created time.Time) *mamoru.Message {
	return &mamoru.Message{
		ID:        mamoru.NewID(),
		Channel:   mamoru.ChannelEmail,
		To:        to,
		Template:  "verify_email",
		Language:  mamoru.Japanese,
		Subject:   "メールアドレスの確認",
		Text:      "コード: 123456\n",
		HTML:      "<p>コード: <b>123456</b></p>",
		CreatedAt: created,
	}
}

func enqueue(t *testing.T, s mamoru.Store, list ...*mamoru.Message) {
	t.Helper()
	update(t, s, func(tx mamoru.Tx) error {
		for _, m := range list {
			if err := tx.EnqueueMessage(ctx(t), m); err != nil {
				return err
			}
		}
		return nil
	})
}

func getMessage(t *testing.T, s mamoru.Store, id string) *mamoru.Message {
	t.Helper()
	var got *mamoru.Message
	view(t, s, func(tx mamoru.Tx) error {
		var err error
		got, err = tx.MessageByID(ctx(t), id)
		return err
	})
	return got
}

func claim(t *testing.T, s mamoru.Store, now, until time.Time, limit int) []*mamoru.Message {
	t.Helper()
	var list []*mamoru.Message
	update(t, s, func(tx mamoru.Tx) error {
		var err error
		list, err = tx.ClaimMessages(ctx(t), now, until, limit)
		return err
	})
	return list
}

var messageTests = map[string]func(t *testing.T, s mamoru.Store){
	"OrderKeyDeliversInOrder": orderKeyTest,
	"EnqueueAndGet": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		m := newMessage(a.Email, t0)
		m.AccountID = a.ID
		full := newMessage("nobody@example.com", t0) // no account, every field set
		full.Attempts = 3
		full.NextAttemptAt = at(time.Minute)
		full.ClaimedUntil = at(2 * time.Minute)
		full.SentAt = at(3 * time.Minute)
		full.ParkedAt = at(4 * time.Minute)
		full.LastError = "550 mailbox unavailable"
		enqueue(t, s, m, full)
		equal(t, "MessageByID", getMessage(t, s, m.ID), m)
		equal(t, "MessageByID", getMessage(t, s, full.ID), full)
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.MessageByID(ctx(t), "nosuchid")
			wantCode(t, "MessageByID", err, mamoru.ENotFound)
			return nil
		})
	},
	"Claim": func(t *testing.T, s mamoru.Store) {
		now := at(time.Hour)
		due := newMessage("a@example.com", at(3*time.Minute)) // NextAttemptAt zero: due at once
		dueNow := newMessage("a@example.com", at(2*time.Minute))
		dueNow.NextAttemptAt = now // not after now: due
		later := newMessage("a@example.com", at(1*time.Minute))
		later.NextAttemptAt = now.Add(time.Microsecond)
		sent := newMessage("a@example.com", t0)
		sent.SentAt = at(time.Minute)
		parked := newMessage("a@example.com", t0)
		parked.ParkedAt = at(time.Minute)
		claimed := newMessage("a@example.com", t0)
		claimed.ClaimedUntil = now.Add(time.Second)
		lapsed := newMessage("a@example.com", at(4*time.Minute))
		lapsed.ClaimedUntil = now // lapsed at now
		lapsed.Attempts = 1
		enqueue(t, s, lapsed, due, later, sent, parked, claimed, dueNow)

		until := now.Add(5 * time.Minute)
		list := claim(t, s, now, until, 10)
		wantIDs(t, "ClaimMessages", list, dueNow.ID, due.ID, lapsed.ID)
		for _, m := range list {
			wantTime(t, "ClaimedUntil of a claimed message", m.ClaimedUntil, until)
			wantTime(t, "stored ClaimedUntil", getMessage(t, s, m.ID).ClaimedUntil, until)
		}
		want := *lapsed
		want.ClaimedUntil = until
		equal(t, "a claimed message", list[2], &want)

		// A second later the other claim has lapsed and later is due; the
		// messages claimed above stay claimed until `until`.
		wantIDs(t, "ClaimMessages a second later", claim(t, s, now.Add(time.Second), until, 10), claimed.ID, later.ID)
		// When the claims lapse, the messages are claimable again.
		list = claim(t, s, until, until.Add(time.Minute), 10)
		wantIDs(t, "ClaimMessages after the claims lapsed", list, claimed.ID, later.ID, dueNow.ID, due.ID, lapsed.ID)
		if list := claim(t, s, until, until.Add(time.Minute), 0); len(list) != 0 {
			t.Fatalf("ClaimMessages with limit 0: got %d messages", len(list))
		}
	},
	"ClaimLimit": func(t *testing.T, s mamoru.Store) {
		var ms []*mamoru.Message
		for i := range 5 {
			ms = append(ms, newMessage("a@example.com", at(time.Duration(5-i)*time.Minute)))
		}
		enqueue(t, s, ms...)
		now := at(time.Hour)
		wantIDs(t, "ClaimMessages(limit 2)", claim(t, s, now, now.Add(time.Minute), 2), ms[4].ID, ms[3].ID)
		wantIDs(t, "ClaimMessages(limit 2)", claim(t, s, now, now.Add(time.Minute), 2), ms[2].ID, ms[1].ID)
		wantIDs(t, "ClaimMessages(limit 2)", claim(t, s, now, now.Add(time.Minute), 2), ms[0].ID)
		wantIDs(t, "ClaimMessages(limit 2)", claim(t, s, now, now.Add(time.Minute), 2))
	},
	"ClaimConcurrent": func(t *testing.T, s mamoru.Store) {
		const messages, workers, limit = 30, 6, 4
		var ms []*mamoru.Message
		for i := range messages {
			ms = append(ms, newMessage("a@example.com", at(time.Duration(i)*time.Second)))
		}
		enqueue(t, s, ms...)
		now := at(time.Hour)
		var wg sync.WaitGroup
		got := make([][]*mamoru.Message, workers)
		errs := make([]error, workers)
		start := make(chan struct{})
		for i := range workers {
			wg.Go(func() {
				<-start
				errs[i] = s.Update(ctx(t), func(tx mamoru.Tx) error {
					var err error
					got[i], err = tx.ClaimMessages(ctx(t), now, now.Add(time.Minute), limit)
					return err
				})
			})
		}
		close(start)
		wg.Wait()
		seen := map[string]int{}
		for i := range workers {
			wantNoErr(t, fmt.Sprintf("ClaimMessages in worker %d", i), errs[i])
			if len(got[i]) > limit {
				t.Fatalf("worker %d claimed %d messages, limit %d", i, len(got[i]), limit)
			}
			for _, m := range got[i] {
				if w, ok := seen[m.ID]; ok {
					t.Fatalf("message %s claimed by workers %d and %d", m.ID, w, i)
				}
				seen[m.ID] = i
			}
		}
		if len(seen) != workers*limit {
			t.Fatalf("the workers claimed %d messages, want %d", len(seen), workers*limit)
		}
	},
	"MarkSent": func(t *testing.T, s mamoru.Store) {
		m := newMessage("a@example.com", t0)
		enqueue(t, s, m)
		claim(t, s, t0, at(time.Minute), 1)
		update(t, s, func(tx mamoru.Tx) error { return tx.MarkMessageSent(ctx(t), m.ID, at(time.Second)) })
		got := getMessage(t, s, m.ID)
		wantTime(t, "SentAt", got.SentAt, at(time.Second))
		wantTime(t, "ClaimedUntil after MarkMessageSent", got.ClaimedUntil, time.Time{})
		if list := claim(t, s, at(time.Hour), at(2*time.Hour), 10); len(list) != 0 {
			t.Fatalf("ClaimMessages returned a sent message")
		}
		update(t, s, func(tx mamoru.Tx) error {
			wantCode(t, "MarkMessageSent of an unknown message",
				tx.MarkMessageSent(ctx(t), "nosuchid", at(time.Second)), mamoru.ENotFound)
			return nil
		})
	},
	"MarkFailed": func(t *testing.T, s mamoru.Store) {
		m := newMessage("a@example.com", t0)
		enqueue(t, s, m)
		claim(t, s, t0, at(time.Minute), 1)
		next := at(10 * time.Minute)
		update(t, s, func(tx mamoru.Tx) error {
			return tx.MarkMessageFailed(ctx(t), m.ID, at(time.Second), next, "421 try again later", false)
		})
		got := getMessage(t, s, m.ID)
		if got.Attempts != 1 || got.LastError != "421 try again later" {
			t.Fatalf("after MarkMessageFailed: Attempts %d, LastError %q", got.Attempts, got.LastError)
		}
		wantTime(t, "NextAttemptAt", got.NextAttemptAt, next)
		wantTime(t, "ClaimedUntil after MarkMessageFailed", got.ClaimedUntil, time.Time{})
		wantTime(t, "ParkedAt", got.ParkedAt, time.Time{})
		if list := claim(t, s, next.Add(-time.Microsecond), at(time.Hour), 10); len(list) != 0 {
			t.Fatalf("ClaimMessages returned a message before its next attempt")
		}
		wantIDs(t, "ClaimMessages at the next attempt", claim(t, s, next, next.Add(time.Minute), 10), m.ID)

		update(t, s, func(tx mamoru.Tx) error {
			return tx.MarkMessageFailed(ctx(t), m.ID, next.Add(time.Second), at(time.Hour), "550 no such user", true)
		})
		got = getMessage(t, s, m.ID)
		if got.Attempts != 2 || got.LastError != "550 no such user" {
			t.Fatalf("after parking: Attempts %d, LastError %q", got.Attempts, got.LastError)
		}
		wantTime(t, "ParkedAt", got.ParkedAt, next.Add(time.Second))
		wantTime(t, "ClaimedUntil after parking", got.ClaimedUntil, time.Time{})
		if list := claim(t, s, at(100*time.Hour), at(101*time.Hour), 10); len(list) != 0 {
			t.Fatalf("ClaimMessages returned a parked message")
		}
		update(t, s, func(tx mamoru.Tx) error {
			wantCode(t, "MarkMessageFailed of an unknown message",
				tx.MarkMessageFailed(ctx(t), "nosuchid", t0, t0, "x", false), mamoru.ENotFound)
			return nil
		})
	},
	"List": func(t *testing.T, s mamoru.Store) {
		m1 := newMessage("a@example.com", at(1*time.Minute))
		m2 := newMessage("b@example.com", at(3*time.Minute))
		m3 := newMessage("a@example.com", at(2*time.Minute))
		m4 := newMessage("A@example.com", at(4*time.Minute))
		enqueue(t, s, m1, m2, m3, m4)
		cases := []struct {
			f    mamoru.MessageFilter
			want []string
		}{
			{mamoru.MessageFilter{}, []string{m4.ID, m2.ID, m3.ID, m1.ID}},
			{mamoru.MessageFilter{To: "a@example.com"}, []string{m3.ID, m1.ID}},
			{mamoru.MessageFilter{To: "nobody@example.com"}, nil},
			{mamoru.MessageFilter{Limit: 3}, []string{m4.ID, m2.ID, m3.ID}},
			{mamoru.MessageFilter{To: "a@example.com", Limit: 1}, []string{m3.ID}},
		}
		view(t, s, func(tx mamoru.Tx) error {
			for _, c := range cases {
				list, err := tx.ListMessages(ctx(t), c.f)
				wantNoErr(t, "ListMessages", err)
				wantIDs(t, fmt.Sprintf("ListMessages(%+v)", c.f), list, c.want...)
			}
			list, err := tx.ListMessages(ctx(t), mamoru.MessageFilter{})
			wantNoErr(t, "ListMessages", err)
			equal(t, "ListMessages[0]", list[0], m4)
			return nil
		})
	},
	"ListDefaultLimit": func(t *testing.T, s mamoru.Store) {
		var ms []*mamoru.Message
		for i := range 101 {
			ms = append(ms, newMessage("a@example.com", at(time.Duration(i)*time.Second)))
		}
		enqueue(t, s, ms...)
		view(t, s, func(tx mamoru.Tx) error {
			list, err := tx.ListMessages(ctx(t), mamoru.MessageFilter{})
			wantNoErr(t, "ListMessages", err)
			if len(list) != 100 || list[0].ID != ms[100].ID || list[99].ID != ms[1].ID {
				t.Fatalf("ListMessages with Limit 0: got %d messages, want the 100 newest", len(list))
			}
			return nil
		})
	},
}

// orderKeyTest checks that messages sharing an order key are claimed one
// at a time, in order, and that parking one releases the next.
func orderKeyTest(t *testing.T, s mamoru.Store) {
	{
		a1 := newMessage("hook", t0)
		a1.Channel, a1.OrderKey = mamoru.ChannelWebhook, "hook:a"
		a2 := newMessage("hook", at(time.Second))
		a2.Channel, a2.OrderKey = mamoru.ChannelWebhook, "hook:a"
		b1 := newMessage("hook", at(2*time.Second))
		b1.Channel, b1.OrderKey = mamoru.ChannelWebhook, "hook:b"
		free := newMessage("x@example.com", at(3*time.Second))
		enqueue(t, s, a1, a2, b1, free)
		if got := getMessage(t, s, a1.ID); got.OrderKey != "hook:a" {
			t.Fatalf("OrderKey not stored: %+v", got)
		}
		now := at(time.Minute)
		// One of each key at a time: a2 waits for a1.
		got := claim(t, s, now, now.Add(time.Minute), 10)
		if ids := fmt.Sprint(msgIDs(got)); ids != fmt.Sprint([]string{a1.ID, b1.ID, free.ID}) {
			t.Fatalf("first claim: %v", ids)
		}
		// a1 fails and waits for its retry: a2 still waits.
		update(t, s, func(tx mamoru.Tx) error {
			return tx.MarkMessageFailed(ctx(t), a1.ID, now, now.Add(time.Hour), "boom", false)
		})
		if got := claim(t, s, now, now.Add(time.Minute), 10); len(got) != 0 {
			t.Fatalf("claimed %v while a1 is pending", msgIDs(got))
		}
		// a1 is parked: the order releases a2.
		update(t, s, func(tx mamoru.Tx) error {
			return tx.MarkMessageFailed(ctx(t), a1.ID, now, now.Add(time.Hour), "gone", true)
		})
		if got := claim(t, s, now, now.Add(time.Minute), 10); fmt.Sprint(msgIDs(got)) != fmt.Sprint([]string{a2.ID}) {
			t.Fatalf("after parking a1: %v", msgIDs(got))
		}
		// Parked and channel filters.
		var parked []*mamoru.Message
		view(t, s, func(tx mamoru.Tx) error {
			var err error
			parked, err = tx.ListMessages(ctx(t), mamoru.MessageFilter{Parked: true})
			return err
		})
		if fmt.Sprint(msgIDs(parked)) != fmt.Sprint([]string{a1.ID}) || parked[0].LastError != "gone" {
			t.Fatalf("parked: %v", msgIDs(parked))
		}
		var hooks []*mamoru.Message
		view(t, s, func(tx mamoru.Tx) error {
			var err error
			hooks, err = tx.ListMessages(ctx(t), mamoru.MessageFilter{Channel: mamoru.ChannelWebhook})
			return err
		})
		if len(hooks) != 3 {
			t.Fatalf("webhook filter: %d", len(hooks))
		}
	}
}

func msgIDs(list []*mamoru.Message) []string {
	var out []string
	for _, m := range list {
		out = append(out, m.ID)
	}
	return out
}
