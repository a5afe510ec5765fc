package storetest

import (
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

var timeTests = map[string]func(t *testing.T, s mamoru.Store){
	"Microseconds": func(t *testing.T, s mamoru.Store) {
		tokyo := time.FixedZone("JST", 9*60*60)
		cases := []time.Time{
			time.Date(2030, 4, 5, 15, 7, 8, 123456789, tokyo), // nanoseconds are cut to microseconds
			time.Date(2030, 4, 5, 6, 7, 8, 1000, time.UTC),
			time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), // before the Unix epoch
			time.Date(2999, 12, 31, 23, 59, 59, 999999000, time.UTC),
			time.Now(), // with a monotonic reading
		}
		for _, c := range cases {
			a := newAccount(mamoru.NewID()+"@example.com", c)
			a.LastSignInAt = c
			update(t, s, func(tx mamoru.Tx) error { return tx.CreateAccount(ctx(t), a) })
			view(t, s, func(tx mamoru.Tx) error {
				got, err := tx.AccountByID(ctx(t), a.ID)
				wantNoErr(t, "AccountByID", err)
				want := c.Truncate(time.Microsecond)
				wantTime(t, "CreatedAt", got.CreatedAt, want)
				wantTime(t, "LastSignInAt", got.LastSignInAt, want)
				if got.CreatedAt.Nanosecond()%1000 != 0 {
					t.Fatalf("CreatedAt %v has sub-microsecond digits", got.CreatedAt)
				}
				return nil
			})
		}
	},
	"ZeroIsNever": func(t *testing.T, s mamoru.Store) {
		// Every time field zero: read back as zero, and treated as "never"
		// by the queries (a zero RevokedAt is not revoked, a zero
		// NextAttemptAt is due at once).
		a := &mamoru.Account{ID: mamoru.NewID(), Email: "zero@example.com", Status: mamoru.StatusActive}
		x := &mamoru.Session{ID: mamoru.NewID(), TokenHash: hash("zero"), AccountID: a.ID, ExpiresAt: at(time.Hour)}
		k := &mamoru.Token{ID: mamoru.NewID(), AccountID: a.ID, Purpose: mamoru.PurposeVerifyEmail,
			LinkHash: hash("zero link"), ExpiresAt: at(time.Hour)}
		m := &mamoru.Message{ID: mamoru.NewID(), Channel: mamoru.ChannelEmail, To: "zero@example.com"}
		f := &mamoru.Flow{ID: mamoru.NewID(), Kind: mamoru.FlowSignIn}
		update(t, s, func(tx mamoru.Tx) error {
			if err := tx.CreateAccount(ctx(t), a); err != nil {
				return err
			}
			if err := tx.CreateSession(ctx(t), x); err != nil {
				return err
			}
			if err := tx.CreateToken(ctx(t), k); err != nil {
				return err
			}
			if err := tx.CreateFlow(ctx(t), f); err != nil {
				return err
			}
			return tx.EnqueueMessage(ctx(t), m)
		})
		view(t, s, func(tx mamoru.Tx) error {
			gotA, err := tx.AccountByID(ctx(t), a.ID)
			wantNoErr(t, "AccountByID", err)
			equal(t, "an account with zero times", gotA, a)
			gotX, err := tx.SessionByID(ctx(t), x.ID)
			wantNoErr(t, "SessionByID", err)
			equal(t, "a session with zero times", gotX, x)
			list, err := tx.ListActiveSessions(ctx(t), a.ID, t0)
			wantNoErr(t, "ListActiveSessions", err)
			wantIDs(t, "ListActiveSessions", list, x.ID)
			gotK, err := tx.ActiveToken(ctx(t), a.ID, k.Purpose, t0)
			wantNoErr(t, "ActiveToken", err)
			equal(t, "a token with zero times and no code", gotK, k)
			gotF, err := tx.FlowByID(ctx(t), f.ID)
			wantNoErr(t, "FlowByID", err)
			f.Version = 1
			equal(t, "a flow with zero times and no state", gotF, f)
			gotM, err := tx.MessageByID(ctx(t), m.ID)
			wantNoErr(t, "MessageByID", err)
			equal(t, "a message with zero times", gotM, m)
			return nil
		})
		wantIDs(t, "ClaimMessages", claim(t, s, t0, at(time.Minute), 10), m.ID)
	},
}
