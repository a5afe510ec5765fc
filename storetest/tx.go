package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

var txTests = map[string]func(t *testing.T, s mamoru.Store){
	"Rollback": func(t *testing.T, s mamoru.Store) {
		errBoom := errors.New("boom")
		a := newAccount("alice@example.com", t0)
		x := newSession(a.ID, t0)
		m := newMessage(a.Email, t0)
		err := s.Update(ctx(t), func(tx mamoru.Tx) error {
			if err := tx.CreateAccount(ctx(t), a); err != nil {
				return err
			}
			if err := tx.CreateSession(ctx(t), x); err != nil {
				return err
			}
			if err := tx.EnqueueMessage(ctx(t), m); err != nil {
				return err
			}
			if _, err := tx.EnsureSecret(ctx(t), "key", []byte("v")); err != nil {
				return err
			}
			if _, err := tx.AccountByID(ctx(t), a.ID); err != nil {
				return err // the transaction sees its own writes
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update: got %v, want the error of fn", err)
		}
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.AccountByID(ctx(t), a.ID)
			wantCode(t, "AccountByID after a rollback", err, mamoru.ENotFound)
			_, err = tx.SessionByID(ctx(t), x.ID)
			wantCode(t, "SessionByID after a rollback", err, mamoru.ENotFound)
			_, err = tx.MessageByID(ctx(t), m.ID)
			wantCode(t, "MessageByID after a rollback", err, mamoru.ENotFound)
			return nil
		})
		if got := ensureSecret(t, s, "key", []byte("w")); string(got) != "w" {
			t.Fatalf("EnsureSecret after a rollback: got %q, want the new candidate", got)
		}
	},
	"RollbackOnPanic": func(t *testing.T, s mamoru.Store) {
		a := newAccount("alice@example.com", t0)
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("Update swallowed the panic of fn")
				}
			}()
			_ = s.Update(ctx(t), func(tx mamoru.Tx) error {
				if err := tx.CreateAccount(ctx(t), a); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.AccountByID(ctx(t), a.ID)
			wantCode(t, "AccountByID after a panic", err, mamoru.ENotFound)
			return nil
		})
		// The store still works (no connection left in a transaction).
		createAccount(t, s, "bob@example.com")
	},
	"ViewIsReadOnly": func(t *testing.T, s mamoru.Store) {
		a := newAccount("alice@example.com", t0)
		err := s.View(ctx(t), func(tx mamoru.Tx) error { return tx.CreateAccount(ctx(t), a) })
		if err == nil {
			t.Fatal("CreateAccount in View succeeded")
		}
		err = s.Update(ctx(t), func(tx mamoru.Tx) error {
			_, err := tx.AccountByID(ctx(t), a.ID)
			return err
		})
		wantCode(t, "AccountByID after a write in View", err, mamoru.ENotFound)
	},
	"CommitVisible": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		if err := s.Ping(ctx(t)); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		update(t, s, func(tx mamoru.Tx) error {
			b := *a
			b.LastSignInAt = at(5 * time.Hour)
			return tx.UpdateAccount(ctx(t), &b)
		})
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.AccountByID(ctx(t), a.ID)
			wantNoErr(t, "AccountByID", err)
			wantTime(t, "LastSignInAt", got.LastSignInAt, at(5*time.Hour))
			return nil
		})
	},
}
