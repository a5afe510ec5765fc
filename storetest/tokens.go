package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// newToken returns a token of the account and purpose created at created,
// expiring an hour later.
func newToken(accountID string, purpose mamoru.TokenPurpose, created time.Time) *mamoru.Token {
	id := mamoru.NewID()
	return &mamoru.Token{
		ID:        id,
		AccountID: accountID,
		Purpose:   purpose,
		Email:     "alice@example.com",
		Data:      "data of " + id,
		CodeHash:  hash("code " + id),
		LinkHash:  hash("link " + id),
		CreatedAt: created,
		ExpiresAt: created.Add(time.Hour),
	}
}

func createTokens(t *testing.T, s mamoru.Store, list ...*mamoru.Token) {
	t.Helper()
	update(t, s, func(tx mamoru.Tx) error {
		for _, k := range list {
			if err := tx.CreateToken(ctx(t), k); err != nil {
				return err
			}
		}
		return nil
	})
}

func getToken(t *testing.T, s mamoru.Store, k *mamoru.Token) *mamoru.Token {
	t.Helper()
	var got *mamoru.Token
	view(t, s, func(tx mamoru.Tx) error {
		var err error
		got, err = tx.TokenByLinkHash(ctx(t), k.LinkHash)
		return err
	})
	return got
}

