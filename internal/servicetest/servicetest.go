// Package servicetest wires the real services (account, sign-in, sessions,
// mailer) over a fresh SQLite database and a fake clock, for the tests of
// those packages. Only the argon2id cost is lowered, to keep tests fast.
package servicetest

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/account"
	"github.com/mamoru-id/mamoru/breach"
	"github.com/mamoru-id/mamoru/catalog"
	"github.com/mamoru-id/mamoru/emailaddr"
	"github.com/mamoru-id/mamoru/event"
	"github.com/mamoru-id/mamoru/geoip"
	"github.com/mamoru-id/mamoru/geoip/geoiptest"
	"github.com/mamoru-id/mamoru/guard"
	"github.com/mamoru-id/mamoru/inmem"
	"github.com/mamoru-id/mamoru/mfa"
	"github.com/mamoru-id/mamoru/notify"
	"github.com/mamoru-id/mamoru/password"
	"github.com/mamoru-id/mamoru/risk"
	"github.com/mamoru-id/mamoru/session"
	"github.com/mamoru-id/mamoru/signin"
	"github.com/mamoru-id/mamoru/sqlite"
	"github.com/mamoru-id/mamoru/useragent"
)

// Env is a wired set of services.
type Env struct {
	Store    mamoru.Store
	Clock    *mamoru.FakeClock
	Hasher   *password.Hasher
	Mailer   *notify.Mailer
	Sessions *session.Manager
	Accounts *account.Service
	SignIn   *signin.Service
	Outbox   notify.OutboxReader
	Events   *event.Recorder
	GeoIP    *geoip.DB    // over geoiptest.Fixture
	Guard    *guard.Guard // nil unless Options.Guard
}

// BaseURL is the base URL every link in test messages starts with.
const BaseURL = "https://id.example.test"

// Options change what New wires.
type Options struct {
	// Risk turns the risk engine on with this policy (off when nil: the
	// new-sign-in mails then follow the novelty rule).
	Risk *risk.Config
	// Guard turns attack protection on with this configuration, over
	// in-memory counters (off when nil: every attempt passes).
	Guard *guard.Config
	// Breached reports breached passwords (none when nil).
	Breached func(ctx context.Context, pw string) (bool, error)
}

// New returns an Env; everything is closed when the test ends.
func New(t testing.TB) *Env { return NewWith(t, Options{}) }

