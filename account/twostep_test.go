package account_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/internal/servicetest"
	"github.com/mamoru-id/mamoru/risk"
	"github.com/mamoru-id/mamoru/signin"
)

// device is a client with a device cookie.
func device(r mamoru.Request, id string) mamoru.Request {
	r.DeviceID = id
	return r
}

// session signs the account in (no 2-step methods yet) and returns its
// session.
func session(t *testing.T, e *servicetest.Env, a *mamoru.Account, r mamoru.Request) *mamoru.Session {
	t.Helper()
	res := e.SignInAs(t, a.Email, pw, r)
	if res.Status != mamoru.SignedIn {
		t.Fatalf("sign-in: %+v", res)
	}
	return res.Session
}

// stepUp steps the session up with the password (an account without
// methods) and returns the fresh session.
func stepUp(t *testing.T, e *servicetest.Env, s *mamoru.Session, in mamoru.StepUpInput) *mamoru.Session {
	t.Helper()
	fresh, token, err := e.Accounts.StepUp(ctx, s, in, req)
	if err != nil {
		t.Fatalf("step-up %s: %v", in.Method, err)
	}
	if fresh.ID == s.ID || token == "" {
		t.Fatalf("step-up kept the session ID")
	}
	return fresh
}

// totpCode is the app's code for secret at t.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrollTOTP adds an authenticator app and returns its secret; the
// session steps up with the password first.
func enrollTOTP(t *testing.T, e *servicetest.Env, s *mamoru.Session) (string, *mamoru.Session) {
	t.Helper()
	s = stepUp(t, e, s, mamoru.StepUpInput{Method: mamoru.MethodPassword, Password: pw})
	setup, err := e.Accounts.BeginTOTP(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(setup.QRPNG) == 0 || !strings.HasPrefix(setup.URL, "otpauth://totp/") {
		t.Fatalf("setup: %+v", setup)
	}
	if err := e.Accounts.ConfirmTOTP(ctx, s, setup.State, totpCode(t, setup.Secret, e.Clock.Now()), "phone", req); err != nil {
		t.Fatal(err)
	}
	// The confirming code's step is used: move on past it.
	e.Clock.Advance(30 * time.Second)
	return setup.Secret, s
}

func TestTOTPEnrollmentAndSignIn(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "app@example.com", pw, mamoru.Japanese)
	s := session(t, e, a, req)

	// Without a step-up, nothing can be added.
	if _, err := e.Accounts.BeginTOTP(ctx, s); mamoru.ErrorCode(err) != mamoru.EStepUpRequired {
		t.Fatalf("BeginTOTP without step-up: %v", err)
	}
	secret, _ := enrollTOTP(t, e, s)
	if m := mails(t, e, a.Email, "two_step_added"); len(m) != 1 || m[0].Language != mamoru.Japanese {
		t.Fatalf("two_step_added mails: %d", len(m))
	}
	if evs := e.EventsOf(t, a.ID, mamoru.EventTwoStepAdded); len(evs) != 1 || evs[0].Details[mamoru.DetailMethod] != "totp" {
		t.Fatalf("events: %+v", evs)
	}

	// A sign-in now stops for the app's code, whatever the device.
	res := e.SignInAs(t, a.Email, pw, device(req, "laptop"))
	if res.Status != mamoru.ChallengeRequired || res.Session != nil || len(res.Methods) != 1 || res.Methods[0] != mamoru.MethodTOTP || res.SentTo != "" {
		t.Fatalf("password only: %+v", res)
	}
	step := mamoru.CodeStep{FlowID: res.FlowID, FlowSecret: res.FlowSecret, Method: mamoru.MethodTOTP}
	step.Code = "000000"
	if step.Code == totpCode(t, secret, e.Clock.Now()) {
		step.Code = "111111"
	}
	_, err := e.SignIn.SubmitCode(ctx, step, device(req, "laptop"))
	wantCode(t, err, mamoru.EInvalidCode)
	// Another method than the flow's is refused.
	bad := step
	bad.Method = mamoru.MethodEmail
	_, err = e.SignIn.SubmitCode(ctx, bad, device(req, "laptop"))
	wantCode(t, err, mamoru.EInvalidRequest)
	// Full-width digits from an IME are the same code.
	step.Code = toFullWidth(totpCode(t, secret, e.Clock.Now()))
	done, err := e.SignIn.SubmitCode(ctx, step, device(req, "laptop"))
	if err != nil || done.Status != mamoru.SignedIn || done.Session.AAL != 2 || done.Session.VerifiedAt.IsZero() {
		t.Fatalf("right code: %+v %v", done, err)
	}
	if evs := e.EventsOf(t, a.ID, mamoru.EventSignInSucceeded); evs[0].Details[mamoru.DetailMethod] != "totp" {
		t.Fatalf("sign-in event: %+v", evs[0].Details)
	}

	// The same code again, on a new flow: refused as a replay, recorded,
	// and the owner told.
	res = e.SignInAs(t, a.Email, pw, device(req, "laptop"))
	step = mamoru.CodeStep{FlowID: res.FlowID, FlowSecret: res.FlowSecret, Method: mamoru.MethodTOTP, Code: totpCode(t, secret, e.Clock.Now())}
	_, err = e.SignIn.SubmitCode(ctx, step, device(req, "laptop"))
	wantCode(t, err, mamoru.EInvalidCode)
	if evs := e.EventsOf(t, a.ID, mamoru.EventTwoStepReplayed); len(evs) != 1 {
		t.Fatalf("replay events: %d", len(evs))
	}
	if m := mails(t, e, a.Email, "two_step_code_replayed"); len(m) != 1 {
		t.Fatalf("replay mails: %d", len(m))
	}
	// The next code works.
	e.Clock.Advance(30 * time.Second)
	step.Code = totpCode(t, secret, e.Clock.Now())
	if done, err := e.SignIn.SubmitCode(ctx, step, device(req, "laptop")); err != nil || done.Status != mamoru.SignedIn {
		t.Fatalf("next code: %+v %v", done, err)
	}
}

func toFullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + '０'
		}
		return r
	}, s)
}

func TestBackupCodes(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "backup@example.com", pw, mamoru.English)
	s := session(t, e, a, req)
	secret, s := enrollTOTP(t, e, s)
	// The session stepped up with the password before the app existed;
	// now that there is a second factor, changes need it.
	if _, err := e.Accounts.NewBackupCodes(ctx, s, req); mamoru.ErrorCode(err) != mamoru.EStepUpRequired {
		t.Fatalf("backup codes after a password step-up: %v", err)
	}
	res := e.SignInAs(t, a.Email, pw, req)
	// No backup codes yet: only the app.
	if len(res.Methods) != 1 {
		t.Fatalf("methods: %v", res.Methods)
	}
	codes := newBackupCodes(t, e, secret, s)
	if len(codes) != 10 {
		t.Fatalf("%d codes", len(codes))
	}
	res = e.SignInAs(t, a.Email, pw, req)
	if want := []mamoru.Method{mamoru.MethodTOTP, mamoru.MethodBackupCode}; fmt.Sprint(res.Methods) != fmt.Sprint(want) {
		t.Fatalf("methods %v, want %v", res.Methods, want)
	}
	step := mamoru.CodeStep{FlowID: res.FlowID, FlowSecret: res.FlowSecret, Method: mamoru.MethodBackupCode, Code: strings.ToUpper(codes[3])}
	if done, err := e.SignIn.SubmitCode(ctx, step, req); err != nil || done.Status != mamoru.SignedIn || done.Session.AAL != 2 {
		t.Fatalf("backup code: %+v %v", done, err)
	}
	// Used once: refused on another flow, and the owner told.
	res = e.SignInAs(t, a.Email, pw, req)
	step = mamoru.CodeStep{FlowID: res.FlowID, FlowSecret: res.FlowSecret, Method: mamoru.MethodBackupCode, Code: codes[3]}
	_, err := e.SignIn.SubmitCode(ctx, step, req)
	wantCode(t, err, mamoru.EInvalidCode)
	if m := mails(t, e, a.Email, "two_step_code_replayed"); len(m) != 1 {
		t.Fatalf("replay mails: %d", len(m))
	}
	st, err := e.Accounts.TwoStep(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range st.Methods {
		if m.Kind == mamoru.CredentialBackupCodes && m.Remaining != 9 {
			t.Fatalf("remaining %d", m.Remaining)
		}
	}
	// New codes: the old ones stop working.
	fresh := newBackupCodes(t, e, secret, s)
	step.Code = codes[4]
	_, err = e.SignIn.SubmitCode(ctx, step, req)
	wantCode(t, err, mamoru.EInvalidCode)
	step.Code = fresh[0]
	if done, err := e.SignIn.SubmitCode(ctx, step, req); err != nil || done.Status != mamoru.SignedIn {
		t.Fatalf("new backup code: %+v %v", done, err)
	}
}

