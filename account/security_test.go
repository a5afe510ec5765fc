package account_test

import (
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/internal/servicetest"
)

var (
	noLinkRe  = regexp.MustCompile(`/events/answer\?answer=no&token=([A-Za-z0-9_\-]+)`)
	yesLinkRe = regexp.MustCompile(`/events/answer\?answer=yes&token=([A-Za-z0-9_\-]+)`)
	revertRe  = regexp.MustCompile(`/email/revert\?token=([A-Za-z0-9_\-]+)`)
)

func match(t *testing.T, re *regexp.Regexp, m *mamoru.Message) string {
	t.Helper()
	s := re.FindStringSubmatch(m.Text)
	if s == nil {
		t.Fatalf("%s: no match for %s in %q", m.Template, re, m.Text)
	}
	return s[1]
}

// mails returns the messages of the template to the address, newest first.
func mails(t *testing.T, e *servicetest.Env, to, template string) []*mamoru.Message {
	t.Helper()
	var out []*mamoru.Message
	for _, m := range e.Mail(t, to) {
		if m.Template == template {
			out = append(out, m)
		}
	}
	return out
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if mamoru.ErrorCode(err) != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func TestNewSignInNotifiesOnlyForNewDeviceOrPlace(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "owner@example.com", pw, mamoru.Japanese)

	// The device and place of the sign-up: nothing new.
	if res := e.SignInAs(t, a.Email, pw, req); res.Status != mamoru.SignedIn {
		t.Fatalf("sign-in: %s", res.Status)
	}
	if n := len(mails(t, e, a.Email, "new_sign_in")); n != 0 {
		t.Fatalf("%d new-sign-in mails for the known device", n)
	}
	// Chrome on Windows in Moscow: new device and new place.
	e.Clock.Advance(time.Minute)
	if res := e.SignInAs(t, a.Email, pw, servicetest.Stranger); res.Status != mamoru.SignedIn {
		t.Fatalf("sign-in: %s", res.Status)
	}
	ms := mails(t, e, a.Email, "new_sign_in")
	if len(ms) != 1 {
		t.Fatalf("%d new-sign-in mails, want 1", len(ms))
	}
	m := ms[0]
	for _, want := range []string{"95.165.1.1", "Windows 10 の Chrome 131", "ロシア", "モスクワ", "付近（おおよその位置）", servicetest.BaseURL + "/events/answer?"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("new-sign-in mail lacks %q:\n%s", want, m.Text)
		}
	}
	if m.Language != mamoru.Japanese {
		t.Errorf("mail in %s, want the account's language", m.Language)
	}
	evs := e.EventsOf(t, a.ID, mamoru.EventSignInSucceeded)
	if len(evs) != 2 || evs[0].Details[mamoru.DetailNew] != "device,place" || evs[1].Details[mamoru.DetailNew] != "" {
		t.Fatalf("sign-in events: %+v / %+v", evs[0].Details, evs[1].Details)
	}
	if evs[0].Place.Country != "RU" || evs[0].Device.Browser != "Chrome" || evs[0].SessionID == "" {
		t.Fatalf("event place/device/session: %+v", evs[0])
	}
	// The same stranger again: known now.
	e.SignInAs(t, a.Email, pw, servicetest.Stranger)
	if n := len(mails(t, e, a.Email, "new_sign_in")); n != 1 {
		t.Fatalf("%d new-sign-in mails after a repeat, want still 1", n)
	}
}

func TestFailedSignInsAreRecorded(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "owner@example.com", pw, mamoru.English)
	if res := e.SignInAs(t, a.Email, "wrong-password-123", servicetest.Stranger); res.Status != mamoru.InvalidCredentials {
		t.Fatalf("status %s", res.Status)
	}
	if res := e.SignInAs(t, "nobody@example.com", "wrong-password-123", servicetest.Stranger); res.Status != mamoru.InvalidCredentials {
		t.Fatalf("status %s", res.Status)
	}
	hist, err := e.Accounts.LoginHistory(ctx, a.ID, mamoru.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].Type != mamoru.EventSignInFailed || hist[0].Outcome != "invalid_credentials" || hist[0].IP != "95.165.1.1" {
		t.Fatalf("history: %+v", hist)
	}
	var all []*mamoru.Event
	e.Store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		all, err = tx.ListEvents(ctx, mamoru.EventFilter{AllAccounts: true, Types: []mamoru.EventType{mamoru.EventSignInFailed}})
		return err
	})
	if len(all) != 2 || all[0].AccountID != "" {
		t.Fatalf("attempt on an unknown address not recorded on no account: %+v", all)
	}
	for k, v := range all[0].Details {
		if strings.Contains(v, "nobody") {
			t.Fatalf("the address tried was kept: %s=%s", k, v)
		}
	}
}

