package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// Run runs the conformance suite. open must return a new, empty, migrated
// store for each call (each subtest calls it once, possibly in parallel
// with others) and arrange its cleanup with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) mamoru.Store) {
	suites := []struct {
		name  string
		tests map[string]func(t *testing.T, s mamoru.Store)
	}{
		{"Accounts", accountTests},
		{"Sessions", sessionTests},
		{"Flows", flowTests},
		{"Tokens", tokenTests},
		{"Messages", messageTests},
		{"Secrets", secretTests},
		{"Events", eventTests},
		{"Risk", riskTests},
		{"Lockouts", lockoutTests},
		{"Credentials", credentialTests},
		{"Tx", txTests},
		{"Times", timeTests},
	}
	for _, suite := range suites {
		t.Run(suite.name, func(t *testing.T) {
			for _, name := range slices.Sorted(maps.Keys(suite.tests)) {
				test := suite.tests[name]
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					test(t, open(t))
				})
			}
		})
	}
}

// t0 is the base time of the fixtures: UTC, exact to the microsecond.
var t0 = time.Date(2030, 4, 5, 6, 7, 8, 123456000, time.UTC)

// at returns t0 moved by d.
func at(d time.Duration) time.Time { return t0.Add(d) }

func ctx(t *testing.T) context.Context { return t.Context() }

// update runs fn in s.Update and fails the test on an error.
func update(t *testing.T, s mamoru.Store, fn func(tx mamoru.Tx) error) {
	t.Helper()
	if err := s.Update(ctx(t), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in s.View and fails the test on an error.
func view(t *testing.T, s mamoru.Store, fn func(tx mamoru.Tx) error) {
	t.Helper()
	if err := s.View(ctx(t), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// wantCode fails unless err is an *mamoru.Error with the given code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var e *mamoru.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: got error %v, want an *mamoru.Error with code %q", what, err, code)
	}
	if e.Code != code {
		t.Fatalf("%s: got code %q (%v), want %q", what, e.Code, err, code)
	}
}

// wantNoErr fails if err is not nil.
func wantNoErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// equal fails unless got and want are equal, comparing times with Equal
// (and requiring non-zero read times in UTC) and byte slices by content
// (nil and empty being equal).
func equal[T any](t *testing.T, what string, got, want *T) {
	t.Helper()
	if got == nil || want == nil {
		if got != want {
			t.Fatalf("%s: got %+v, want %+v", what, got, want)
		}
		return
	}
	if err := checkUTC(reflect.ValueOf(got).Elem()); err != nil {
		t.Errorf("%s: %v", what, err)
	}
	g, w := normalize(*got), normalize(*want)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

// checkUTC reports a non-zero time field of v not in UTC.
func checkUTC(v reflect.Value) error {
	for i := 0; i < v.NumField(); i++ {
		if tm, ok := v.Field(i).Interface().(time.Time); ok && !tm.IsZero() && tm.Location() != time.UTC {
			return fmt.Errorf("field %s = %v is not in UTC", v.Type().Field(i).Name, tm)
		}
	}
	return nil
}

// normalize returns a copy of v whose time fields are rebuilt from their
// instant in UTC and whose empty byte slices are nil.
func normalize[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		switch x := f.Interface().(type) {
		case time.Time:
			if x.IsZero() {
				f.Set(reflect.ValueOf(time.Time{}))
			} else {
				f.Set(reflect.ValueOf(time.UnixMicro(x.UnixMicro()).UTC()))
			}
		case []byte:
			if len(x) == 0 {
				f.Set(reflect.ValueOf([]byte(nil)))
			}
		}
	}
	return v
}

// wantTime fails unless got equals want and, when not zero, is in UTC.
func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) || got.IsZero() != want.IsZero() {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	if !got.IsZero() && got.Location() != time.UTC {
		t.Fatalf("%s: got %v, not in UTC", what, got)
	}
}

// wantIDs fails unless the IDs of list are want, in order.
func wantIDs[T any](t *testing.T, what string, list []*T, want ...string) {
	t.Helper()
	var got []string
	for _, v := range list {
		got = append(got, reflect.ValueOf(v).Elem().FieldByName("ID").String())
	}
	if len(got) != len(want) {
		t.Fatalf("%s: got IDs %q, want %q", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: got IDs %q, want %q", what, got, want)
		}
	}
}

// hash returns a distinct 32-byte value for s, like a SHA-256.
func hash(s string) []byte {
	b := bytes.Repeat([]byte{0}, 32)
	copy(b, s)
	b[31] = 0xff
	return b
}

// newAccount returns an account with every field set.
func newAccount(email string, created time.Time) *mamoru.Account {
	return &mamoru.Account{
		ID:                mamoru.NewID(),
		Email:             email,
		EmailVerifiedAt:   created.Add(time.Minute),
		PasswordHash:      "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		PasswordChangedAt: created,
		Language:          mamoru.Japanese,
		Status:            mamoru.StatusActive,
		CreatedAt:         created,
		UpdatedAt:         created.Add(time.Minute),
		LastSignInAt:      created.Add(time.Hour),
		TimeZone:          "Asia/Tokyo",
		Phone:             "+819012345678",
		ResetRequiredAt:   created.Add(2 * time.Hour),
	}
}

// createAccount stores a new account and returns it.
func createAccount(t *testing.T, s mamoru.Store, email string) *mamoru.Account {
	t.Helper()
	a := newAccount(email, t0)
	update(t, s, func(tx mamoru.Tx) error { return tx.CreateAccount(ctx(t), a) })
	return a
}
