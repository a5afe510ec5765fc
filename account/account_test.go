package account_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/internal/servicetest"
)

var (
	codeRe = regexp.MustCompile(`\b(\d{6})\b`)
	linkRe = regexp.MustCompile(`token=([A-Za-z0-9_\-]+)`)
	ctx    = context.Background()
	req    = servicetest.Request
)

const pw = "kamakura-daibutsu-1252"

func codeOf(t *testing.T, m *mamoru.Message) string {
	t.Helper()
	s := codeRe.FindStringSubmatch(m.Text)
	if s == nil {
		t.Fatalf("no code in %q", m.Text)
	}
	return s[1]
}

func linkOf(t *testing.T, m *mamoru.Message) string {
	t.Helper()
	s := linkRe.FindStringSubmatch(m.Text)
	if s == nil {
		t.Fatalf("no link in %q", m.Text)
	}
	return s[1]
}

func code(t *testing.T, e *servicetest.Env, to, template string) (*mamoru.Message, string) {
	t.Helper()
	for _, m := range e.Mail(t, to) {
		if m.Template == template {
			return m, codeOf(t, m)
		}
	}
	t.Fatalf("no %s mail to %s", template, to)
	return nil, ""
}

func wrongCode(c string) string {
	if c == "000000" {
		return "111111"
	}
	return "000000"
}

func TestSignUpAndVerifyWithCode(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "Ｔａｒｏ@Example.COM", pw, mamoru.Japanese)
	if a.Email != "taro@example.com" || a.Language != mamoru.Japanese || a.EmailVerified() {
		t.Fatalf("account %+v", a)
	}
	if !strings.HasPrefix(a.PasswordHash, "$argon2id$") || strings.Contains(a.PasswordHash, pw) {
		t.Fatalf("password stored as %q", a.PasswordHash)
	}
	m, c := code(t, e, a.Email, "verify_email")
	if m.Language != mamoru.Japanese || !strings.Contains(m.Text, servicetest.BaseURL+"/verify/link?token=") {
		t.Errorf("mail %s: %s", m.Language, m.Text)
	}
	if err := e.Accounts.VerifyEmail(ctx, "TARO@example.com", wrongCode(c)); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
		t.Fatalf("wrong code: %v", err)
	}
	if err := e.Accounts.VerifyEmail(ctx, "taro@example.com", c); err != nil {
		t.Fatal(err)
	}
	if err := e.Accounts.VerifyEmail(ctx, "taro@example.com", c); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
		t.Fatalf("replayed code: %v", err)
	}
	a, _ = e.Accounts.Account(ctx, a.ID)
	if !a.EmailVerified() {
		t.Fatal("not verified")
	}
}

func TestVerifyCodeDiesAfterTooManyTries(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "hiro@example.com", pw, mamoru.English)
	_, c := code(t, e, a.Email, "verify_email")
	for i := 0; i < 5; i++ {
		if err := e.Accounts.VerifyEmail(ctx, a.Email, wrongCode(c)); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	if err := e.Accounts.VerifyEmail(ctx, a.Email, c); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
		t.Fatalf("the right code after 5 wrong ones must fail: %v", err)
	}
}

func TestExpiredCodeAndLink(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "aki@example.com", pw, mamoru.English)
	m, c := code(t, e, a.Email, "verify_email")
	e.Clock.Advance(time.Hour + time.Second)
	if err := e.Accounts.VerifyEmail(ctx, a.Email, c); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
		t.Fatalf("expired code: %v", err)
	}
	if err := e.Accounts.VerifyEmailLink(ctx, linkOf(t, m)); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
		t.Fatalf("expired link: %v", err)
	}
}