// strangerSignsIn signs the stranger in and returns the new-sign-in mail.
func strangerSignsIn(t *testing.T, e *servicetest.Env, a *mamoru.Account) *mamoru.Message {
	t.Helper()
	e.Clock.Advance(time.Minute)
	if res := e.SignInAs(t, a.Email, pw, servicetest.Stranger); res.Status != mamoru.SignedIn {
		t.Fatalf("stranger: %s", res.Status)
	}
	return mails(t, e, a.Email, "new_sign_in")[0]
}

func TestThisWasntMeSecuresTheAccount(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "owner@example.com", pw, mamoru.English)
	mine := e.SignInAs(t, a.Email, pw, req)
	m := strangerSignsIn(t, e, a)
	no := match(t, noLinkRe, m)

	ev, err := e.Accounts.CheckAnswerLink(ctx, no)
	if err != nil || ev.Type != mamoru.EventSignInSucceeded || ev.IP != "95.165.1.1" {
		t.Fatalf("CheckAnswerLink: %v %+v", err, ev)
	}
	start, err := e.Accounts.AnswerLink(ctx, no, false, req)
	if err != nil || start == nil {
		t.Fatalf("AnswerLink(no): %v %v", start, err)
	}
	// Every session ended, the stranger's and the owner's.
	if list, _ := e.Sessions.ListSessions(ctx, a.ID); len(list) != 0 {
		t.Fatalf("%d sessions left", len(list))
	}
	if _, _, err := e.Sessions.Authenticate(ctx, mine.SessionToken, req); err == nil {
		t.Fatal("the owner's old session still works")
	}
	// The link works once.
	if _, err := e.Accounts.AnswerLink(ctx, no, false, req); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
		t.Fatalf("second use: %v", err)
	}
	// The password the attacker knows no longer signs in.
	if res := e.SignInAs(t, a.Email, pw, servicetest.Stranger); res.Status != mamoru.PasswordResetRequired {
		t.Fatalf("old password after 'not me': %s", res.Status)
	}
	sec := e.Accounts.Secure()
	st, err := sec.State(ctx, start.FlowID, start.FlowSecret)
	if err != nil || st.Step != mamoru.SecureStepReset || st.MaskedEmail == a.Email {
		t.Fatalf("state: %+v %v", st, err)
	}
	if _, err := sec.State(ctx, start.FlowID, "wrong-secret"); mamoru.ErrorCode(err) != mamoru.EFlowExpired {
		t.Fatalf("state with a wrong secret: %v", err)
	}
	_, c := code(t, e, a.Email, "secure_account")
	_, err = sec.ResetPassword(ctx, start.FlowID, start.FlowSecret, wrongCode(c), "a-brand-new-passphrase", req)
	wantCode(t, err, mamoru.EInvalidCode)
	_, err = sec.ResetPassword(ctx, start.FlowID, start.FlowSecret, c, "password", req)
	wantCode(t, err, mamoru.EPasswordCommon)
	st, err = sec.ResetPassword(ctx, start.FlowID, start.FlowSecret, c, "a-brand-new-passphrase", req)
	if err != nil || st.Step != mamoru.SecureStepReview {
		t.Fatalf("reset: %+v %v", st, err)
	}
	if res := e.SignInAs(t, a.Email, "a-brand-new-passphrase", req); res.Status != mamoru.SignedIn {
		t.Fatalf("new password: %s", res.Status)
	}
	denied := e.EventsOf(t, a.ID, mamoru.EventSignInSucceeded)
	found := false
	for _, x := range denied {
		found = found || (x.ID == ev.ID && x.Feedback == mamoru.FeedbackDenied)
	}
	if !found {
		t.Fatal("the sign-in was not marked denied")
	}
	for _, typ := range []mamoru.EventType{mamoru.EventDenied, mamoru.EventSecureAccountStarted, mamoru.EventSecureAccountCompleted, mamoru.EventPasswordReset, mamoru.EventSessionEnded} {
		if len(e.EventsOf(t, a.ID, typ)) == 0 {
			t.Errorf("no %s event", typ)
		}
	}
}

