package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// newCredential returns a TOTP credential of the account with every field
// set.
func newCredential(accountID string, created time.Time) *mamoru.Credential {
	return &mamoru.Credential{
		ID:           mamoru.NewID(),
		AccountID:    accountID,
		Kind:         mamoru.CredentialTOTP,
		Name:         "iPhone 「仕事用」",
		Secret:       []byte{1, 0, 0xff, 0x80, 7}, // sealed bytes: must come back byte for byte
		Data:         []byte(`{"b":1,"a":[2, 3]}`),
		LastUsedStep: 1<<40 + 5,
		CreatedAt:    created,
		LastUsedAt:   created.Add(time.Minute),
	}
}

// newWebAuthnCredential returns a WebAuthn credential of the account.
func newWebAuthnCredential(accountID string, created time.Time, webauthnID []byte) *mamoru.Credential {
	return &mamoru.Credential{
		ID:         mamoru.NewID(),
		AccountID:  accountID,
		Kind:       mamoru.CredentialWebAuthn,
		Name:       "YubiKey",
		Data:       []byte(`{"publicKey":"pQECAyYgASFYIA"}`),
		WebAuthnID: webauthnID,
		CreatedAt:  created,
	}
}

func createCredential(t *testing.T, s mamoru.Store, c *mamoru.Credential) {
	t.Helper()
	update(t, s, func(tx mamoru.Tx) error { return tx.CreateCredential(ctx(t), c) })
}

