package account_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/internal/servicetest"
	"github.com/mamoru-id/mamoru/mfa"
)

// TestPasswordOnlySessionMatrix: for every combination of 2-step methods,
// a password alone signs nobody in, and a session that passed only the
// password (made before the methods were added, from a remembered device,
// or stepped up with the password) reaches nothing that needs the second
// factor.
func TestPasswordOnlySessionMatrix(t *testing.T) {
	kinds := []mamoru.CredentialKind{mamoru.CredentialTOTP, mamoru.CredentialWebAuthn, mamoru.CredentialSMS, mamoru.CredentialBackupCodes}
	for mask := 1; mask < 1<<len(kinds); mask++ {
		var set []mamoru.CredentialKind
		for i, k := range kinds {
			if mask&(1<<i) != 0 {
				set = append(set, k)
			}
		}
		t.Run(fmt.Sprint(set), func(t *testing.T) {
			e := servicetest.New(t)
			a := e.SignUp(t, fmt.Sprintf("matrix%d@example.com", mask), pw, mamoru.English)
			setPhone(t, e, a.ID, "+819012345678")
			s := session(t, e, a, req)
			stepped := stepUp(t, e, s, mamoru.StepUpInput{Method: mamoru.MethodPassword, Password: pw})
			var want []mamoru.Method
			for _, k := range set {
				addCredential(t, e, a.ID, k)
				want = append(want, mamoru.MethodOf(k))
			}

			// The password alone: the second step, with exactly these methods.
			for _, r := range []mamoru.Request{req, servicetest.Stranger, device(req, "some-device")} {
				res := e.SignInAs(t, a.Email, pw, r)
				if res.Status != mamoru.ChallengeRequired || res.Session != nil || res.SessionToken != "" {
					t.Fatalf("password alone from %s: %+v", r.IP, res)
				}
				got := slices.Clone(res.Methods)
				slices.Sort(got)
				w := slices.Clone(want)
				slices.Sort(w)
				if fmt.Sprint(got) != fmt.Sprint(w) {
					t.Fatalf("methods %v, want %v", res.Methods, w)
				}
			}

			// A step-up with the password is not offered any more.
			if _, _, err := e.Accounts.StepUp(ctx, s, mamoru.StepUpInput{Method: mamoru.MethodPassword, Password: pw}, req); mamoru.ErrorCode(err) != mamoru.EInvalidRequest {
				t.Fatalf("password step-up of a 2-step account: %v", err)
			}

			for _, sess := range []*mamoru.Session{s, stepped} {
				for name, op := range sensitive(e, sess) {
					if err := op(); mamoru.ErrorCode(err) != mamoru.EStepUpRequired {
						t.Errorf("%s from a password-only session (AAL%d): %v", name, sess.AAL, err)
					}
				}
			}
		})
	}
}

// TestNoMethodsNeedPasswordStepUpForTwoStepSettings: an account without
// methods changes its password with the current one, but adds a method
// only after re-entering the password in the session.
func TestNoMethodsNeedPasswordStepUpForTwoStepSettings(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "nomethods@example.com", pw, mamoru.English)
	s := session(t, e, a, req)
	for name, op := range sensitive(e, s) {
		err := op()
		switch name {
		case "ChangePassword", "StartEmailChange", "StartPhoneChange", "RemovePhone":
			if mamoru.ErrorCode(err) == mamoru.EStepUpRequired {
				t.Errorf("%s asked for a step-up without methods", name)
			}
		default:
			if mamoru.ErrorCode(err) != mamoru.EStepUpRequired {
				t.Errorf("%s without a step-up: %v", name, err)
			}
		}
	}
	// A wrong password does not step up.
	if _, _, err := e.Accounts.StepUp(ctx, s, mamoru.StepUpInput{Method: mamoru.MethodPassword, Password: "wrong-password-123"}, req); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
		t.Fatalf("wrong password step-up: %v", err)
	}
	// (ChangePassword above went through: the password is the new one, and
	// the session was rotated, so sign in again.)
	s = stepUp(t, e, session2(t, e, a, "another-long-password-9"), mamoru.StepUpInput{Method: mamoru.MethodPassword, Password: "another-long-password-9"})
	if _, err := e.Accounts.BeginTOTP(ctx, s); err != nil {
		t.Fatalf("after the step-up: %v", err)
	}
	// Ten minutes later it has to be done again.
	e.Clock.Advance(11 * 60e9)
	if _, err := e.Accounts.BeginTOTP(ctx, s); mamoru.ErrorCode(err) != mamoru.EStepUpRequired {
		t.Fatalf("after the step-up expired: %v", err)
	}
}