var tokenTests = map[string]func(t *testing.T, s mamoru.Store){
	"CreateAndGet": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		k := newToken(a.ID, mamoru.PurposeVerifyEmail, t0)
		k.Attempts = 2
		used := newToken(a.ID, mamoru.PurposeVerifyEmail, t0)
		used.UsedAt = at(time.Minute)
		createTokens(t, s, k, used)
		equal(t, "TokenByLinkHash", getToken(t, s, k), k)
		equal(t, "TokenByLinkHash of a used token", getToken(t, s, used), used)
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.TokenByLinkHash(ctx(t), hash("nosuchlink"))
			wantCode(t, "TokenByLinkHash", err, mamoru.ENotFound)
			return nil
		})
		update(t, s, func(tx mamoru.Tx) error {
			dup := newToken(a.ID, mamoru.PurposeVerifyEmail, t0)
			dup.LinkHash = k.LinkHash
			wantCode(t, "CreateToken with a taken link hash", tx.CreateToken(ctx(t), dup), mamoru.EConflict)
			return nil
		})
	},
	"Active": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		b := createAccount(t, s, "bob@example.com")
		now := at(2 * time.Hour)
		p := mamoru.PurposePasswordReset
		old := newToken(a.ID, p, at(90*time.Minute))
		want := newToken(a.ID, p, at(100*time.Minute))
		used := newToken(a.ID, p, at(110*time.Minute))
		used.UsedAt = at(115 * time.Minute)
		expired := newToken(a.ID, p, at(115*time.Minute))
		expired.ExpiresAt = now // expires at now: not after it
		otherPurpose := newToken(a.ID, mamoru.PurposeVerifyEmail, at(119*time.Minute))
		otherAccount := newToken(b.ID, p, at(119*time.Minute))
		createTokens(t, s, used, old, expired, want, otherPurpose, otherAccount)
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.ActiveToken(ctx(t), a.ID, p, now)
			wantNoErr(t, "ActiveToken", err)
			equal(t, "ActiveToken", got, want)
			_, err = tx.ActiveToken(ctx(t), a.ID, p, at(170*time.Minute))
			wantCode(t, "ActiveToken when every token expired", err, mamoru.ENotFound)
			_, err = tx.ActiveToken(ctx(t), "nosuchid", p, now)
			wantCode(t, "ActiveToken of an unknown account", err, mamoru.ENotFound)
			return nil
		})
	},
	"Use": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		k := newToken(a.ID, mamoru.PurposeVerifyEmail, t0)
		createTokens(t, s, k)
		update(t, s, func(tx mamoru.Tx) error { return tx.UseToken(ctx(t), k.ID, at(time.Minute)) })
		wantTime(t, "UsedAt", getToken(t, s, k).UsedAt, at(time.Minute))
		update(t, s, func(tx mamoru.Tx) error {
			wantCode(t, "UseToken of a used token", tx.UseToken(ctx(t), k.ID, at(2*time.Minute)), mamoru.EConflict)
			wantCode(t, "UseToken of an unknown token", tx.UseToken(ctx(t), "nosuchid", at(2*time.Minute)), mamoru.ENotFound)
			return nil
		})
		wantTime(t, "UsedAt after a second UseToken", getToken(t, s, k).UsedAt, at(time.Minute))
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.ActiveToken(ctx(t), a.ID, k.Purpose, t0)
			wantCode(t, "ActiveToken after UseToken", err, mamoru.ENotFound)
			return nil
		})
	},
	"UseConcurrent": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		k := newToken(a.ID, mamoru.PurposePasswordReset, t0)
		createTokens(t, s, k)
		const n = 20
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = s.Update(ctx(t), func(tx mamoru.Tx) error {
					return tx.UseToken(ctx(t), k.ID, at(time.Duration(i+1)*time.Second))
				})
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				wantCode(t, "a losing UseToken", err, mamoru.EConflict)
			}
		}
		if won != 1 {
			t.Fatalf("%d of %d concurrent UseToken calls succeeded, want exactly 1", won, n)
		}
	},
	"Attempts": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		k := newToken(a.ID, mamoru.PurposeVerifyEmail, t0)
		createTokens(t, s, k)
		for want := 1; want <= 3; want++ {
			update(t, s, func(tx mamoru.Tx) error {
				n, err := tx.AddTokenAttempt(ctx(t), k.ID)
				if err == nil && n != want {
					t.Fatalf("AddTokenAttempt: got %d, want %d", n, want)
				}
				return err
			})
		}
		if got := getToken(t, s, k); got.Attempts != 3 {
			t.Fatalf("Attempts: got %d, want 3", got.Attempts)
		}
	},
	"Revoke": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		b := createAccount(t, s, "bob@example.com")
		p := mamoru.PurposeVerifyEmail
		k1 := newToken(a.ID, p, t0)
		k2 := newToken(a.ID, p, at(time.Minute))
		used := newToken(a.ID, p, t0)
		used.UsedAt = at(time.Second)
		otherPurpose := newToken(a.ID, mamoru.PurposePasswordReset, t0)
		otherAccount := newToken(b.ID, p, t0)
		createTokens(t, s, k1, k2, used, otherPurpose, otherAccount)
		update(t, s, func(tx mamoru.Tx) error { return tx.RevokeTokens(ctx(t), a.ID, p, at(2*time.Minute)) })
		wantTime(t, "UsedAt of a revoked token", getToken(t, s, k1).UsedAt, at(2*time.Minute))
		wantTime(t, "UsedAt of a revoked token", getToken(t, s, k2).UsedAt, at(2*time.Minute))
		wantTime(t, "UsedAt of a token used before", getToken(t, s, used).UsedAt, at(time.Second))
		wantTime(t, "UsedAt of another purpose", getToken(t, s, otherPurpose).UsedAt, time.Time{})
		wantTime(t, "UsedAt of another account", getToken(t, s, otherAccount).UsedAt, time.Time{})
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.ActiveToken(ctx(t), a.ID, p, t0)
			wantCode(t, "ActiveToken after RevokeTokens", err, mamoru.ENotFound)
			return nil
		})
	},
	"DeleteBefore": func(t *testing.T, s mamoru.Store) {
		a := createAccount(t, s, "alice@example.com")
		old := newToken(a.ID, mamoru.PurposeVerifyEmail, t0)              // expires at(1h)
		atCut := newToken(a.ID, mamoru.PurposeVerifyEmail, at(time.Hour)) // expires at(2h)
		fresh := newToken(a.ID, mamoru.PurposeVerifyEmail, at(2*time.Hour))
		createTokens(t, s, old, atCut, fresh)
		var n int
		update(t, s, func(tx mamoru.Tx) error {
			var err error
			n, err = tx.DeleteTokensBefore(ctx(t), at(2*time.Hour))
			return err
		})
		if n != 1 {
			t.Fatalf("DeleteTokensBefore: got %d, want 1", n)
		}
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.TokenByLinkHash(ctx(t), old.LinkHash)
			wantCode(t, "TokenByLinkHash of a deleted token", err, mamoru.ENotFound)
			for _, k := range []*mamoru.Token{atCut, fresh} {
				_, err := tx.TokenByLinkHash(ctx(t), k.LinkHash)
				wantNoErr(t, "TokenByLinkHash of a kept token", err)
			}
			return nil
		})
	},
}
