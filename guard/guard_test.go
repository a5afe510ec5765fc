package guard_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/captcha"
	"github.com/mamoru-id/mamoru/guard"
	"github.com/mamoru-id/mamoru/inmem"
	"github.com/mamoru-id/mamoru/sqlite"
)

type env struct {
	g       *guard.Guard
	clock   *mamoru.FakeClock
	store   mamoru.Store
	pow     *captcha.PoW
	locks   atomic.Int32
	lockIDs sync.Map
}

func newEnv(t testing.TB, cfg guard.Config) *env {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "g.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{clock: mamoru.NewFakeClock(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)), store: db}
	counters := inmem.New(e.clock)
	e.pow, err = captcha.NewPoW(make([]byte, 32), e.clock, counters, captcha.PoWConfig{MaxNumberLow: 50, MaxNumberMedium: 100, MaxNumberHigh: 200})
	if err != nil {
		t.Fatal(err)
	}
	e.g, err = guard.New(cfg, guard.Deps{
		Store: db, Counters: counters, Clock: e.clock, Captcha: e.pow,
		IdentifierKey: []byte("0123456789abcdef"),
		Lookup: func(ip netip.Addr) mamoru.Place {
			if ip.Is4() && ip.As4()[0] == 100 {
				return mamoru.Place{ASN: 64500}
			}
			return mamoru.Place{}
		},
		OnLock: func(ctx context.Context, tx mamoru.Tx, id string, l *mamoru.Lockout, r mamoru.Request) error {
			e.locks.Add(1)
			e.lockIDs.Store(id, l.LockedUntil)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func attempt(ip, id string) *mamoru.GuardAttempt {
	return &mamoru.GuardAttempt{Action: mamoru.GuardSignIn, Request: mamoru.Request{IP: ip}, Identifier: id}
}

// fail runs one failed attempt; it returns Enter's error.
func (e *env) fail(t testing.TB, a *mamoru.GuardAttempt, pw string) error {
	t.Helper()
	p, err := e.g.Enter(context.Background(), a)
	if err != nil {
		return err
	}
	p.Done(context.Background(), mamoru.GuardOutcome{Result: mamoru.GuardFailure, Password: pw})
	return nil
}

// solve returns an answer to a challenge of at least level.
func (e *env) solve(t testing.TB, level captcha.Level) string {
	t.Helper()
	ch, err := e.pow.Challenge(level)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n <= ch.MaxNumber; n++ {
		sum := sha256.Sum256([]byte(ch.Salt + strconv.Itoa(n)))
		if hex.EncodeToString(sum[:]) == ch.Challenge {
			b, _ := json.Marshal(map[string]any{"algorithm": ch.Algorithm, "challenge": ch.Challenge, "number": n,
				"salt": ch.Salt, "signature": ch.Signature})
			return base64.StdEncoding.EncodeToString(b)
		}
	}
	t.Fatal("unsolvable challenge")
	return ""
}

func code(err error) string { return mamoru.ErrorCode(err) }

func TestLockAfterThresholdAndYahooExtension(t *testing.T) {
	cfg := guard.DefaultConfig()
	cfg.Lockout.Threshold = 5
	cfg.Captcha.AfterIPFailures = 1000
	cfg.Captcha.AfterIdentifierFailures = 1000
	e := newEnv(t, cfg)
	// Failures from distinct IPs so that no network throttle interferes.
	for i := range 5 {
		if err := e.fail(t, attempt(fmt.Sprintf("203.0.113.%d", i+1), "victim@example.com"), "guess"); err != nil {
			t.Fatalf("attempt %d refused: %v", i+1, err)
		}
	}
	if e.locks.Load() != 1 {
		t.Fatalf("OnLock ran %d times, want 1", e.locks.Load())
	}
	until, _ := e.lockIDs.Load("victim@example.com")
	if want := e.clock.Now().Add(10 * time.Minute); !until.(time.Time).Equal(want) {
		t.Fatalf("locked until %v, want %v", until, want)
	}
	// During the lock even the right password is refused the same way.
	_, err := e.g.Enter(context.Background(), attempt("198.51.100.1", "victim@example.com"))
	if code(err) != mamoru.ELocked {
		t.Fatalf("attempt during the lock: %v, want locked", err)
	}
	// Yahoo! JAPAN's rule: a retry 6 minutes into a 10-minute lock moves
	// its end to 10 minutes after the retry (16 in all).
	start := e.clock.Now()
	e.clock.Advance(6 * time.Minute)
	if _, err := e.g.Enter(context.Background(), attempt("198.51.100.1", "victim@example.com")); code(err) != mamoru.ELocked {
		t.Fatalf("retry at 6 min: %v", err)
	}
	e.clock.Advance(9 * time.Minute) // 15 min: still locked (it would have ended at 10)
	if _, err := e.g.Enter(context.Background(), attempt("198.51.100.1", "victim@example.com")); code(err) != mamoru.ELocked {
		t.Fatalf("at 15 min: %v, want still locked", err)
	}
	// That retry extended it again, to 25 min. Wait it out.
	e.clock.Advance(10*time.Minute + time.Second)
	p, err := e.g.Enter(context.Background(), attempt("198.51.100.1", "victim@example.com"))
	if err != nil {
		t.Fatalf("after the lock (%v since it began): %v", e.clock.Now().Sub(start), err)
	}
	p.Done(context.Background(), mamoru.GuardOutcome{Result: mamoru.GuardSuccess})
	if e.locks.Load() != 1 {
		t.Errorf("the owner was told %d times, want once", e.locks.Load())
	}
	// A success cleared the count: four failures don't lock again.
	for i := range 4 {
		if err := e.fail(t, attempt("198.51.100.2", "victim@example.com"), "guess"); err != nil {
			t.Fatalf("failure %d after success: %v", i, err)
		}
	}
}

func TestLockWithoutExtension(t *testing.T) {
	cfg := guard.DefaultConfig()
	cfg.Lockout.Threshold, cfg.Lockout.Extend = 2, false
	cfg.Captcha.AfterIPFailures, cfg.Captcha.AfterIdentifierFailures = 1000, 1000
	e := newEnv(t, cfg)
	for range 2 {
		e.fail(t, attempt("203.0.113.1", "a@example.com"), "x")
	}
	e.clock.Advance(6 * time.Minute)
	if _, err := e.g.Enter(context.Background(), attempt("203.0.113.1", "a@example.com")); code(err) != mamoru.ELocked {
		t.Fatal(err)
	}
	e.clock.Advance(4*time.Minute + time.Second)
	if _, err := e.g.Enter(context.Background(), attempt("203.0.113.1", "a@example.com")); err != nil {
		t.Fatalf("the lock did not end at 10 minutes: %v", err)
	}
}

// TestParallelGuessing: many concurrent guesses on one identifier never
// get more attempts through than the threshold, and another account's
// sign-ins are not affected. Run it with -race.
func TestParallelGuessing(t *testing.T) {
	cfg := guard.DefaultConfig()
	cfg.Lockout.Threshold = 5
	cfg.Captcha.AfterIPFailures, cfg.Captcha.AfterIdentifierFailures = 100000, 100000
	cfg.Throttle.IPFailures, cfg.Throttle.PrefixFailures = 100000, 100000
	e := newEnv(t, cfg)
	var passed, lockedN, other atomic.Int32
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			p, err := e.g.Enter(context.Background(), attempt(fmt.Sprintf("203.0.113.%d", i%250+1), "target@example.com"))
			if err != nil {
				if code(err) == mamoru.ELocked {
					lockedN.Add(1)
				} else {
					t.Errorf("unexpected refusal: %v", err)
				}
				return
			}
			passed.Add(1)
			time.Sleep(time.Millisecond) // the hash
			p.Done(context.Background(), mamoru.GuardOutcome{Result: mamoru.GuardFailure, Password: "x"})
		}()
		go func() {
			defer wg.Done()
			p, err := e.g.Enter(context.Background(), attempt("192.0.2.10", "bystander@example.com"))
			if err != nil {
				t.Errorf("another account was refused: %v", err)
				return
			}
			other.Add(1)
			p.Done(context.Background(), mamoru.GuardOutcome{Result: mamoru.GuardSuccess})
		}()
	}
	wg.Wait()
	if passed.Load() > int32(cfg.Lockout.Threshold) {
		t.Errorf("%d guesses reached the hash; the threshold is %d", passed.Load(), cfg.Lockout.Threshold)
	}
	if passed.Load()+lockedN.Load() != 60 || other.Load() != 60 {
		t.Errorf("passed %d, locked %d, other account %d", passed.Load(), lockedN.Load(), other.Load())
	}
}

func TestNetworkThrottle(t *testing.T) {
	cfg := guard.DefaultConfig()
	cfg.Throttle.IPFailures = 5
	cfg.Captcha.AfterIPFailures = 1000
	cfg.Allow = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	e := newEnv(t, cfg)
	for i := range 5 {
		if err := e.fail(t, attempt("203.0.113.9", fmt.Sprintf("u%d@example.com", i)), "x"); err != nil {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	_, err := e.g.Enter(context.Background(), attempt("203.0.113.9", "fresh@example.com"))
	if code(err) != mamoru.ERateLimited {
		t.Fatalf("6th attempt: %v, want rate_limited", err)
	}
	if ra := mamoru.RetryAfter(err); ra != cfg.Throttle.Penalty {
		t.Errorf("Retry-After %v, want %v", ra, cfg.Throttle.Penalty)
	}
	// Every entry point honours it; forgot-password too.
	for _, act := range []mamoru.GuardAction{mamoru.GuardCode, mamoru.GuardForgot, mamoru.GuardReset, mamoru.GuardApproval} {
		if _, err := e.g.Enter(context.Background(), &mamoru.GuardAttempt{Action: act, Request: mamoru.Request{IP: "203.0.113.9"}}); code(err) != mamoru.ERateLimited {
			t.Errorf("%s: %v, want rate_limited", act, err)
		}
	}
	// Another IP of another prefix, and the allowlist, are not affected.
	if _, err := e.g.Enter(context.Background(), attempt("198.51.100.9", "fresh@example.com")); err != nil {
		t.Errorf("other network: %v", err)
	}
	for i := range 10 {
		if err := e.fail(t, attempt("192.0.2.1", fmt.Sprintf("v%d@example.com", i)), "x"); err != nil {
			t.Fatalf("allowlisted failure %d: %v", i, err)
		}
	}
	e.clock.Advance(cfg.Throttle.Penalty + time.Second)
	if _, err := e.g.Enter(context.Background(), attempt("203.0.113.9", "fresh@example.com")); err != nil {
		t.Errorf("after the penalty: %v", err)
	}
}

func TestForgotLimitedPerIPButNotByLock(t *testing.T) {
	cfg := guard.DefaultConfig()
	cfg.Throttle.ForgotPerIP = 3
	cfg.Lockout.Threshold = 1
	e := newEnv(t, cfg)
	e.fail(t, attempt("203.0.113.1", "owner@example.com"), "x")
	if _, err := e.g.Enter(context.Background(), attempt("203.0.113.2", "owner@example.com")); code(err) != mamoru.ELocked {
		t.Fatalf("not locked: %v", err)
	}
	forgot := &mamoru.GuardAttempt{Action: mamoru.GuardForgot, Request: mamoru.Request{IP: "203.0.113.2"}, Identifier: "owner@example.com"}
	for i := range 3 {
		if _, err := e.g.Enter(context.Background(), forgot); err != nil {
			t.Fatalf("forgot %d during the lock: %v", i, err)
		}
	}
	if _, err := e.g.Enter(context.Background(), forgot); code(err) != mamoru.ERateLimited {
		t.Fatalf("4th forgot: %v, want rate_limited", err)
	}
}

func TestCaptchaAfterFailures(t *testing.T) {
	cfg := guard.DefaultConfig()
	cfg.Captcha.AfterIPFailures = 2
	e := newEnv(t, cfg)
	e.fail(t, attempt("203.0.113.5", "a@example.com"), "x")
	e.fail(t, attempt("203.0.113.5", "b@example.com"), "x")
	_, err := e.g.Enter(context.Background(), attempt("203.0.113.5", "c@example.com"))
	if code(err) != mamoru.ECaptchaRequired {
		t.Fatalf("after 2 failures: %v, want captcha_required", err)
	}
	a := attempt("203.0.113.5", "c@example.com")
	a.Captcha = "garbage"
	if _, err := e.g.Enter(context.Background(), a); code(err) != mamoru.ECaptchaRequired {
		t.Fatalf("garbage answer: %v", err)
	}
	a.Captcha = e.solve(t, captcha.Low)
	if _, err := e.g.Enter(context.Background(), a); err != nil {
		t.Fatalf("solved: %v", err)
	}
	if _, err := e.g.Enter(context.Background(), a); code(err) != mamoru.ECaptchaRequired {
		t.Fatalf("replayed answer: %v, want captcha_required", err)
	}
	// The code step never asks for one.
	if _, err := e.g.Enter(context.Background(), &mamoru.GuardAttempt{Action: mamoru.GuardCode, Request: mamoru.Request{IP: "203.0.113.5"}, Identifier: "c@example.com"}); err != nil {
		t.Fatalf("code step: %v", err)
	}
}

// TestStuffingWave: failures from many IPs (each below every per-network
// limit) against many identifiers turn global attack mode on; attempts then
// need a CAPTCHA of level medium; the mode ends by itself after the wave.
func TestStuffingWave(t *testing.T) {
	cfg := guard.DefaultConfig()
	cfg.Attack.MinFailures = 30
	e := newEnv(t, cfg)
	var last time.Time = e.clock.Now()
	// A quiet baseline: a few failures a minute for ten minutes.
	for m := range 10 {
		for i := range 3 {
			e.fail(t, attempt(fmt.Sprintf("198.51.%d.%d", m, i+1), fmt.Sprintf("typo%d-%d@example.com", m, i)), fmt.Sprintf("oops%d-%d", m, i))
		}
		e.clock.Advance(time.Minute)
		e.g.Tick(context.Background(), &last)
	}
	if e.g.Wave(context.Background(), mamoru.Request{IP: "192.0.2.1"}) {
		t.Fatal("attack mode on before the wave")
	}
	// The wave: 40 failures within seconds from 40 IPs.
	for i := range 40 {
		err := e.fail(t, attempt(fmt.Sprintf("203.0.%d.%d", i, i+1), fmt.Sprintf("leaked%d@example.com", i)), "password"+strconv.Itoa(i))
		if err != nil && code(err) != mamoru.ECaptchaRequired {
			t.Fatalf("wave attempt %d: %v", i, err)
		}
		e.clock.Advance(100 * time.Millisecond)
	}
	if !e.g.Wave(context.Background(), mamoru.Request{IP: "192.0.2.1"}) {
		t.Fatal("attack mode did not turn on")
	}
	p, err := e.g.Enter(context.Background(), attempt("192.0.2.1", "legit@example.com"))
	if code(err) != mamoru.ECaptchaRequired {
		t.Fatalf("in attack mode without CAPTCHA: %v, %v", p, err)
	}
	a := attempt("192.0.2.1", "legit@example.com")
	a.Captcha = e.solve(t, captcha.Low)
	if _, err := e.g.Enter(context.Background(), a); code(err) != mamoru.ECaptchaRequired {
		t.Fatalf("a low-level answer in attack mode: %v, want refused", err)
	}
	a.Captcha = e.solve(t, captcha.Medium)
	p, err = e.g.Enter(context.Background(), a)
	if err != nil || !p.Wave() {
		t.Fatalf("medium answer: %v (wave %v)", err, p != nil && p.Wave())
	}
	// A known device (a valid device cookie) is spared the CAPTCHA, not
	// the wave; a device made up for this request is not known.
	known := attempt("192.0.2.1", "legit@example.com")
	known.Request.DeviceID = "known-device"
	if p, err := e.g.Enter(context.Background(), known); err != nil || !p.Wave() {
		t.Fatalf("known device in attack mode: %v", err)
	}
	known.Request.NewDevice = true
	if _, err := e.g.Enter(context.Background(), known); code(err) != mamoru.ECaptchaRequired {
		t.Fatalf("new device in attack mode: %v", err)
	}
	// The attackers stop; the mode ends after Hold.
	e.clock.Advance(cfg.Attack.Hold + time.Second)
	e.g.Tick(context.Background(), &last)
	if e.g.Wave(context.Background(), mamoru.Request{IP: "192.0.2.1"}) {
		t.Fatal("attack mode did not end")
	}
}

func TestSprayingAndDevices(t *testing.T) {
	cfg := guard.DefaultConfig()
	cfg.Attack.SprayAccounts, cfg.Attack.DeviceAccounts = 5, 4
	cfg.Captcha.AfterIPFailures = 1000
	e := newEnv(t, cfg)
	// One device tries four accounts: that device is in attack mode.
	for i := range 4 {
		a := attempt(fmt.Sprintf("203.0.113.%d", i+1), fmt.Sprintf("d%d@example.com", i))
		a.Request.DeviceID = "dev-1"
		e.fail(t, a, "pw-"+strconv.Itoa(i))
	}
	lv, err := e.g.Level(context.Background(), mamoru.Request{IP: "192.0.2.7", DeviceID: "dev-1"})
	if err != nil || lv != captcha.High {
		t.Fatalf("device level %v %v, want high", lv, err)
	}
	if lv, _ := e.g.Level(context.Background(), mamoru.Request{IP: "192.0.2.7", DeviceID: "dev-2"}); lv != 0 {
		t.Fatalf("another device: level %v", lv)
	}
	// One password against five accounts from five networks: spraying.
	for i := range 5 {
		e.fail(t, attempt(fmt.Sprintf("198.51.100.%d", i+1), fmt.Sprintf("s%d@example.com", i)), "Summer2026!")
	}
	if !e.g.Wave(context.Background(), mamoru.Request{IP: "192.0.2.7"}) {
		t.Fatal("spraying did not turn attack mode on")
	}
}

func TestUnknownRatioPerNetwork(t *testing.T) {
	cfg := guard.DefaultConfig()
	cfg.Attack.MinNetworkAttempts = 10
	cfg.Captcha.AfterIPFailures = 1000
	e := newEnv(t, cfg)
	for i := range 10 {
		a := attempt("100.64.0.1", fmt.Sprintf("nobody%d@example.com", i))
		p, err := e.g.Enter(context.Background(), a)
		if err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		p.Done(context.Background(), mamoru.GuardOutcome{Result: mamoru.GuardFailure, Unknown: true})
	}
	if !e.g.Wave(context.Background(), mamoru.Request{IP: "100.64.0.1"}) {
		t.Fatal("the IP is not in attack mode")
	}
	if !e.g.Wave(context.Background(), mamoru.Request{IP: "100.64.9.9"}) {
		t.Fatal("its autonomous system is not in attack mode")
	}
	if e.g.Wave(context.Background(), mamoru.Request{IP: "192.0.2.1"}) {
		t.Fatal("an unrelated network is in attack mode")
	}
}

func TestBadInputPasses(t *testing.T) {
	e := newEnv(t, guard.DefaultConfig())
	for _, ip := range []string{"", "not-an-ip", "::1", "fe80::1%eth0", "2001:db8::1"} {
		p, err := e.g.Enter(context.Background(), attempt(ip, ""))
		if err != nil {
			t.Errorf("IP %q: %v", ip, err)
			continue
		}
		p.Done(context.Background(), mamoru.GuardOutcome{Result: mamoru.GuardFailure})
		p.Done(context.Background(), mamoru.GuardOutcome{Result: mamoru.GuardFailure}) // twice: ignored
	}
	if err := (guard.Config{Lockout: guard.LockoutConfig{Threshold: -1}}).Validate(); err == nil {
		t.Error("a negative threshold is valid")
	}
}

// TestReputation: the risk engine reads failures per IP and AS from the
// guard's counters.
func TestReputation(t *testing.T) {
	cfg := guard.DefaultConfig()
	cfg.Captcha.AfterIPFailures = 1000
	e := newEnv(t, cfg)
	for i := range 3 {
		e.fail(t, attempt("100.64.0.7", fmt.Sprintf("r%d@example.com", i)), "x")
	}
	rep := e.g.Reputation()
	now := e.clock.Now()
	if n := rep.IPFailures(netip.MustParseAddr("100.64.0.7"), now); n != 3 {
		t.Errorf("IP failures %d, want 3", n)
	}
	if n := rep.ASNFailures(64500, now); n != 3 {
		t.Errorf("AS failures %d, want 3", n)
	}
	if n := rep.IPFailures(netip.MustParseAddr("192.0.2.1"), now); n != 0 {
		t.Errorf("other IP: %d", n)
	}
}