func TestThisWasMeAndConcurrentAnswers(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "owner@example.com", pw, mamoru.English)
	m := strangerSignsIn(t, e, a)
	yes := match(t, yesLinkRe, m)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = e.Accounts.AnswerLink(ctx, yes, true, req) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch mamoru.ErrorCode(err) {
		case "":
			ok++
		case mamoru.EInvalidCode:
		default:
			t.Fatalf("unexpected %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent uses of one link succeeded, want 1", ok)
	}
	if n := len(e.EventsOf(t, a.ID, mamoru.EventConfirmed)); n != 1 {
		t.Fatalf("%d confirmations", n)
	}
	// Sessions untouched by a "yes".
	if list, _ := e.Sessions.ListSessions(ctx, a.ID); len(list) != 1 {
		t.Fatalf("%d sessions after yes", len(list))
	}
	// Expired links die.
	m2 := mails(t, e, a.Email, "new_sign_in")[0]
	e.Clock.Advance(8 * 24 * time.Hour)
	if _, err := e.Accounts.CheckAnswerLink(ctx, match(t, noLinkRe, m2)); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
		t.Fatalf("expired link: %v", err)
	}
	for _, bad := range []string{"", "x", strings.Repeat("a", 500)} {
		if _, err := e.Accounts.AnswerLink(ctx, bad, false, req); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
			t.Fatalf("bad link %q: %v", bad, err)
		}
	}
}

func TestAnswersOnThePage(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "owner@example.com", pw, mamoru.English)
	b := e.SignUp(t, "other@example.com", pw, mamoru.English)
	strangerSignsIn(t, e, a)
	res := e.SignInAs(t, a.Email, pw, req)
	evs, err := e.Accounts.LoginHistory(ctx, a.ID, mamoru.Page{})
	if err != nil || len(evs) < 2 {
		t.Fatalf("history: %v %d", err, len(evs))
	}
	strangers := evs[1]
	bres := e.SignInAs(t, b.Email, pw, req)
	wantCode(t, e.Accounts.ConfirmEvent(ctx, bres.Session, strangers.ID, req), mamoru.ENotFound)
	if err := e.Accounts.ConfirmEvent(ctx, res.Session, strangers.ID, req); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.Accounts.ConfirmEvent(ctx, res.Session, strangers.ID, req), mamoru.EConflict)
	// A later "no" still secures the account.
	start, err := e.Accounts.DenyEvent(ctx, res.Session, strangers.ID, req)
	if err != nil || start.FlowID == "" {
		t.Fatalf("deny: %v", err)
	}
	if _, _, err := e.Sessions.Authenticate(ctx, res.SessionToken, req); err == nil {
		t.Fatal("session survived 'not me'")
	}
	// Paging.
	page, err := e.Accounts.LoginHistory(ctx, a.ID, mamoru.Page{Limit: 1})
	if err != nil || len(page) != 1 {
		t.Fatalf("page: %v %d", err, len(page))
	}
	next, err := e.Accounts.LoginHistory(ctx, a.ID, mamoru.Page{Before: page[0].ID, Limit: 1})
	if err != nil || len(next) != 1 || next[0].ID == page[0].ID {
		t.Fatalf("next page: %v %+v", err, next)
	}
	_, err = e.Accounts.LoginHistory(ctx, b.ID, mamoru.Page{Before: page[0].ID})
	wantCode(t, err, mamoru.ENotFound)
}