// newBackupCodes steps the session up with a fresh code of the app, then
// makes backup codes.
func newBackupCodes(t *testing.T, e *servicetest.Env, secret string, s *mamoru.Session) []string {
	t.Helper()
	s = stepUpWithApp(t, e, secret, s)
	codes, err := e.Accounts.NewBackupCodes(ctx, s, req)
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

// stepUpWithApp steps s up with the next code of the app.
func stepUpWithApp(t *testing.T, e *servicetest.Env, secret string, s *mamoru.Session) *mamoru.Session {
	t.Helper()
	e.Clock.Advance(30 * time.Second)
	return stepUp(t, e, s, mamoru.StepUpInput{Method: mamoru.MethodTOTP, Code: totpCode(t, secret, e.Clock.Now())})
}

func TestRememberedDeviceAndAbsence(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "remember@example.com", pw, mamoru.English)
	s := session(t, e, a, req)
	secret, s := enrollTOTP(t, e, s)
	laptop := device(req, "laptop-cookie")

	signInWithApp := func(r mamoru.Request, remember bool) *mamoru.SignInResult {
		t.Helper()
		res := e.SignInAs(t, a.Email, pw, r)
		if res.Status != mamoru.ChallengeRequired {
			t.Fatalf("expected the second step: %+v", res)
		}
		e.Clock.Advance(30 * time.Second)
		done, err := e.SignIn.SubmitCode(ctx, mamoru.CodeStep{FlowID: res.FlowID, FlowSecret: res.FlowSecret,
			Method: mamoru.MethodTOTP, Code: totpCode(t, secret, e.Clock.Now()), Remember: remember}, r)
		if err != nil || done.Status != mamoru.SignedIn {
			t.Fatalf("app code: %+v %v", done, err)
		}
		return done
	}
	signInWithApp(laptop, true)
	// The remembered device signs in with the password alone, at AAL1.
	res := e.SignInAs(t, a.Email, pw, laptop)
	if res.Status != mamoru.SignedIn || res.Session.AAL != 1 {
		t.Fatalf("remembered device: %+v", res)
	}
	// That password-only session cannot change anything sensitive.
	if _, _, err := e.Accounts.ChangePassword(ctx, res.Session, mamoru.ChangePasswordInput{Current: pw, New: "another-long-password-2"}, laptop); mamoru.ErrorCode(err) != mamoru.EStepUpRequired {
		t.Fatalf("password change from a password-only session: %v", err)
	}
	// Another device, or no cookie, is asked.
	if res := e.SignInAs(t, a.Email, pw, device(req, "other")); res.Status != mamoru.ChallengeRequired {
		t.Fatalf("other device: %+v", res)
	}
	if res := e.SignInAs(t, a.Email, pw, req); res.Status != mamoru.ChallengeRequired {
		t.Fatalf("no device cookie: %+v", res)
	}
	// After 31 days the device is asked again.
	e.Clock.Advance(31 * 24 * time.Hour)
	signInWithApp(laptop, true)
	if res := e.SignInAs(t, a.Email, pw, laptop); res.Status != mamoru.SignedIn {
		t.Fatalf("remembered again: %+v", res)
	}
	// Forgetting the devices asks everywhere again.
	s = stepUpWithApp(t, e, secret, s)
	if err := e.Accounts.ForgetDevices(ctx, s, req); err != nil {
		t.Fatal(err)
	}
	if res := e.SignInAs(t, a.Email, pw, laptop); res.Status != mamoru.ChallengeRequired {
		t.Fatalf("after forgetting: %+v", res)
	}
}