func TestVerifyLinkSingleUseUnderConcurrency(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "mei@example.com", pw, mamoru.English)
	m, _ := code(t, e, a.Email, "verify_email")
	link := linkOf(t, m)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 10; i++ {
		wg.Go(func() {
			err := e.Accounts.VerifyEmailLink(ctx, link)
			mu.Lock()
			defer mu.Unlock()
			switch mamoru.ErrorCode(err) {
			case "":
				wins++
			case mamoru.EInvalidCode:
			default:
				t.Errorf("unexpected %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent uses won, want exactly 1", wins)
	}
}

func TestResendReplacesCode(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "ken@example.com", pw, mamoru.English)
	_, first := code(t, e, a.Email, "verify_email")
	if err := e.Accounts.ResendVerification(ctx, a.Email, req); err != nil {
		t.Fatal(err)
	}
	ms := e.Mail(t, a.Email)
	if len(ms) != 2 {
		t.Fatalf("want 2 mails, got %d", len(ms))
	}
	second := codeOf(t, ms[0])
	if first != second {
		if err := e.Accounts.VerifyEmail(ctx, a.Email, first); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
			t.Fatalf("replaced code still works: %v", err)
		}
	}
	if err := e.Accounts.VerifyEmail(ctx, a.Email, second); err != nil {
		t.Fatal(err)
	}
}

func TestSignUpExistingAddressTellsOwner(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "yui@example.com", pw, mamoru.Japanese)
	// Someone else, with an English browser, signs up with a variant of the address.
	err := e.Accounts.SignUp(ctx, mamoru.SignUpInput{Email: " YUI@EXAMPLE.COM ", Password: "another-password-77", Language: mamoru.English}, req)
	if err != nil {
		t.Fatalf("must answer as for a new address: %v", err)
	}
	ms := e.Mail(t, a.Email)
	if ms[0].Template != "account_exists" || ms[0].Language != mamoru.Japanese {
		t.Fatalf("owner mail: %s in %s", ms[0].Template, ms[0].Language)
	}
	b, _ := e.Accounts.Account(ctx, a.ID)
	if b.PasswordHash != a.PasswordHash {
		t.Fatal("the password of the existing account changed")
	}
}

func TestSignUpValidation(t *testing.T) {
	e := servicetest.New(t)
	for _, tc := range []struct {
		in   mamoru.SignUpInput
		code string
	}{
		{mamoru.SignUpInput{Email: "bad", Password: pw}, mamoru.EInvalidEmail},
		{mamoru.SignUpInput{Email: "a@example.com", Password: "short"}, mamoru.EPasswordTooShort},
		{mamoru.SignUpInput{Email: "a@example.com", Password: strings.Repeat("x", 129)}, mamoru.EPasswordTooLong},
		{mamoru.SignUpInput{Email: "a@example.com", Password: "iloveyou"}, mamoru.EPasswordCommon},
		{mamoru.SignUpInput{Email: "a@example.com", Password: pw, Language: "fr"}, mamoru.EInvalidLanguage},
	} {
		if err := e.Accounts.SignUp(ctx, tc.in, req); mamoru.ErrorCode(err) != tc.code {
			t.Errorf("%+v: got %v, want %s", tc.in, err, tc.code)
		}
	}
	if ms := e.Mail(t, "a@example.com"); len(ms) != 0 {
		t.Fatalf("refused sign-ups sent %d mails", len(ms))
	}
	// 64 characters of any kind, spaces and emoji included, are fine.
	long := strings.Repeat("と ", 31) + "😀!"
	if err := e.Accounts.SignUp(ctx, mamoru.SignUpInput{Email: "long@example.com", Password: long}, req); err != nil {
		t.Fatalf("64-character password refused: %v", err)
	}
}

