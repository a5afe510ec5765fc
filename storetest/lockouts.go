package storetest

import (
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

var lockoutTests = map[string]func(t *testing.T, s mamoru.Store){
	"RoundTrip": func(t *testing.T, s mamoru.Store) {
		key := hash("someone@example.com")
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.Lockout(ctx(t), key)
			wantCode(t, "no lockout", err, mamoru.ENotFound)
			return nil
		})
		l := &mamoru.Lockout{Key: key, Failures: 3, WindowStart: at(0), UpdatedAt: at(time.Minute)}
		update(t, s, func(tx mamoru.Tx) error { return tx.SaveLockout(ctx(t), l) })
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.Lockout(ctx(t), key)
			wantNoErr(t, "Lockout", err)
			equal(t, "lockout", got, l)
			return nil
		})
		// Replace: lock it.
		l.Failures, l.LockedAt, l.LockedUntil, l.NotifiedAt, l.UpdatedAt = 10, at(2*time.Minute), at(12*time.Minute), at(2*time.Minute), at(2*time.Minute)
		l.Generation = 1<<40 + 3
		update(t, s, func(tx mamoru.Tx) error { return tx.SaveLockout(ctx(t), l) })
		view(t, s, func(tx mamoru.Tx) error {
			got, err := tx.Lockout(ctx(t), key)
			wantNoErr(t, "Lockout", err)
			equal(t, "locked lockout", got, l)
			if !got.Locked(at(11*time.Minute)) || got.Locked(at(12*time.Minute)) {
				t.Errorf("Locked: wrong at the edges of %v", got.LockedUntil)
			}
			return nil
		})
		update(t, s, func(tx mamoru.Tx) error { return tx.DeleteLockout(ctx(t), key) })
		update(t, s, func(tx mamoru.Tx) error { return tx.DeleteLockout(ctx(t), key) }) // absent: no error
		view(t, s, func(tx mamoru.Tx) error {
			_, err := tx.Lockout(ctx(t), key)
			wantCode(t, "deleted lockout", err, mamoru.ENotFound)
			return nil
		})
	},
	"Invalid": func(t *testing.T, s mamoru.Store) {
		err := s.Update(ctx(t), func(tx mamoru.Tx) error {
			return tx.SaveLockout(ctx(t), &mamoru.Lockout{Failures: 1, UpdatedAt: at(0)})
		})
		wantCode(t, "no key", err, mamoru.EInvalidRequest)
	},
	"DeleteBefore": func(t *testing.T, s mamoru.Store) {
		stale := &mamoru.Lockout{Key: hash("stale"), Failures: 1, WindowStart: at(0), UpdatedAt: at(0)}
		fresh := &mamoru.Lockout{Key: hash("fresh"), Failures: 1, WindowStart: at(0), UpdatedAt: at(2 * time.Hour)}
		locked := &mamoru.Lockout{Key: hash("locked"), Failures: 9, WindowStart: at(0), LockedAt: at(0),
			LockedUntil: at(5 * time.Hour), UpdatedAt: at(0)}
		update(t, s, func(tx mamoru.Tx) error {
			for _, l := range []*mamoru.Lockout{stale, fresh, locked} {
				if err := tx.SaveLockout(ctx(t), l); err != nil {
					return err
				}
			}
			return nil
		})
		update(t, s, func(tx mamoru.Tx) error {
			n, err := tx.DeleteLockoutsBefore(ctx(t), at(time.Hour))
			if err == nil && n != 1 {
				t.Errorf("deleted %d lockouts, want 1 (the stale one)", n)
			}
			return err
		})
		view(t, s, func(tx mamoru.Tx) error {
			for _, l := range []*mamoru.Lockout{fresh, locked} {
				if _, err := tx.Lockout(ctx(t), l.Key); err != nil {
					t.Errorf("lockout %x: %v", l.Key, err)
				}
			}
			return nil
		})
	},
}