func TestEmailChangeRevertAndUndo(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "owner@example.com", pw, mamoru.English)
	e.SignUp(t, "taken@example.com", pw, mamoru.English)
	res := e.SignInAs(t, a.Email, pw, req)
	s := res.Session

	wantCode(t, e.Accounts.StartEmailChange(ctx, s, "new@example.com", "wrong-password-1", req), mamoru.EPasswordIncorrect)
	wantCode(t, e.Accounts.StartEmailChange(ctx, s, "not an address", pw, req), mamoru.EInvalidEmail)
	// A taken address: same answer, nothing sent.
	if err := e.Accounts.StartEmailChange(ctx, s, "taken@example.com", pw, req); err != nil {
		t.Fatal(err)
	}
	if n := len(mails(t, e, "taken@example.com", "email_change_code")); n != 0 {
		t.Fatalf("code sent to a taken address")
	}
	if err := e.Accounts.StartEmailChange(ctx, s, "New@Example.com", pw, req); err != nil {
		t.Fatal(err)
	}
	_, c := code(t, e, "new@example.com", "email_change_code")
	_, err := e.Accounts.ConfirmEmailChange(ctx, s, wrongCode(c), req)
	wantCode(t, err, mamoru.EInvalidCode)
	got, err := e.Accounts.ConfirmEmailChange(ctx, s, c, req)
	if err != nil || got.Email != "new@example.com" {
		t.Fatalf("confirm: %v %+v", err, got)
	}
	if _, err := e.Accounts.ConfirmEmailChange(ctx, s, c, req); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
		t.Fatalf("code reused: %v", err)
	}
	// The old address is told, with a revert link valid 7 days.
	told := mails(t, e, "owner@example.com", "email_changed")
	if len(told) != 1 || !strings.Contains(told[0].Text, "n***@example.com") {
		t.Fatalf("old address not told: %d", len(told))
	}
	revert := match(t, revertRe, told[0])
	e.Clock.Advance(6 * 24 * time.Hour)
	start, err := e.Accounts.RevertEmail(ctx, revert, req)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := e.Accounts.Account(ctx, a.ID)
	if back.Email != "owner@example.com" || back.ResetRequiredAt.IsZero() {
		t.Fatalf("after revert: %+v", back)
	}
	if _, err := e.Accounts.RevertEmail(ctx, revert, req); mamoru.ErrorCode(err) != mamoru.EInvalidCode {
		t.Fatalf("revert link reused: %v", err)
	}
	// The secure flow's code goes to the restored address.
	_, c2 := code(t, e, "owner@example.com", "secure_account")
	st, err := e.Accounts.Secure().ResetPassword(ctx, start.FlowID, start.FlowSecret, c2, "a-brand-new-passphrase", req)
	if err != nil || st.Step != mamoru.SecureStepReview {
		t.Fatalf("secure reset: %v %+v", err, st)
	}
	if len(st.Changes) != 1 || st.Changes[0].Type != mamoru.EventEmailChanged {
		t.Fatalf("changes: %+v", st.Changes)
	}
}

func TestUndoPhoneChangeAfterNotMe(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "owner@example.com", pw, mamoru.Japanese)
	res := e.SignInAs(t, a.Email, pw, req)
	s := res.Session
	for _, bad := range []string{"", "abc", "+", "12", "+81 3-1234-5678x", strings.Repeat("9", 40)} {
		wantCode(t, e.Accounts.StartPhoneChange(ctx, s, bad, pw, req), mamoru.EInvalidPhone)
	}
	setPhone := func(number, e164 string) {
		t.Helper()
		if err := e.Accounts.StartPhoneChange(ctx, s, number, pw, req); err != nil {
			t.Fatal(err)
		}
		sms := e.Mail(t, e164)
		if len(sms) == 0 || sms[0].Channel != mamoru.ChannelSMS || sms[0].Template != "phone_code" {
			t.Fatalf("no SMS code to %s: %+v", e164, sms)
		}
		if _, err := e.Accounts.ConfirmPhoneChange(ctx, s, codeOf(t, sms[0]), req); err != nil {
			t.Fatal(err)
		}
	}
	setPhone("090-1234-5678", "+819012345678")
	e.Clock.Advance(time.Minute)
	setPhone("+44 7911 123456", "+447911123456")
	// The old number is told by SMS; the account by email.
	if sms := e.Mail(t, "+819012345678"); sms[0].Template != "phone_changed" || sms[0].Channel != mamoru.ChannelSMS {
		t.Fatalf("old number not told: %+v", sms[0])
	}
	if n := len(mails(t, e, a.Email, "phone_changed")); n != 2 {
		t.Fatalf("%d phone_changed mails", n)
	}
	evs := e.EventsOf(t, a.ID, mamoru.EventPhoneChanged)
	start, err := e.Accounts.DenyEvent(ctx, s, evs[0].ID, req)
	if err != nil {
		t.Fatal(err)
	}
	sec := e.Accounts.Secure()
	_, c := code(t, e, a.Email, "secure_account")
	st, err := sec.ResetPassword(ctx, start.FlowID, start.FlowSecret, c, "a-brand-new-passphrase", req)
	if err != nil || len(st.Changes) != 2 {
		t.Fatalf("reset: %v %+v", err, st)
	}
	_, err = sec.Undo(ctx, start.FlowID, start.FlowSecret, "no-such-event", req)
	wantCode(t, err, mamoru.ENotFound)
	st, err = sec.Undo(ctx, start.FlowID, start.FlowSecret, evs[0].ID, req)
	if err != nil || len(st.Undone) != 1 {
		t.Fatalf("undo: %v %+v", err, st)
	}
	_, err = sec.Undo(ctx, start.FlowID, start.FlowSecret, evs[0].ID, req)
	wantCode(t, err, mamoru.EConflict)
	back, _ := e.Accounts.Account(ctx, a.ID)
	if back.Phone != "+819012345678" {
		t.Fatalf("phone after undo: %q", back.Phone)
	}
	if n := len(e.EventsOf(t, a.ID, mamoru.EventChangeUndone)); n != 1 {
		t.Fatalf("%d undo events", n)
	}
}