// sensitive lists the operations that need a second factor.
func sensitive(e *servicetest.Env, s *mamoru.Session) map[string]func() error {
	return map[string]func() error{
		"ChangePassword": func() error {
			_, _, err := e.Accounts.ChangePassword(ctx, s, mamoru.ChangePasswordInput{Current: pw, New: "another-long-password-9"}, req)
			return err
		},
		"StartEmailChange": func() error { return e.Accounts.StartEmailChange(ctx, s, "new-address@example.com", pw, req) },
		"StartPhoneChange": func() error { return e.Accounts.StartPhoneChange(ctx, s, "+819087654321", pw, req) },
		"RemovePhone": func() error {
			_, err := e.Accounts.RemovePhone(ctx, s, pw, req)
			return err
		},
		"BeginTOTP": func() error {
			_, err := e.Accounts.BeginTOTP(ctx, s)
			return err
		},
		"ConfirmTOTP": func() error { return e.Accounts.ConfirmTOTP(ctx, s, "x.y", "123456", "", req) },
		"BeginWebAuthnRegistration": func() error {
			_, _, err := e.Accounts.BeginWebAuthnRegistration(ctx, s, true)
			return err
		},
		"FinishWebAuthnRegistration": func() error {
			return e.Accounts.FinishWebAuthnRegistration(ctx, s, "x.y", []byte("{}"), "", req)
		},
		"NewBackupCodes": func() error {
			_, err := e.Accounts.NewBackupCodes(ctx, s, req)
			return err
		},
		"EnableSMS":     func() error { return e.Accounts.EnableSMS(ctx, s, req) },
		"RemoveMethod":  func() error { return e.Accounts.RemoveMethod(ctx, s, "any", req) },
		"ForgetDevices": func() error { return e.Accounts.ForgetDevices(ctx, s, req) },
	}
}

// addCredential stores a credential of kind k for the account, as an
// enrollment would (its secret is not needed here).
func addCredential(t *testing.T, e *servicetest.Env, accountID string, k mamoru.CredentialKind) {
	t.Helper()
	c := &mamoru.Credential{ID: mamoru.NewID(), AccountID: accountID, Kind: k, CreatedAt: e.Clock.Now()}
	switch k {
	case mamoru.CredentialBackupCodes:
		_, data, err := mfa.NewBackupCodes(make([]byte, 32), 10)
		if err != nil {
			t.Fatal(err)
		}
		c.Data = data
	case mamoru.CredentialWebAuthn:
		c.WebAuthnID = mamoru.RandomBytes(16)
		c.Data = []byte(`{}`)
	case mamoru.CredentialTOTP:
		c.Secret = []byte("sealed")
	}
	err := e.Store.Update(ctx, func(tx mamoru.Tx) error { return tx.CreateCredential(ctx, c) })
	if err != nil {
		t.Fatal(err)
	}
}

// session2 signs in with password p.
func session2(t *testing.T, e *servicetest.Env, a *mamoru.Account, p string) *mamoru.Session {
	t.Helper()
	res := e.SignInAs(t, a.Email, p, req)
	if res.Status != mamoru.SignedIn {
		t.Fatalf("sign-in: %+v", res)
	}
	return res.Session
}