func TestLongAbsenceChallengesAccountsWithoutMethods(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "absent@example.com", pw, mamoru.English)
	session(t, e, a, req)
	e.Clock.Advance(91 * 24 * time.Hour)
	res := e.SignInAs(t, a.Email, pw, req)
	if res.Status != mamoru.ChallengeRequired || len(res.Methods) != 1 || res.Methods[0] != mamoru.MethodEmail || res.SentTo == "" {
		t.Fatalf("after 91 days: %+v", res)
	}
	_, c := code(t, e, a.Email, "signin_code")
	done, err := e.SignIn.SubmitCode(ctx, mamoru.CodeStep{FlowID: res.FlowID, FlowSecret: res.FlowSecret, Code: c}, req)
	if err != nil || done.Status != mamoru.SignedIn || done.Session.AAL != 1 {
		t.Fatalf("emailed code: %+v %v", done, err)
	}
}

func TestSMSCodesAndResendLimits(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "sms@example.com", pw, mamoru.Japanese)
	s := session(t, e, a, req)
	setPhone(t, e, a.ID, "+819012345678")
	s = stepUp(t, e, s, mamoru.StepUpInput{Method: mamoru.MethodPassword, Password: pw})
	if err := e.Accounts.EnableSMS(ctx, s, req); err != nil {
		t.Fatal(err)
	}
	res := e.SignInAs(t, a.Email, pw, req)
	if res.Status != mamoru.ChallengeRequired || res.Methods[0] != mamoru.MethodSMS || !strings.HasSuffix(res.SentTo, "78") {
		t.Fatalf("sms sign-in: %+v", res)
	}
	first := smsCode(t, e, "+819012345678")
	ref := mamoru.FlowRef{FlowID: res.FlowID, FlowSecret: res.FlowSecret}
	// A resend storm: at once again is refused with a wait.
	_, err := e.SignIn.ResendCode(ctx, ref, mamoru.MethodSMS, req)
	var me *mamoru.Error
	if !errors.As(err, &me) || me.Code != mamoru.ERateLimited || me.RetryAfter <= 0 || me.RetryAfter > 30*time.Second {
		t.Fatalf("resend at once: %v", err)
	}
	// Every 30 s a new code replaces the last, up to 5 codes in all.
	for i := 2; i <= 5; i++ {
		e.Clock.Advance(31 * time.Second)
		if _, err := e.SignIn.ResendCode(ctx, ref, mamoru.MethodSMS, req); err != nil {
			t.Fatalf("resend %d: %v", i, err)
		}
	}
	e.Clock.Advance(31 * time.Second)
	if _, err := e.SignIn.ResendCode(ctx, ref, mamoru.MethodSMS, req); mamoru.ErrorCode(err) != mamoru.ERateLimited {
		t.Fatalf("sixth code: %v", err)
	}
	last := smsCode(t, e, "+819012345678")
	step := mamoru.CodeStep{FlowID: res.FlowID, FlowSecret: res.FlowSecret, Method: mamoru.MethodSMS, Code: first}
	if first != last {
		_, err = e.SignIn.SubmitCode(ctx, step, req)
		wantCode(t, err, mamoru.EInvalidCode)
	}
	// An email code is not offered to an account with 2-step methods.
	if _, err := e.SignIn.ResendCode(ctx, ref, mamoru.MethodEmail, req); mamoru.ErrorCode(err) != mamoru.EInvalidRequest {
		t.Fatalf("email for a 2-step account: %v", err)
	}
	step.Code = last
	if done, err := e.SignIn.SubmitCode(ctx, step, req); err != nil || done.Status != mamoru.SignedIn || done.Session.AAL != 2 {
		t.Fatalf("sms code: %+v %v", done, err)
	}
}

