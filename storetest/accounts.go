package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

var accountTests = map[string]func(t *testing.T, s mamoru.Store){
	"CreateAndGet": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.AccountByID(ctx(t), a.ID)
			wantNoErr(t, "AccountByID", err)
			equal(t, "AccountByID", got, a)
			got, err = tx.AccountByEmail(ctx(t), a.Email)
			wantNoErr(t, "AccountByEmail", err)
			equal(t, "AccountByEmail", got, a)
			return nil
		})
	},
	"NotFound": func(t *testing.T, s mamoru.Store) {
		createAccount(t, s, "alice@example.com")
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.AccountByID(ctx(t), "nosuchid")
			wantCode(t, "AccountByID", err, mamoru.ENotFound)
			_, err = tx.AccountByEmail(ctx(t), "bob@example.com")
			wantCode(t, "AccountByEmail", err, mamoru.ENotFound)
			return nil
		})
	},
	"DuplicateEmail": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		// The conflict must leave the transaction usable: a caller may
		// handle EConflict and go on (sign-up mails the owner instead).
		update(t, s, func(tx mamoru.Tx) error {
			err := tx.CreateAccount(ctx(t), newAccount(a.Email, at(time.Hour)))
			wantCode(t, "CreateAccount with a taken email", err, mamoru.EConflict)
			dup := newAccount("other@example.com", at(time.Hour))
			dup.ID = a.ID
			err = tx.CreateAccount(ctx(t), dup)
			wantCode(t, "CreateAccount with a taken ID", err, mamoru.EConflict)
			got, err := tx.AccountByEmail(ctx(t), a.Email)
			wantNoErr(t, "AccountByEmail after a conflict", err)
			equal(t, "AccountByEmail after a conflict", got, a)
			return tx.CreateAccount(ctx(t), newAccount("bob@example.com", at(time.Hour)))
		})
		view(t, s, func(tx mamoru.Tx) error {
			list, err := tx.ListAccounts(ctx(t), mamoru.AccountFilter{})
			wantNoErr(t, "ListAccounts", err)
			if len(list) != 2 {
				t.Fatalf("ListAccounts: got %d accounts, want 2", len(list))
			}
			return nil
		})
	},
	"Update": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		b := *a
		b.Email = "alice@example.org"
		b.EmailVerifiedAt = time.Time{}
		b.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$bmV3$bmV3"
		b.PasswordChangedAt = at(2 * time.Hour)
		b.Language = mamoru.English
		b.Status = mamoru.StatusLocked
		b.UpdatedAt = at(2 * time.Hour)
		b.LastSignInAt = at(3 * time.Hour)
		b.CreatedAt = at(99 * time.Hour) // not mutable: must be ignored
		update(t, s, func(tx mamoru.Tx) error { return tx.UpdateAccount(ctx(t), &b) })
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.AccountByID(ctx(t), a.ID)
			wantNoErr(t, "AccountByID", err)
			want := b
			want.CreatedAt = a.CreatedAt
			equal(t, "AccountByID after UpdateAccount", got, &want)
			_, err = tx.AccountByEmail(ctx(t), a.Email)
			wantCode(t, "AccountByEmail of the old email", err, mamoru.ENotFound)
			return nil
		})
	},
	"UpdateNotFound": func(t *testing.T, s mamoru.Store) {
		a := newAccount("alice@example.com", t0)
		update(t, s, func(tx mamoru.Tx) error {
			wantCode(t, "UpdateAccount", tx.UpdateAccount(ctx(t), a), mamoru.ENotFound)
			return nil
		})
	},
	"UpdateEmailCollision": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		b := createAccount(t, s, "bob@example.com")
		update(t, s, func(tx mamoru.Tx) error {
			c := *b
			c.Email = a.Email
			c.Status = mamoru.StatusLocked
			wantCode(t, "UpdateAccount to a taken email", tx.UpdateAccount(ctx(t), &c), mamoru.EConflict)
			// The transaction stays usable after the conflict.
			got, err := tx.AccountByID(ctx(t), b.ID)
			wantNoErr(t, "AccountByID after a conflict", err)
			equal(t, "AccountByID after a conflict", got, b)
			c.Email = "carol@example.com"
			return tx.UpdateAccount(ctx(t), &c)
		})
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.AccountByEmail(ctx(t), "carol@example.com")
			wantNoErr(t, "AccountByEmail", err)
			if got.ID != b.ID || got.Status != mamoru.StatusLocked {
				t.Fatalf("AccountByEmail: got %+v", got)
			}
			got, err = tx.AccountByEmail(ctx(t), a.Email)
			wantNoErr(t, "AccountByEmail", err)
			equal(t, "the other account", got, a)
			return nil
		})
	},
	"List": func(t *testing.T, s mamoru.Store) {
		// Inserted out of creation order; listed oldest first.
		emails := []string{"c_1@example.com", "a%1@example.com", "b@example.org", "d@example.com", "e@test.example"}
		offsets := []time.Duration{3, 1, 2, 5, 4}
		ids := map[string]string{}
		update(t, s, func(tx mamoru.Tx) error {
			for i, e := range emails {
				a := newAccount(e, at(offsets[i]*time.Hour))
				ids[e] = a.ID
				if err := tx.CreateAccount(ctx(t), a); err != nil {
					return err
				}
			}
			return nil
		})
		id := func(es ...string) []string {
			var out []string
			for _, e := range es {
				out = append(out, ids[e])
			}
			return out
		}
		cases := []struct {
			f    mamoru.AccountFilter
			want []string
		}{
			{mamoru.AccountFilter{}, id("a%1@example.com", "b@example.org", "c_1@example.com", "e@test.example", "d@example.com")},
			{mamoru.AccountFilter{EmailContains: "example.com"}, id("a%1@example.com", "c_1@example.com", "d@example.com")},
			{mamoru.AccountFilter{EmailContains: "EXAMPLE.ORG"}, id("b@example.org")},
			{mamoru.AccountFilter{EmailContains: "%"}, id("a%1@example.com")},
			{mamoru.AccountFilter{EmailContains: "_"}, id("c_1@example.com")},
			{mamoru.AccountFilter{EmailContains: "nobody"}, nil},
			{mamoru.AccountFilter{Limit: 2}, id("a%1@example.com", "b@example.org")},
			{mamoru.AccountFilter{Limit: 2, Offset: 2}, id("c_1@example.com", "e@test.example")},
			{mamoru.AccountFilter{Offset: 4}, id("d@example.com")},
			{mamoru.AccountFilter{Offset: 5}, nil},
			{mamoru.AccountFilter{EmailContains: "example.com", Limit: 1, Offset: 1}, id("c_1@example.com")},
		}
		view(t, s, func(tx mamoru.Tx) error {
			for _, c := range cases {
				list, err := tx.ListAccounts(ctx(t), c.f)
				wantNoErr(t, "ListAccounts", err)
				wantIDs(t, fmt.Sprintf("ListAccounts(%+v)", c.f), list, c.want...)
			}
			return nil
		})
	},
	"ListDefaultLimit": func(t *testing.T, s mamoru.Store) {
		update(t, s, func(tx mamoru.Tx) error {
			for i := range 101 {
				if err := tx.CreateAccount(ctx(t), newAccount(fmt.Sprintf("u%03d@example.com", i), at(time.Duration(i)*time.Second))); err != nil {
					return err
				}
			}
			return nil
		})
		view(t, s, func(tx mamoru.Tx) error {
			list, err := tx.ListAccounts(ctx(t), mamoru.AccountFilter{})
			wantNoErr(t, "ListAccounts", err)
			if len(list) != 100 || list[0].Email != "u000@example.com" || list[99].Email != "u099@example.com" {
				t.Fatalf("ListAccounts with Limit 0: got %d accounts, want the 100 oldest", len(list))
			}
			return nil
		})
	},
}