var credentialTests = map[string]func(t *testing.T, s mamoru.Store){
	"CreateAndGet": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		c := newCredential(a.ID, t0)
		c.Version = 7 // CreateCredential stores Version 1 whatever the caller says
		createCredential(t, s, c)
		if c.Version != 1 {
			t.Fatalf("CreateCredential: c.Version = %d, want 1", c.Version)
		}
		w := newWebAuthnCredential(a.ID, at(time.Hour), hash("webauthn id"))
		createCredential(t, s, w)
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.CredentialByID(ctx(t), c.ID)
			wantNoErr(t, "CredentialByID", err)
			equal(t, "CredentialByID", got, c)
			if got.WebAuthnID != nil {
				t.Errorf("CredentialByID: WebAuthnID = %x, want nil for a TOTP credential", got.WebAuthnID)
			}
			got, err = tx.CredentialByWebAuthnID(ctx(t), hash("webauthn id"))
			wantNoErr(t, "CredentialByWebAuthnID", err)
			w.Version = 1
			equal(t, "CredentialByWebAuthnID", got, w)
			_, err = tx.CredentialByID(ctx(t), "nosuchid")
			wantCode(t, "CredentialByID of an unknown credential", err, mamoru.ENotFound)
			_, err = tx.CredentialByWebAuthnID(ctx(t), hash("nosuchid"))
			wantCode(t, "CredentialByWebAuthnID of an unknown ID", err, mamoru.ENotFound)
			_, err = tx.CredentialByWebAuthnID(ctx(t), nil)
			wantCode(t, "CredentialByWebAuthnID(nil)", err, mamoru.ENotFound)
			return nil
		})
	},
	"Invalid": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		update(t, s, func(tx mamoru.Tx) error {
			for _, mod := range []func(c *mamoru.Credential){
				func(c *mamoru.Credential) { c.ID = "" },
				func(c *mamoru.Credential) { c.AccountID = "" },
				func(c *mamoru.Credential) { c.Kind = "" },
			} {
				c := newCredential(a.ID, t0)
				mod(c)
				wantCode(t, "CreateCredential without a required field", tx.CreateCredential(ctx(t), c), mamoru.EInvalidRequest)
			}
			wantCode(t, "CreateCredential of an unknown account",
				tx.CreateCredential(ctx(t), newCredential("nosuchid", t0)), mamoru.ENotFound)
			return nil
		})
	},
	"Duplicate": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		b := createAccount(t, s, "bob@example.com")
		c := newCredential(a.ID, t0)
		w := newWebAuthnCredential(a.ID, t0, hash("key 1"))
		createCredential(t, s, c)
		createCredential(t, s, w)
		update(t, s, func(tx mamoru.Tx) error {
			dup := newCredential(a.ID, t0)
			dup.ID = c.ID
			wantCode(t, "CreateCredential with a taken ID", tx.CreateCredential(ctx(t), dup), mamoru.EConflict)
			// The same authenticator registered by another account.
			dupKey := newWebAuthnCredential(b.ID, t0, hash("key 1"))
			wantCode(t, "CreateCredential with a taken WebAuthnID", tx.CreateCredential(ctx(t), dupKey), mamoru.EConflict)
			// The transaction is still usable, and credentials without a
			// WebAuthnID do not collide with each other.
			for range 2 {
				if err := tx.CreateCredential(ctx(t), newCredential(b.ID, t0)); err != nil {
					return err
				}
			}
			return tx.CreateCredential(ctx(t), newWebAuthnCredential(b.ID, t0, hash("key 2")))
		})
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.CredentialByWebAuthnID(ctx(t), hash("key 1"))
			wantNoErr(t, "CredentialByWebAuthnID", err)
			if got.ID != w.ID {
				t.Fatalf("CredentialByWebAuthnID: got %s, want the first registration %s", got.ID, w.ID)
			}
			list, err := tx.ListCredentials(ctx(t), b.ID)
			wantNoErr(t, "ListCredentials", err)
			if len(list) != 3 {
				t.Fatalf("ListCredentials: got %d credentials, want 3", len(list))
			}
			return nil
		})
	},
	"Update": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		c := newCredential(a.ID, t0)
		createCredential(t, s, c)
		stale := *c
		g := *c
		g.Name = "Android"
		g.Secret = []byte{9, 9}
		g.Data = nil
		g.LastUsedStep = 1<<40 + 6
		g.LastUsedAt = at(2 * time.Minute)
		g.Kind = mamoru.CredentialSMS // not written by UpdateCredential
		g.CreatedAt = at(time.Hour)   // nor this
		update(t, s, func(tx mamoru.Tx) error { return tx.UpdateCredential(ctx(t), &g) })
		if g.Version != 2 {
			t.Fatalf("UpdateCredential: Version = %d, want 2", g.Version)
		}
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.CredentialByID(ctx(t), c.ID)
			wantNoErr(t, "CredentialByID", err)
			want := g
			want.Kind, want.CreatedAt = c.Kind, c.CreatedAt
			equal(t, "CredentialByID after UpdateCredential", got, &want)
			return nil
		})
		update(t, s, func(tx mamoru.Tx) error {
			stale.LastUsedStep = 1
			wantCode(t, "UpdateCredential with a stale version", tx.UpdateCredential(ctx(t), &stale), mamoru.EConflict)
			if stale.Version != 1 {
				t.Errorf("a failed UpdateCredential changed Version to %d", stale.Version)
			}
			unknown := newCredential(a.ID, t0)
			unknown.Version = 1
			wantCode(t, "UpdateCredential of an unknown credential", tx.UpdateCredential(ctx(t), unknown), mamoru.ENotFound)
			return nil
		})
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.CredentialByID(ctx(t), c.ID)
			wantNoErr(t, "CredentialByID", err)
			if got.LastUsedStep != g.LastUsedStep || got.Version != 2 {
				t.Fatalf("a stale UpdateCredential changed the credential: %+v", got)
			}
			return nil
		})
	},
	"UpdateConcurrent": func(t *testing.T, s mamoru.Store) {
		// Several requests verified the same code against the same read of
		// the credential; only one may record its use.
		a := createAccount(t, s, "alice@example.com")
		c := newCredential(a.ID, t0)
		createCredential(t, s, c)
		const n = 10
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				g := *c // every request read Version 1
				g.LastUsedStep = int64(1000 + i)
				g.LastUsedAt = at(time.Duration(i) * time.Second)
				errs[i] = s.Update(ctx(t), func(tx mamoru.Tx) error { return tx.UpdateCredential(ctx(t), &g) })
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					t.Fatalf("concurrent UpdateCredential calls %d and %d with the same version both succeeded", winner, i)
				}
				winner = i
			} else {
				wantCode(t, "a losing UpdateCredential", err, mamoru.EConflict)
			}
		}
		if winner < 0 {
			t.Fatalf("none of %d concurrent UpdateCredential calls succeeded, want 1", n)
		}
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.CredentialByID(ctx(t), c.ID)
			wantNoErr(t, "CredentialByID", err)
			if got.LastUsedStep != int64(1000+winner) || got.Version != 2 {
				t.Fatalf("after the race: LastUsedStep %d, Version %d; want %d (the winner's) and 2",
					got.LastUsedStep, got.Version, 1000+winner)
			}
			return nil
		})
	},
	"Delete": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		b := createAccount(t, s, "bob@example.com")
		c := newCredential(a.ID, t0)
		createCredential(t, s, c)
		update(t, s, func(tx mamoru.Tx) error {
			wantCode(t, "DeleteCredential of another account's credential",
				tx.DeleteCredential(ctx(t), b.ID, c.ID), mamoru.ENotFound)
			wantCode(t, "DeleteCredential of an unknown credential",
				tx.DeleteCredential(ctx(t), a.ID, "nosuchid"), mamoru.ENotFound)
			return nil
		})
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.CredentialByID(ctx(t), c.ID)
			wantNoErr(t, "CredentialByID after a refused delete", err)
			return nil
		})
		update(t, s, func(tx mamoru.Tx) error { return tx.DeleteCredential(ctx(t), a.ID, c.ID) })
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.CredentialByID(ctx(t), c.ID)
			wantCode(t, "CredentialByID after DeleteCredential", err, mamoru.ENotFound)
			return nil
		})
		update(t, s, func(tx mamoru.Tx) error {
			wantCode(t, "DeleteCredential again", tx.DeleteCredential(ctx(t), a.ID, c.ID), mamoru.ENotFound)
			return nil
		})
	},
	"ListOldestFirst": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		b := createAccount(t, s, "bob@example.com")
		late := newCredential(a.ID, at(time.Hour))
		early := newCredential(a.ID, t0)
		tie1 := newCredential(a.ID, at(time.Minute))
		tie2 := newCredential(a.ID, at(time.Minute))
		never := newCredential(a.ID, time.Time{}) // no creation time: the oldest
		other := newCredential(b.ID, at(-time.Hour))
		for _, c := range []*mamoru.Credential{late, early, tie1, tie2, never, other} {
			createCredential(t, s, c)
		}
		view(t, s, func(tx mamoru.Tx) error {
			list, err := tx.ListCredentials(ctx(t), a.ID)
			wantNoErr(t, "ListCredentials", err)
			wantIDs(t, "ListCredentials", list, never.ID, early.ID, tie1.ID, tie2.ID, late.ID)
			equal(t, "a listed credential", list[1], early)
			list, err = tx.ListCredentials(ctx(t), "nosuchid")
			wantNoErr(t, "ListCredentials of an unknown account", err)
			wantIDs(t, "ListCredentials of an unknown account", list)
			return nil
		})
	},
	"Microseconds": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		tokyo := time.FixedZone("JST", 9*60*60)
		created := time.Date(2030, 4, 5, 15, 7, 8, 123456789, tokyo)
		c := newCredential(a.ID, created)
		c.LastUsedAt = time.Time{} // never used
		createCredential(t, s, c)
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.CredentialByID(ctx(t), c.ID)
			wantNoErr(t, "CredentialByID", err)
			wantTime(t, "CreatedAt", got.CreatedAt, created.Truncate(time.Microsecond))
			wantTime(t, "LastUsedAt", got.LastUsedAt, time.Time{})
			return nil
		})
		c.LastUsedAt = time.Date(2030, 4, 5, 6, 8, 9, 999999999, time.UTC)
		update(t, s, func(tx mamoru.Tx) error { return tx.UpdateCredential(ctx(t), c) })
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.CredentialByID(ctx(t), c.ID)
			wantNoErr(t, "CredentialByID", err)
			wantTime(t, "LastUsedAt", got.LastUsedAt, c.LastUsedAt.Truncate(time.Microsecond))
			return nil
		})
	},
}
