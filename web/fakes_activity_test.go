package web

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/mamoru-id/mamoru"
)

// Fakes of the activity, secure-account and profile services: they record
// what they were asked and answer canned data. The real services are
// tested in package account.

const (
	goodAnswerToken = "answer-link-token-secret"
	goodRevertToken = "revert-link-token-secret"
	secureFlowID    = "sflow1"
	secureSecret    = "secure-flow-secret"
)

// secureCookieValue is the cookie of the fake secure-account flow.
func secureCookieValue() string { return secureFlowID + "." + secureSecret }

// testEvents are the fake account's events, newest first.
func testEvents() []*mamoru.Event {
	tokyo := mamoru.Place{Country: "JP", Region: "Tokyo", RegionJA: "東京都", City: "Shinjuku", CityJA: "新宿区", ASN: 2516, Org: "KDDI Corporation"}
	chrome := mamoru.Device{Browser: "Chrome", BrowserVersion: "131", OS: "Windows", OSVersion: "10", Type: "desktop"}
	return []*mamoru.Event{
		{ID: "ev-email", AccountID: "acct-1", Type: mamoru.EventEmailChanged, Time: testNow.Add(-10 * time.Minute), IP: "198.51.100.7",
			Place: tokyo, Device: chrome, Details: map[string]string{mamoru.DetailOldEmail: "alice@example.com", mamoru.DetailNewEmail: "bob@example.net"}},
		{ID: "ev-phone", AccountID: "acct-1", Type: mamoru.EventPhoneChanged, Time: testNow.Add(-20 * time.Minute), IP: "198.51.100.7",
			Place: tokyo, Device: chrome, Details: map[string]string{mamoru.DetailOldPhone: "+819012345678", mamoru.DetailNewPhone: "+447700900123"}},
		{ID: "ev-pw", AccountID: "acct-1", Type: mamoru.EventPasswordChanged, Time: testNow.Add(-30 * time.Minute), IP: "192.0.2.1",
			Feedback: mamoru.FeedbackConfirmed, FeedbackAt: testNow.Add(-25 * time.Minute)},
		{ID: "ev-ended", AccountID: "acct-1", Type: mamoru.EventSessionEnded, Time: testNow.Add(-40 * time.Minute), IP: "192.0.2.1",
			Details: map[string]string{mamoru.DetailReason: mamoru.RevokeSignOutAll}},
		{ID: "ev-locked", AccountID: "acct-1", Type: mamoru.EventAccountLocked, Time: testNow.Add(-50 * time.Minute),
			Details: map[string]string{mamoru.DetailActor: "operator", mamoru.DetailReason: "investigation"}},
	}
}

// testLogins are the fake account's sign-in attempts, newest first.
func testLogins() []*mamoru.Event {
	return []*mamoru.Event{
		{ID: "ev-in-1", AccountID: "acct-1", Type: mamoru.EventSignInSucceeded, Time: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC),
			IP: "203.0.113.5", Outcome: mamoru.OutcomeSuccess,
			Place:  mamoru.Place{Country: "JP", Region: "Kyoto", RegionJA: "京都府", City: "Kyoto", CityJA: "京都市", ASN: 4713, Org: "NTT"},
			Device: mamoru.Device{Browser: "Safari", BrowserVersion: "17", OS: "iOS", OSVersion: "17", Type: "mobile"}},
		{ID: "ev-in-2", AccountID: "acct-1", Type: mamoru.EventSignInFailed, Time: time.Date(2025, 2, 28, 23, 0, 0, 0, time.UTC),
			IP: "198.51.100.99", Outcome: string(mamoru.InvalidCredentials), Place: mamoru.Place{Country: "RU"}},
		{ID: "ev-in-3", AccountID: "acct-1", Type: mamoru.EventSignInSucceeded, Time: time.Date(2025, 2, 27, 8, 0, 0, 0, time.UTC),
			IP: "192.0.2.1", Outcome: mamoru.OutcomeSuccess, Feedback: mamoru.FeedbackDenied, FeedbackAt: time.Date(2025, 2, 27, 9, 0, 0, 0, time.UTC)},
	}
}