func TestOperatorActionsAndRequiredReset(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "owner@example.com", pw, mamoru.Japanese)
	e.SignInAs(t, a.Email, pw, req)
	_, ended, err := e.Accounts.SetStatus(ctx, a.ID, mamoru.StatusLocked, "")
	if err != nil || ended != 1 {
		t.Fatalf("lock: %v, %d ended", err, ended)
	}
	if res := e.SignInAs(t, a.Email, pw, req); res.Status != mamoru.InvalidCredentials {
		t.Fatalf("locked sign-in: %s", res.Status)
	}
	if _, _, err := e.Accounts.SetStatus(ctx, a.ID, mamoru.StatusActive, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Accounts.SetStatus(ctx, a.ID, mamoru.StatusRestricted, "abuse"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Accounts.SetStatus(ctx, a.ID, mamoru.StatusActive, ""); err != nil {
		t.Fatal(err)
	}
	for _, tpl := range []string{"account_locked", "account_unlocked", "account_restricted"} {
		if len(mails(t, e, a.Email, tpl)) == 0 {
			t.Errorf("no %s mail", tpl)
		}
	}
	for _, typ := range []mamoru.EventType{mamoru.EventAccountLocked, mamoru.EventAccountRestricted, mamoru.EventAccountUnlocked} {
		if len(e.EventsOf(t, a.ID, typ)) == 0 {
			t.Errorf("no %s event", typ)
		}
	}

	if _, err := e.Accounts.RequireReset(ctx, a.ID, "breach"); err != nil {
		t.Fatal(err)
	}
	if res := e.SignInAs(t, a.Email, pw, req); res.Status != mamoru.PasswordResetRequired || res.Session != nil {
		t.Fatalf("sign-in with reset required: %+v", res)
	}
	if res := e.SignInAs(t, a.Email, "wrong-password-1", req); res.Status != mamoru.InvalidCredentials {
		t.Fatalf("wrong password with reset required: %s", res.Status)
	}
	m, c := code(t, e, a.Email, "password_reset_required")
	if !strings.Contains(m.Subject, "パスワードの再設定が必要です") {
		t.Errorf("subject %q", m.Subject)
	}
	if err := e.Accounts.ResetPassword(ctx, mamoru.ResetInput{Email: a.Email, Code: c, Password: "a-brand-new-passphrase"}, req); err != nil {
		t.Fatal(err)
	}
	if res := e.SignInAs(t, a.Email, "a-brand-new-passphrase", req); res.Status != mamoru.SignedIn {
		t.Fatalf("after the reset: %s", res.Status)
	}
}

func TestSettings(t *testing.T) {
	e := servicetest.New(t)
	a := e.SignUp(t, "owner@example.com", pw, mamoru.English)
	s := e.SignInAs(t, a.Email, pw, req).Session
	bad := mamoru.Language("fr")
	_, err := e.Accounts.UpdateSettings(ctx, s, mamoru.SettingsInput{Language: &bad}, req)
	wantCode(t, err, mamoru.EInvalidLanguage)
	badZone := "Mars/Olympus"
	_, err = e.Accounts.UpdateSettings(ctx, s, mamoru.SettingsInput{TimeZone: &badZone}, req)
	wantCode(t, err, mamoru.EInvalidTimeZone)
	ja, tokyo := mamoru.Japanese, "Asia/Tokyo"
	got, err := e.Accounts.UpdateSettings(ctx, s, mamoru.SettingsInput{Language: &ja, TimeZone: &tokyo}, req)
	if err != nil || got.Language != ja || got.TimeZone != tokyo {
		t.Fatalf("settings: %v %+v", err, got)
	}
	// Messages follow the account's zone, not the requester's.
	if err := e.Accounts.ForgotPassword(ctx, a.Email, mamoru.Request{Language: mamoru.English}); err != nil {
		t.Fatal(err)
	}
	e.SignInAs(t, a.Email, pw, servicetest.Stranger)
	m := mails(t, e, a.Email, "new_sign_in")[0]
	if m.Language != ja || !strings.Contains(m.Text, "2026年11月21日 19:00 (JST)") {
		t.Fatalf("new-sign-in mail not in the account's language and zone:\n%s", m.Text)
	}
}