func setPhone(t *testing.T, e *servicetest.Env, id, number string) {
	t.Helper()
	err := e.Store.Update(ctx, func(tx mamoru.Tx) error {
		a, err := tx.AccountByID(ctx, id)
		if err != nil {
			return err
		}
		a.Phone = number
		return tx.UpdateAccount(ctx, a)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func smsCode(t *testing.T, e *servicetest.Env, number string) string {
	t.Helper()
	for _, m := range e.Mail(t, number) {
		if m.Channel == mamoru.ChannelSMS {
			return codeOf(t, m)
		}
	}
	t.Fatalf("no SMS to %s", number)
	return ""
}

func TestSecondStepAbuse(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "abuse@example.com", pw, mamoru.English)
	s := session(t, e, a, req)
	secret, _ := enrollTOTP(t, e, s)

	t.Run("parallel guessing checks at most five proofs", func(t *testing.T) {
		res := e.SignInAs(t, a.Email, pw, servicetest.Stranger)
		right := totpCode(t, secret, e.Clock.Now())
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[string]int{}
		for i := range 30 {
			wg.Go(func() {
				c := fmt.Sprintf("%06d", (i*7919+13)%1000000)
				if c == right {
					c = "999999"
				}
				_, err := e.SignIn.SubmitCode(ctx, mamoru.CodeStep{FlowID: res.FlowID, FlowSecret: res.FlowSecret, Method: mamoru.MethodTOTP, Code: c}, servicetest.Stranger)
				mu.Lock()
				codes[mamoru.ErrorCode(err)]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if codes[mamoru.EInvalidCode] > signin.MaxTries || codes[""] != 0 {
			t.Fatalf("outcomes %v: more than %d proofs were checked", codes, signin.MaxTries)
		}
		// The flow is over: the right code no longer signs in.
		_, err := e.SignIn.SubmitCode(ctx, mamoru.CodeStep{FlowID: res.FlowID, FlowSecret: res.FlowSecret, Method: mamoru.MethodTOTP, Code: right}, servicetest.Stranger)
		wantCode(t, err, mamoru.EFlowExpired)
	})

	t.Run("one code, two flows at once: exactly one wins", func(t *testing.T) {
		e.Clock.Advance(30 * time.Second)
		c := totpCode(t, secret, e.Clock.Now())
		var flows [2]*mamoru.SignInResult
		for i := range flows {
			flows[i] = e.SignInAs(t, a.Email, pw, req)
		}
		var wg sync.WaitGroup
		won := make([]bool, 2)
		for i := range flows {
			wg.Go(func() {
				res, err := e.SignIn.SubmitCode(ctx, mamoru.CodeStep{FlowID: flows[i].FlowID, FlowSecret: flows[i].FlowSecret, Method: mamoru.MethodTOTP, Code: c}, req)
				won[i] = err == nil && res.Status == mamoru.SignedIn
			})
		}
		wg.Wait()
		if won[0] == won[1] {
			t.Fatalf("won: %v", won)
		}
	})

	t.Run("another client's flow", func(t *testing.T) {
		res := e.SignInAs(t, a.Email, pw, req)
		_, err := e.SignIn.SubmitCode(ctx, mamoru.CodeStep{FlowID: res.FlowID, FlowSecret: "not-the-secret", Method: mamoru.MethodTOTP, Code: "123456"}, req)
		wantCode(t, err, mamoru.EFlowExpired)
	})

	t.Run("expired flow", func(t *testing.T) {
		res := e.SignInAs(t, a.Email, pw, req)
		e.Clock.Advance(16 * time.Minute)
		_, err := e.SignIn.SubmitCode(ctx, mamoru.CodeStep{FlowID: res.FlowID, FlowSecret: res.FlowSecret, Method: mamoru.MethodTOTP, Code: totpCode(t, secret, e.Clock.Now())}, req)
		wantCode(t, err, mamoru.EFlowExpired)
	})

	t.Run("garbage", func(t *testing.T) {
		res := e.SignInAs(t, a.Email, pw, req)
		for _, c := range []string{"", "12345", "1234567", "abcdef", strings.Repeat("9", 10000), "１２３"} {
			_, err := e.SignIn.SubmitCode(ctx, mamoru.CodeStep{FlowID: res.FlowID, FlowSecret: res.FlowSecret, Method: mamoru.MethodTOTP, Code: c}, req)
			if code := mamoru.ErrorCode(err); code != mamoru.EInvalidCode && code != mamoru.EFlowExpired {
				t.Fatalf("%.20q: %v", c, err)
			}
		}
	})
}

func TestEmailCodeOfOneFlowDoesNotWorkOnAnother(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "flows@example.com", pw, mamoru.English)
	session(t, e, a, req)
	e.Clock.Advance(91 * 24 * time.Hour) // absent: challenged by email
	first := e.SignInAs(t, a.Email, pw, req)
	_, c1 := code(t, e, a.Email, "signin_code")
	// Expired codes: 10 minutes.
	e.Clock.Advance(11 * time.Minute)
	_, err := e.SignIn.SubmitCode(ctx, mamoru.CodeStep{FlowID: first.FlowID, FlowSecret: first.FlowSecret, Code: c1}, req)
	wantCode(t, err, mamoru.EInvalidCode)
	second := e.SignInAs(t, a.Email, pw, req)
	_, c2 := code(t, e, a.Email, "signin_code")
	_, err = e.SignIn.SubmitCode(ctx, mamoru.CodeStep{FlowID: first.FlowID, FlowSecret: first.FlowSecret, Code: c2}, req)
	if mamoru.ErrorCode(err) == "" {
		t.Fatal("the second flow's code signed the first in")
	}
	if done, err := e.SignIn.SubmitCode(ctx, mamoru.CodeStep{FlowID: second.FlowID, FlowSecret: second.FlowSecret, Code: c2}, req); err != nil || done.Status != mamoru.SignedIn {
		t.Fatalf("second flow: %+v %v", done, err)
	}
}

func TestResetDoesNotBypassTwoStep(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "reset2sv@example.com", pw, mamoru.English)
	s := session(t, e, a, req)
	enrollTOTP(t, e, s)
	if err := e.Accounts.ForgotPassword(ctx, a.Email, req); err != nil {
		t.Fatal(err)
	}
	_, c := code(t, e, a.Email, "password_reset")
	const newPW = "a-brand-new-password-77"
	if err := e.Accounts.ResetPassword(ctx, mamoru.ResetInput{Email: a.Email, Code: c, Password: newPW}, req); err != nil {
		t.Fatal(err)
	}
	res := e.SignInAs(t, a.Email, newPW, req)
	if res.Status != mamoru.ChallengeRequired || res.Session != nil || res.Methods[0] != mamoru.MethodTOTP {
		t.Fatalf("sign-in after a reset: %+v", res)
	}
}

// TestApprovalBecomesSecondStepWithMethods: where the risk engine would
// ask the owner's approval by mail, an account with 2-step methods proves
// the attempt with them instead (the mailbox is the weaker proof); an
// account without them waits for the approval.
func TestApprovalBecomesSecondStepWithMethods(t *testing.T) {
	cfg := risk.DefaultConfig()
	cfg.Overrides = map[string]risk.Decision{"new_device": risk.Approval, "no_history": risk.Approval}
	e := servicetest.NewWith(t, servicetest.Options{Risk: &cfg})
	plain := e.SignUp(t, "plain@example.com", pw, mamoru.English)
	if res := e.SignInAs(t, plain.Email, pw, servicetest.Stranger); res.Status != mamoru.ApprovalRequired {
		t.Fatalf("without methods: %+v", res)
	}
	a := e.SignUp(t, "strong@example.com", pw, mamoru.English)
	addCredential(t, e, a.ID, mamoru.CredentialTOTP)
	res := e.SignInAs(t, a.Email, pw, servicetest.Stranger)
	if res.Status != mamoru.ChallengeRequired || len(res.Methods) != 1 || res.Methods[0] != mamoru.MethodTOTP {
		t.Fatalf("with an app: %+v", res)
	}
	if m := mails(t, e, a.Email, "signin_approval"); len(m) != 0 {
		t.Fatalf("%d approval mails to an account with 2-step methods", len(m))
	}
}