// fakeActivity answers from events and logins.
type fakeActivity struct {
	calls
	mu        sync.Mutex
	events    []*mamoru.Event
	logins    []*mamoru.Event
	errs      map[string]error // by method name
	lastPage  mamoru.Page
	lastID    string
	lastToken string
	lastYes   bool
}

func newFakeActivity() *fakeActivity {
	return &fakeActivity{events: testEvents(), logins: testLogins(), errs: map[string]error{}}
}

func (f *fakeActivity) run(name string) error {
	f.add(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.errs[name]
}

// page applies p to a newest-first list.
func page(list []*mamoru.Event, p mamoru.Page) []*mamoru.Event {
	if p.Before != "" {
		i := slices.IndexFunc(list, func(e *mamoru.Event) bool { return e.ID == p.Before })
		if i < 0 {
			return nil
		}
		list = list[i+1:]
	}
	if p.Limit > 0 && len(list) > p.Limit {
		list = list[:p.Limit]
	}
	return list
}

func (f *fakeActivity) LoginHistory(ctx context.Context, accountID string, p mamoru.Page) ([]*mamoru.Event, error) {
	f.lastPage = p
	if err := f.run("LoginHistory"); err != nil {
		return nil, err
	}
	return page(f.logins, p), nil
}

func (f *fakeActivity) Events(ctx context.Context, accountID string, p mamoru.Page) ([]*mamoru.Event, error) {
	f.lastPage = p
	if err := f.run("Events"); err != nil {
		return nil, err
	}
	return page(f.events, p), nil
}

func (f *fakeActivity) ConfirmEvent(ctx context.Context, s *mamoru.Session, eventID string, r mamoru.Request) error {
	f.lastID = eventID
	return f.run("ConfirmEvent:" + eventID)
}

func (f *fakeActivity) DenyEvent(ctx context.Context, s *mamoru.Session, eventID string, r mamoru.Request) (*mamoru.SecureAccountStart, error) {
	f.lastID = eventID
	if err := f.run("DenyEvent:" + eventID); err != nil {
		return nil, err
	}
	return &mamoru.SecureAccountStart{FlowID: secureFlowID, FlowSecret: secureSecret}, nil
}

func (f *fakeActivity) CheckAnswerLink(ctx context.Context, token string) (*mamoru.Event, error) {
	f.lastToken = token
	if err := f.run("CheckAnswerLink"); err != nil {
		return nil, err
	}
	if token != goodAnswerToken {
		return nil, mamoru.Errorf(mamoru.EInvalidCode, "bad link")
	}
	return testLogins()[0], nil
}

func (f *fakeActivity) AnswerLink(ctx context.Context, token string, yes bool, r mamoru.Request) (*mamoru.SecureAccountStart, error) {
	f.lastToken, f.lastYes = token, yes
	if err := f.run("AnswerLink"); err != nil {
		return nil, err
	}
	if token != goodAnswerToken {
		return nil, mamoru.Errorf(mamoru.EInvalidCode, "bad link")
	}
	if yes {
		return nil, nil
	}
	return &mamoru.SecureAccountStart{FlowID: secureFlowID, FlowSecret: secureSecret}, nil
}

func (f *fakeActivity) RevertEmail(ctx context.Context, token string, r mamoru.Request) (*mamoru.SecureAccountStart, error) {
	f.lastToken = token
	if err := f.run("RevertEmail"); err != nil {
		return nil, err
	}
	if token != goodRevertToken {
		return nil, mamoru.Errorf(mamoru.EInvalidCode, "bad link")
	}
	return &mamoru.SecureAccountStart{FlowID: secureFlowID, FlowSecret: secureSecret}, nil
}

// fakeSecure is one secure-account flow, secureFlowID with secureSecret.
type fakeSecure struct {
	calls
	mu       sync.Mutex
	step     string
	undone   []string
	errs     map[string]error
	lastCode string
	lastPW   string
	lastUndo string
}

func newFakeSecure() *fakeSecure {
	return &fakeSecure{step: mamoru.SecureStepReset, errs: map[string]error{}}
}

func (f *fakeSecure) check(name, flowID, secret string) error {
	f.add(name)
	if flowID != secureFlowID || secret != secureSecret {
		return mamoru.Errorf(mamoru.EFlowExpired, "no such flow")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.errs[name]
}

func (f *fakeSecure) state() *mamoru.SecureAccountState {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := &mamoru.SecureAccountState{Step: f.step, MaskedEmail: "u***@example.com", Undone: slices.Clone(f.undone)}
	if f.step == mamoru.SecureStepReview {
		st.Changes = testEvents()[:2]
	}
	return st
}

func (f *fakeSecure) State(ctx context.Context, flowID, secret string) (*mamoru.SecureAccountState, error) {
	if err := f.check("State", flowID, secret); err != nil {
		return nil, err
	}
	return f.state(), nil
}

func (f *fakeSecure) ResendCode(ctx context.Context, flowID, secret string, r mamoru.Request) error {
	return f.check("ResendCode", flowID, secret)
}

func (f *fakeSecure) ResetPassword(ctx context.Context, flowID, secret, code, password string, r mamoru.Request) (*mamoru.SecureAccountState, error) {
	f.lastCode, f.lastPW = code, password
	if err := f.check("ResetPassword", flowID, secret); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.step = mamoru.SecureStepReview
	f.mu.Unlock()
	return f.state(), nil
}

func (f *fakeSecure) Undo(ctx context.Context, flowID, secret, eventID string, r mamoru.Request) (*mamoru.SecureAccountState, error) {
	f.lastUndo = eventID
	if err := f.check("Undo", flowID, secret); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.undone = append(f.undone, eventID)
	f.mu.Unlock()
	return f.state(), nil
}

// fakeProfile changes the fake sessions' account.
type fakeProfile struct {
	calls
	sessions     *fakeSessions
	err          error
	lastSettings mamoru.SettingsInput
	lastEmail    string
	lastPhone    string
	lastPassword string
	lastCode     string
}

func (f *fakeProfile) account(s *mamoru.Session) *mamoru.Account {
	f.sessions.mu.Lock()
	defer f.sessions.mu.Unlock()
	return f.sessions.accounts[s.AccountID]
}

func (f *fakeProfile) UpdateSettings(ctx context.Context, s *mamoru.Session, in mamoru.SettingsInput, r mamoru.Request) (*mamoru.Account, error) {
	f.add("UpdateSettings")
	f.lastSettings = in
	if f.err != nil {
		return nil, f.err
	}
	a := *f.account(s)
	if in.Language != nil {
		a.Language = *in.Language
	}
	if in.TimeZone != nil {
		a.TimeZone = *in.TimeZone
	}
	return &a, nil
}

func (f *fakeProfile) StartEmailChange(ctx context.Context, s *mamoru.Session, newEmail, password string, r mamoru.Request) error {
	f.add("StartEmailChange")
	f.lastEmail, f.lastPassword = newEmail, password
	return f.err
}

func (f *fakeProfile) ConfirmEmailChange(ctx context.Context, s *mamoru.Session, code string, r mamoru.Request) (*mamoru.Account, error) {
	f.add("ConfirmEmailChange")
	f.lastCode = code
	if f.err != nil {
		return nil, f.err
	}
	a := *f.account(s)
	a.Email = "new@example.net"
	return &a, nil
}

func (f *fakeProfile) StartPhoneChange(ctx context.Context, s *mamoru.Session, phone, password string, r mamoru.Request) error {
	f.add("StartPhoneChange")
	f.lastPhone, f.lastPassword = phone, password
	return f.err
}

func (f *fakeProfile) ConfirmPhoneChange(ctx context.Context, s *mamoru.Session, code string, r mamoru.Request) (*mamoru.Account, error) {
	f.add("ConfirmPhoneChange")
	f.lastCode = code
	if f.err != nil {
		return nil, f.err
	}
	a := *f.account(s)
	a.Phone = "+819012345678"
	return &a, nil
}

func (f *fakeProfile) RemovePhone(ctx context.Context, s *mamoru.Session, password string, r mamoru.Request) (*mamoru.Account, error) {
	f.add("RemovePhone")
	f.lastPassword = password
	if f.err != nil {
		return nil, f.err
	}
	a := *f.account(s)
	a.Phone = ""
	return &a, nil
}