func TestForgotAndResetWithCode(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "sora@example.com", pw, mamoru.English)
	// Two sessions that the reset must end.
	for i := 0; i < 2; i++ {
		if r, err := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: a.Email, Password: pw}, req); err != nil || r.Status != mamoru.SignedIn {
			t.Fatalf("signin: %v %v", r, err)
		}
	}
	if err := e.Accounts.ForgotPassword(ctx, "SORA@example.com", req); err != nil {
		t.Fatal(err)
	}
	m, c := code(t, e, a.Email, "password_reset")
	if !strings.Contains(m.Text, "15") {
		t.Errorf("reset mail should say 15 minutes: %s", m.Text)
	}
	// A refused new password uses up nothing.
	if err := e.Accounts.ResetPassword(ctx, mamoru.ResetInput{Email: a.Email, Code: c, Password: "123456789"}, req); mamoru.ErrorCode(err) != mamoru.EPasswordCommon {
		t.Fatalf("common password: %v", err)
	}
	const newPW = "enoshima-island-sunset"
	if err := e.Accounts.ResetPassword(ctx, mamoru.ResetInput{Email: a.Email, Code: c, Password: newPW}, req); err != nil {
		t.Fatal(err)
	}
	if err := e.Accounts.ResetPassword(ctx, mamoru.ResetInput{Email: a.Email, Code: c, Password: newPW + "2"}, req); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
		t.Fatalf("replayed reset code: %v", err)
	}
	if err := e.Accounts.ResetPassword(ctx, mamoru.ResetInput{Token: linkOf(t, m), Password: newPW + "3"}, req); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
		t.Fatalf("link of a used reset: %v", err)
	}
	if list, _ := e.Sessions.ListSessions(ctx, a.ID); len(list) != 0 {
		t.Fatalf("%d sessions survived the reset", len(list))
	}
	if e.Mail(t, a.Email)[0].Template != "password_reset_done" {
		t.Fatal("no reset notification")
	}
	if r, _ := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: a.Email, Password: pw}, req); r.Status != mamoru.InvalidCredentials {
		t.Fatal("old password still works")
	}
	if r, _ := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: a.Email, Password: newPW}, req); r.Status != mamoru.SignedIn {
		t.Fatal("new password does not work")
	}
}

func TestResetLinkExpiresIn15Minutes(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "rin@example.com", pw, mamoru.English)
	e.Accounts.ForgotPassword(ctx, a.Email, req)
	m, _ := code(t, e, a.Email, "password_reset")
	link := linkOf(t, m)
	if err := e.Accounts.CheckResetLink(ctx, link); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(15*time.Minute + time.Second)
	if err := e.Accounts.CheckResetLink(ctx, link); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
		t.Fatalf("link after 15 minutes: %v", err)
	}
	if err := e.Accounts.ResetPassword(ctx, mamoru.ResetInput{Token: link, Password: "new-password-long"}, req); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
		t.Fatalf("reset after 15 minutes: %v", err)
	}
}

func TestForgotUnknownAddressSendsNothing(t *testing.T) {
	e := servicetest.New(t)
	if err := e.Accounts.ForgotPassword(ctx, "ghost@example.com", req); err != nil {
		t.Fatal(err)
	}
	if ms := e.Mail(t, "ghost@example.com"); len(ms) != 0 {
		t.Fatalf("%d mails to an unknown address", len(ms))
	}
}

func TestChangePassword(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "nao@example.com", pw, mamoru.English)
	r1, _ := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: a.Email, Password: pw}, req)
	r2, _ := e.SignIn.SubmitPassword(ctx, mamoru.PasswordStep{Email: a.Email, Password: pw}, req)
	_, _, err := e.Accounts.ChangePassword(ctx, r1.Session, mamoru.ChangePasswordInput{Current: "wrong-password-1", New: "shinkansen-nozomi-700"}, req)
	if mamoru.ErrorCode(err) != mamoru.EPasswordIncorrect {
		t.Fatalf("wrong current: %v", err)
	}
	fresh, token, err := e.Accounts.ChangePassword(ctx, r1.Session, mamoru.ChangePasswordInput{Current: pw, New: "shinkansen-nozomi-700", SignOutOthers: true}, req)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.ID == r1.Session.ID || token == r1.SessionToken {
		t.Fatal("session not rotated")
	}
	for _, old := range []string{r1.SessionToken, r2.SessionToken} {
		if _, _, err := e.Sessions.Authenticate(ctx, old, req); mamoru.ErrorCode(err) != mamoru.EUnauthorized {
			t.Fatalf("old session still valid: %v", err)
		}
	}
	if _, _, err := e.Sessions.Authenticate(ctx, token, req); err != nil {
		t.Fatalf("fresh session: %v", err)
	}
	if e.Mail(t, a.Email)[0].Template != "password_changed" {
		t.Fatal("no change notification")
	}
}