// NewWith returns an Env wired with opts.
func NewWith(t testing.TB, opts Options) *Env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mamoru.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clock := mamoru.NewFakeClock(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	hasher, err := password.NewHasher(password.Params{MemoryKiB: 64, Time: 1, Threads: 1}, 4)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(BaseURL)
	mailer, err := notify.NewMailer(catalog.MustNew(), base, clock)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	geo, err := geoip.Open(geoiptest.Fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	events := event.New(clock, geo.Lookup, useragent.Parse)
	sessions := session.NewManager(db, clock, session.DefaultConfig())
	sessions.SetEvents(events)
	var rk *account.Risk
	if opts.Risk != nil {
		engine, err := risk.New(*opts.Risk)
		if err != nil {
			t.Fatal(err)
		}
		rk = &account.Risk{Engine: engine, Window: risk.NewWindow(opts.Risk.FailureWindow), Limits: opts.Risk.Limits}
	}
	var g *guard.Guard
	var ag account.Guard
	var accounts *account.Service
	if opts.Guard != nil {
		g, err = guard.New(*opts.Guard, guard.Deps{Store: db, Counters: inmem.New(clock), Clock: clock, Logger: log,
			Lookup: geo.Lookup, IdentifierKey: make([]byte, 32),
			OnLock: func(ctx context.Context, tx mamoru.Tx, id string, l *mamoru.Lockout, r mamoru.Request) error {
				return accounts.NotifyLock(ctx, tx, id, l, r)
			}})
		if err != nil {
			t.Fatal(err)
		}
		ag = g
	}
	sealer, err := mfa.NewSealer(mamoru.RandomBytes(32))
	if err != nil {
		t.Fatal(err)
	}
	wa, err := mfa.NewWebAuthn(mfa.WebAuthnConfig{RPID: "localhost", RPDisplayName: "mamoru test",
		RPOrigins: []string{"http://localhost:8080"}, UserHandleKey: mamoru.RandomBytes(32), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	accounts = account.New(account.Deps{Store: db, Hasher: hasher, Sessions: sessions, Mailer: mailer,
		Common: breach.Common, Clock: clock, Logger: log, Events: events, Risk: rk, Guard: ag, Breached: opts.Breached,
		MFA: &account.MFA{Sealer: sealer, BackupKey: mamoru.RandomBytes(32), WebAuthn: wa}},
		account.Config{Policy: password.Policy{MinLength: 8, MaxLength: 128}, CodeKey: make([]byte, 32)})
	signins := signin.New(db, hasher, sessions, clock, log, signin.Config{})
	signins.SetObserver(accounts)
	signins.SetChallenger(accounts)
	if g != nil {
		signins.SetGuard(g)
	}
	signins.AddPostCheck(accounts.ResetRequiredCheck)
	signins.AddPostCheck(accounts.BreachCheck)
	signins.AddPostCheck(accounts.RiskCheck)
	signins.AddPostCheck(accounts.TwoStepCheck)
	e := &Env{
		Store: db, Clock: clock, Hasher: hasher, Mailer: mailer, Sessions: sessions, Accounts: accounts,
		SignIn: signins, Outbox: notify.OutboxReader{Store: db}, Events: events, GeoIP: geo, Guard: g,
	}
	t.Cleanup(func() {
		accounts.Close()
		db.Close()
		geo.Close()
	})
	return e
}

// Request is a typical client: Firefox on Linux in Shinjuku, Tokyo (in
// the GeoIP fixture).
var Request = mamoru.Request{IP: "106.128.1.1", UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", Language: mamoru.English}

// Stranger is another client: Chrome on Windows in Moscow.
var Stranger = mamoru.Request{IP: "95.165.1.1", UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Language: mamoru.English}

// SignInAs signs in with the password from r and returns the result.
func (e *Env) SignInAs(t testing.TB, email, pw string, r mamoru.Request) *mamoru.SignInResult {
	t.Helper()
	res, err := e.SignIn.SubmitPassword(context.Background(), mamoru.PasswordStep{Email: email, Password: pw}, r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// EventsOf returns the account's events, newest first.
func (e *Env) EventsOf(t testing.TB, accountID string, types ...mamoru.EventType) []*mamoru.Event {
	t.Helper()
	var out []*mamoru.Event
	err := e.Store.View(context.Background(), func(tx mamoru.Tx) error {
		var err error
		out, err = tx.ListEvents(context.Background(), mamoru.EventFilter{AccountID: accountID, Types: types})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Mail waits for background jobs and returns the messages to `to`, newest
// first.
func (e *Env) Mail(t testing.TB, to string) []*mamoru.Message {
	t.Helper()
	e.Accounts.Close() // wait for background jobs; the service stays usable
	ms, err := e.Outbox.ListMessages(context.Background(), mamoru.MessageFilter{To: to})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// SignUp creates a verified account and returns it.
func (e *Env) SignUp(t testing.TB, email, pw string, lang mamoru.Language) *mamoru.Account {
	t.Helper()
	ctx := context.Background()
	if err := e.Accounts.SignUp(ctx, mamoru.SignUpInput{Email: email, Password: pw, Language: lang}, Request); err != nil {
		t.Fatal(err)
	}
	addr, err := emailaddr.Normalize(email)
	if err != nil {
		t.Fatal(err)
	}
	var a *mamoru.Account
	err = e.Store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		a, err = tx.AccountByEmail(ctx, addr)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}
