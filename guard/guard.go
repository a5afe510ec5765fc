// Package guard is the checkpoint of attack protection: the one place
// every entry point that takes a secret from a client (sign-in by page and
// API, one-time codes, approval links, password reset) passes before the
// secret is verified. It implements mamoru.Guard:
//
//   - account lockout keyed by a keyed hash of the canonical identifier
//     (unknown addresses lock exactly like known ones), with the Yahoo!
//     JAPAN extension rule, its authority in the database;
//   - network throttles per IP (IPv6 /64), prefix (/24, /48) and
//     autonomous system, answered with ERateLimited and a Retry-After;
//   - detection of credential-stuffing and password-spraying waves across
//     accounts, and the attack mode they turn on (a CAPTCHA for the
//     affected networks or for everyone, a challenge for new devices, a
//     forced reset for right passwords used in the wave), which ends by
//     itself when the wave ends;
//   - the CAPTCHA requirement, verified by a captcha.Provider.
//
// Rejections in the fast path (throttled network, CAPTCHA missing) touch
// only the Counters: no database, no hashing.
//
// It must not know about HTTP, render text, or decide what a sign-in's
// password means (package signin and account do); it never stores or logs
// passwords or identifiers in the clear.
package guard

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/captcha"
	"github.com/mamoru-id/mamoru/risk"
)

// Deps are the collaborators of a Guard.
type Deps struct {
	Store    mamoru.Store    // lockouts (the authority of locks)
	Counters mamoru.Counters // throttles, detection, reservations
	Clock    mamoru.Clock
	Logger   *slog.Logger
	// Lookup finds an IP's autonomous system (nil: none is known, and
	// the ASN throttle and detection are off).
	Lookup func(netip.Addr) mamoru.Place
	// Captcha verifies CAPTCHA answers; nil means none can be given, so
	// an attempt that needs one is refused as rate limited.
	Captcha captcha.Provider
	// OnLock runs in the transaction that locks an identifier, once per
	// lock: it tells the owner, if the identifier has an account; r is
	// the attempt that locked it.
	OnLock func(ctx context.Context, tx mamoru.Tx, identifier string, l *mamoru.Lockout, r mamoru.Request) error
	// IdentifierKey keys the hash of identifiers (at least 16 bytes,
	// shared by every instance: the server keeps it in the database).
	IdentifierKey []byte
	Metrics       *Metrics // nil: none
}

// Guard implements mamoru.Guard.
type Guard struct {
	cfg  Config
	d    Deps
	log  *slog.Logger
	m    *Metrics
	keys pwKeys

	globalUntil atomic.Int64 // unix nanos: end of global attack mode as last read
	mu          sync.Mutex
	baseline    float64 // failures per Attack.Window outside waves (EWMA)
	learned     bool
}

var _ mamoru.Guard = (*Guard)(nil)

// New returns a Guard.
func New(cfg Config, d Deps) (*Guard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Store == nil || d.Counters == nil {
		return nil, mamoru.Errorf(mamoru.EInternal, "guard: a store and counters are required")
	}
	if len(d.IdentifierKey) < 16 {
		return nil, mamoru.Errorf(mamoru.EInternal, "guard: the identifier key needs at least 16 bytes")
	}
	if d.Clock == nil {
		d.Clock = mamoru.SystemClock{}
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Guard{cfg: cfg.withDefaults(), d: d, log: log, m: d.Metrics}
	g.keys.rotate(d.Clock.Now())
	return g, nil
}

// Config returns the configuration in effect (with defaults).
func (g *Guard) Config() Config { return g.cfg }

// network is what the guard knows of an attempt's source.
type network struct {
	ok      bool // a parseable, public or private address
	allowed bool
	ip      string // the IP, IPv6 as its /64
	prefix  string // /24 or /48
	asn     uint32
}

func (g *Guard) network(r mamoru.Request) network {
	ip, err := netip.ParseAddr(r.IP)
	if err != nil {
		return network{}
	}
	ip = ip.Unmap().WithZone("")
	n := network{ok: true}
	for _, p := range g.cfg.Allow {
		if p.Contains(ip) {
			n.allowed = true
			break
		}
	}
	n.ip, n.prefix = networkKeys(ip)
	if g.d.Lookup != nil {
		n.asn = g.d.Lookup(ip).ASN
	}
	return n
}

// networkKeys names an (unmapped) address's network in counter keys: the
// IP (IPv6: its /64) and its prefix (/24 or /48).
func networkKeys(ip netip.Addr) (addr, prefix string) {
	if ip.Is4() {
		return ip.String(), netip.PrefixFrom(ip, 24).Masked().String()
	}
	return netip.PrefixFrom(ip, 64).Masked().String(), netip.PrefixFrom(ip, 48).Masked().String()
}

// Counter keys. Every key names a network, a hashed identifier, a hashed
// password or a device; none holds a secret in the clear.
const (
	kBlockIP     = "g:b:ip:"  // throttled IP (Block)
	kBlockPrefix = "g:b:pf:"  // throttled prefix
	kBlockASN    = "g:b:asn:" // throttled AS
	kWaveGlobal  = "g:w:all"  // attack mode for everyone (Block)
	kWaveIP      = "g:w:ip:"  // attack mode for an IP
	kWaveASN     = "g:w:asn:" // attack mode for an AS
	kWaveDevice  = "g:w:dev:" // attack mode for a device
	kFailIP      = "g:f:ip:"  // failures per IP (IPWindow)
	kFailPrefix  = "g:f:pf:"  // failures per prefix
	kFailASN     = "g:f:asn:" // failures per AS
	kFailIPHour  = "g:fh:ip:" // failures per IP per hour (CAPTCHA)
	kFailGlobal  = "g:f:all"  // failures everywhere (Attack.Window)
	kNoCaptcha   = "g:nc:all" // attempts refused for want of a CAPTCHA in a wave
	kAttemptIP   = "g:a:ip:"  // attempts per IP (NetworkWindow)
	kUnknownIP   = "g:u:ip:"  // attempts on unknown identifiers per IP
	kAttemptASN  = "g:a:asn:" // attempts per AS
	kUnknownASN  = "g:u:asn:" // attempts on unknown identifiers per AS
	kSpray       = "g:sp:"    // identifiers per password hash (distinct)
	kDevice      = "g:dv:"    // identifiers per device (distinct)
	kReserve     = "g:lk:"    // failures and attempts in flight per identifier
	kForgotIP    = "g:fg:ip:" // reset requests per IP per hour
)

func asnKey(asn uint32) string { return strconv.FormatUint(uint64(asn), 10) }

// IdentifierKey returns the keyed hash that stands for an identifier in
// lockouts and counters.
func (g *Guard) IdentifierKey(identifier string) []byte {
	m := hmac.New(sha256.New, g.d.IdentifierKey)
	m.Write([]byte(identifier))
	return m.Sum(nil)[:16]
}

// pass is an attempt the checkpoint let through.
type pass struct {
	g       *Guard
	a       mamoru.GuardAttempt
	n       network
	key     []byte // identifier key; nil without identifier
	hadRow  bool   // a lockout row existed at Enter
	reserve string // the reservation counter of this lock generation
	wave    bool
	done    atomic.Bool
	counted bool // a reservation was taken
}

// Wave implements mamoru.GuardPass.
func (p *pass) Wave() bool { return p.wave }

// Enter implements mamoru.Guard.
func (g *Guard) Enter(ctx context.Context, a *mamoru.GuardAttempt) (mamoru.GuardPass, error) {
	now := g.d.Clock.Now()
	p, need, ipNeed, err := g.assess(ctx, a, now)
	if err != nil {
		return nil, err
	}
	// A known device (a valid device cookie, which only an answer that
	// continued a sign-in hands out, on no device wave) needs no CAPTCHA
	// for a wave: stuffing comes from clients without one, and a device
	// that tries many accounts is in attack mode itself. Failures from its
	// own IP still ask for one.
	if p.wave && need == captcha.Medium && a.Request.DeviceID != "" && !a.Request.NewDevice {
		need = ipNeed
	}
	// Only the password step asks for a CAPTCHA: codes and links are
	// bounded by their own tries and by the lock.
	if a.Action == mamoru.GuardSignIn && need > 0 {
		if err := g.checkCaptcha(ctx, p, need); err != nil {
			return nil, err
		}
	}
	switch a.Action {
	case mamoru.GuardSignIn, mamoru.GuardCode, mamoru.GuardApproval:
		if a.Identifier != "" {
			if err := g.enterLock(ctx, p, now, need); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// assess reads, in one round trip, what the counters say of an attempt's
// network and device: a throttle (ERateLimited), attack mode (p.wave), and
// the CAPTCHA level they ask for (need; ipNeed is the part its IP's own
// failures ask for).
func (g *Guard) assess(ctx context.Context, a *mamoru.GuardAttempt, now time.Time) (p *pass, need, ipNeed captcha.Level, err error) {
	p = &pass{g: g, a: *a, n: g.network(a.Request)}
	if !p.n.ok || p.n.allowed {
		return p, 0, 0, nil
	}
	ops := make([]mamoru.CounterOp, 0, 8)
	ops = append(ops,
		mamoru.CounterOp{Kind: mamoru.CounterBlocked, Key: kBlockIP + p.n.ip},
		mamoru.CounterOp{Kind: mamoru.CounterBlocked, Key: kBlockPrefix + p.n.prefix},
		mamoru.CounterOp{Kind: mamoru.CounterBlocked, Key: kWaveIP + p.n.ip},
		mamoru.CounterOp{Kind: mamoru.CounterGet, Key: kFailIPHour + p.n.ip, Window: time.Hour},
	)
	if p.n.asn != 0 {
		ops = append(ops,
			mamoru.CounterOp{Kind: mamoru.CounterBlocked, Key: kBlockASN + asnKey(p.n.asn)},
			mamoru.CounterOp{Kind: mamoru.CounterBlocked, Key: kWaveASN + asnKey(p.n.asn)})
	}
	if a.Request.DeviceID != "" && !a.Request.NewDevice {
		ops = append(ops, mamoru.CounterOp{Kind: mamoru.CounterBlocked, Key: kWaveDevice + a.Request.DeviceID})
	}
	if a.Action == mamoru.GuardForgot {
		ops = append(ops, mamoru.CounterOp{Kind: mamoru.CounterAdd, Key: kForgotIP + p.n.ip, N: 1, Window: time.Hour})
	}
	if err := g.d.Counters.Do(ctx, ops); err != nil {
		return nil, 0, 0, err
	}
	var blocked time.Time
	for _, op := range ops {
		switch {
		case op.Kind == mamoru.CounterBlocked && op.Until.After(now) && strings.HasPrefix(op.Key, "g:b:"):
			if op.Until.After(blocked) {
				blocked = op.Until
			}
		case op.Kind == mamoru.CounterBlocked && op.Until.After(now): // a wave key
			p.wave = true
			need = max(need, captcha.Medium)
			if strings.HasPrefix(op.Key, kWaveDevice) {
				need = captcha.High
			}
		case op.Kind == mamoru.CounterGet && op.Count >= int64(g.cfg.Captcha.AfterIPFailures):
			need = max(need, captcha.Low)
			ipNeed = captcha.Low
		case op.Kind == mamoru.CounterAdd && op.Count > int64(g.cfg.Throttle.ForgotPerIP):
			blocked = now.Add(time.Hour - now.Sub(now.Truncate(time.Hour)))
		}
	}
	if !blocked.IsZero() {
		g.m.reject("throttle")
		return nil, 0, 0, rateLimited(blocked.Sub(now))
	}
	if g.globalWave(now) {
		p.wave = true
		need = max(need, captcha.Medium)
	}
	return p, need, ipNeed, nil
}

// checkCaptcha refuses the attempt unless it carries a valid answer of at
// least level need. In a wave, a refusal keeps the wave alive.
func (g *Guard) checkCaptcha(ctx context.Context, p *pass, need captcha.Level) error {
	if p.a.Captcha != "" && g.d.Captcha != nil {
		var err error
		if lv, ok := g.d.Captcha.(interface {
			VerifyLevel(ctx context.Context, token string, least captcha.Level) error
		}); ok {
			err = lv.VerifyLevel(ctx, p.a.Captcha, need)
		} else {
			err = g.d.Captcha.Verify(ctx, p.a.Captcha, p.a.Request.IP)
		}
		if err == nil {
			return nil
		}
		if c := mamoru.ErrorCode(err); c != mamoru.EInvalidRequest && c != mamoru.ECaptchaRequired {
			return err
		}
	}
	g.m.reject("captcha")
	if p.wave {
		g.keepWave(ctx, p)
	}
	if g.d.Captcha == nil {
		return rateLimited(g.cfg.Attack.Hold)
	}
	return mamoru.Errorf(mamoru.ECaptchaRequired, "a CAPTCHA of level %s is required", need)
}

// keepWave counts an attempt refused for want of a CAPTCHA during a wave:
// while the attackers keep trying, the wave goes on (their attempts no
// longer reach the failure counters).
func (g *Guard) keepWave(ctx context.Context, p *pass) {
	now := g.d.Clock.Now()
	ops := []mamoru.CounterOp{{Kind: mamoru.CounterAdd, Key: kNoCaptcha, N: 1, Window: g.cfg.Attack.Window}}
	if err := g.d.Counters.Do(ctx, ops); err != nil {
		return
	}
	// Only a global wave is kept alive this way: a network's wave comes
	// back with its next failure (its counts cover NetworkWindow).
	if g.globalWave(now) && ops[0].Count >= g.threshold() {
		g.startWave(ctx, kWaveGlobal, now, "refusals")
	}
}

// enterLock applies the identifier's lock and takes a reservation, so that
// parallel guesses never exceed the threshold.
func (g *Guard) enterLock(ctx context.Context, p *pass, now time.Time, need captcha.Level) error {
	p.key = g.IdentifierKey(p.a.Identifier)
	var l *mamoru.Lockout
	err := g.d.Store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		l, err = tx.Lockout(ctx, p.key)
		if mamoru.ErrorCode(err) == mamoru.ENotFound {
			l, err = nil, nil
		}
		return err
	})
	if err != nil {
		return err
	}
	p.hadRow = l != nil
	p.reserve = reserveKey(p.key, l)
	if l.Locked(now) {
		if g.cfg.Lockout.Extend {
			if err := g.extendLock(ctx, p.key, now); err != nil {
				return err
			}
		}
		g.m.reject("locked")
		return locked()
	}
	live := l != nil && now.Sub(l.WindowStart) < g.cfg.Lockout.Window
	if p.a.Action == mamoru.GuardSignIn && need == 0 && live && l.Failures >= g.cfg.Captcha.AfterIdentifierFailures {
		if err := g.checkCaptcha(ctx, p, captcha.Low); err != nil {
			return err
		}
	}
	ops := []mamoru.CounterOp{{Kind: mamoru.CounterAdd, Key: p.reserve, N: 1, Window: g.cfg.Lockout.Window}}
	if err := g.d.Counters.Do(ctx, ops); err != nil {
		return err
	}
	p.counted = true
	if ops[0].Count > int64(g.cfg.Lockout.Threshold) || (live && l.Failures >= g.cfg.Lockout.Threshold) {
		if err := g.lock(ctx, p, now, false); err != nil {
			return err
		}
		g.m.reject("locked")
		return locked()
	}
	return nil
}

// extendLock moves the end of a lock to Duration after now (never
// earlier).
func (g *Guard) extendLock(ctx context.Context, key []byte, now time.Time) error {
	return g.d.Store.Update(ctx, func(tx mamoru.Tx) error {
		l, err := tx.Lockout(ctx, key)
		if err != nil {
			return err
		}
		if end := now.Add(g.cfg.Lockout.Duration); end.After(l.LockedUntil) && l.Locked(now) {
			l.LockedUntil, l.UpdatedAt = end, now
			return tx.SaveLockout(ctx, l)
		}
		return nil
	})
}

// lock records a failure (when failed) and locks the identifier when the
// failures reach the threshold (or when forced by the reservations),
// telling the owner once per lock.
func (g *Guard) lock(ctx context.Context, p *pass, now time.Time, failed bool) error {
	return g.d.Store.Update(ctx, func(tx mamoru.Tx) error {
		l, err := tx.Lockout(ctx, p.key)
		if mamoru.ErrorCode(err) == mamoru.ENotFound {
			l, err = &mamoru.Lockout{Key: p.key, WindowStart: now}, nil
		}
		if err != nil {
			return err
		}
		if now.Sub(l.WindowStart) >= g.cfg.Lockout.Window && !l.Locked(now) {
			l.Failures, l.WindowStart = 0, now
		}
		if failed {
			l.Failures++
		}
		l.UpdatedAt = now
		if !l.Locked(now) && (!failed || l.Failures >= g.cfg.Lockout.Threshold) {
			// The count starts afresh when the lock ends.
			l.LockedAt, l.LockedUntil = now, now.Add(g.cfg.Lockout.Duration)
			l.Failures, l.WindowStart = 0, l.LockedUntil
			l.Generation++
			g.m.lockout()
			if g.d.OnLock != nil && (l.NotifiedAt.IsZero() || l.NotifiedAt.Before(l.LockedAt)) {
				if err := g.d.OnLock(ctx, tx, p.a.Identifier, l, p.a.Request); err != nil {
					return err
				}
				l.NotifiedAt = now
			}
		}
		return tx.SaveLockout(ctx, l)
	})
}

// reserveKey is the reservation counter of an identifier for its current
// lock generation (Lockout.Generation): after a lock or an unlock, attempts
// reserve in a fresh counter, while attempts that read the row before a
// lock was saved still count in the old one (so they are refused).
func reserveKey(key []byte, l *mamoru.Lockout) string {
	gen := int64(0)
	if l != nil {
		gen = l.Generation
	}
	return kReserve + hex.EncodeToString(key) + ":" + strconv.FormatInt(gen, 36)
}

// resetReservations sets a reservation count to zero.
func (g *Guard) resetReservations(ctx context.Context, k string) {
	ops := []mamoru.CounterOp{{Kind: mamoru.CounterGet, Key: k, Window: g.cfg.Lockout.Window}}
	if err := g.d.Counters.Do(ctx, ops); err != nil || ops[0].Count == 0 {
		return
	}
	_ = g.d.Counters.Do(ctx, []mamoru.CounterOp{{Kind: mamoru.CounterAdd, Key: k, N: -ops[0].Count, Window: g.cfg.Lockout.Window}})
}

// Done implements mamoru.GuardPass.
func (p *pass) Done(ctx context.Context, o mamoru.GuardOutcome) {
	if !p.done.CompareAndSwap(false, true) {
		return
	}
	g := p.g
	// The outcome must be recorded even if the client went away.
	ctx = context.WithoutCancel(ctx)
	if err := g.done(ctx, p, o); err != nil {
		g.log.Error("guard: recording an outcome failed", "action", p.a.Action, "err", err)
	}
}

func (g *Guard) done(ctx context.Context, p *pass, o mamoru.GuardOutcome) error {
	now := g.d.Clock.Now()
	reserve := p.reserve
	switch o.Result {
	case mamoru.GuardNone:
		if p.counted {
			return g.d.Counters.Do(ctx, []mamoru.CounterOp{{Kind: mamoru.CounterAdd, Key: reserve, N: -1, Window: g.cfg.Lockout.Window}})
		}
		return nil
	case mamoru.GuardSuccess:
		if p.counted {
			g.resetReservations(ctx, reserve)
		}
		if p.hadRow {
			// The failures are forgotten; the row (and so the lock
			// generation) stays until the janitor removes it.
			err := g.d.Store.Update(ctx, func(tx mamoru.Tx) error {
				l, err := tx.Lockout(ctx, p.key)
				if err != nil || l.Locked(now) {
					return err
				}
				l.Failures, l.WindowStart, l.UpdatedAt = 0, now, now
				return tx.SaveLockout(ctx, l)
			})
			if mamoru.ErrorCode(err) != mamoru.ENotFound && err != nil {
				return err
			}
		}
		if p.n.ok && !p.n.allowed {
			return g.countAttempt(ctx, p, false)
		}
		return nil
	}
	// A failure: the identifier's durable count, then the networks'.
	if p.key != nil {
		if err := g.lock(ctx, p, now, true); err != nil {
			return err
		}
	}
	if !p.n.ok || p.n.allowed {
		return nil
	}
	t := g.cfg.Throttle
	ops := make([]mamoru.CounterOp, 0, 12)
	ops = append(ops,
		mamoru.CounterOp{Kind: mamoru.CounterAdd, Key: kFailIP + p.n.ip, N: 1, Window: t.IPWindow},
		mamoru.CounterOp{Kind: mamoru.CounterAdd, Key: kFailPrefix + p.n.prefix, N: 1, Window: t.PrefixWindow},
		mamoru.CounterOp{Kind: mamoru.CounterAdd, Key: kFailIPHour + p.n.ip, N: 1, Window: time.Hour},
		mamoru.CounterOp{Kind: mamoru.CounterAdd, Key: kFailGlobal, N: 1, Window: g.cfg.Attack.Window},
	)
	iASN := -1
	if p.n.asn != 0 && t.ASNFailures > 0 {
		iASN = len(ops)
		ops = append(ops, mamoru.CounterOp{Kind: mamoru.CounterAdd, Key: kFailASN + asnKey(p.n.asn), N: 1, Window: t.ASNWindow})
	}
	iSpray, iDevice := -1, -1
	if o.Password != "" && p.key != nil {
		iSpray = len(ops)
		ops = append(ops, mamoru.CounterOp{Kind: mamoru.CounterAddDistinct, Key: kSpray + g.keys.hash(now, g.cfg.Attack.KeyRotation, o.Password),
			Member: hex.EncodeToString(p.key), Window: g.cfg.Attack.SprayWindow})
	}
	if p.a.Request.DeviceID != "" && !p.a.Request.NewDevice && p.key != nil {
		iDevice = len(ops)
		ops = append(ops, mamoru.CounterOp{Kind: mamoru.CounterAddDistinct, Key: kDevice + p.a.Request.DeviceID,
			Member: hex.EncodeToString(p.key), Window: g.cfg.Attack.SprayWindow})
	}
	if err := g.d.Counters.Do(ctx, ops); err != nil {
		return err
	}
	until := now.Add(t.Penalty)
	var blocks []mamoru.CounterOp
	if ops[0].Count >= int64(t.IPFailures) {
		blocks = append(blocks, mamoru.CounterOp{Kind: mamoru.CounterBlock, Key: kBlockIP + p.n.ip, Until: until})
	}
	if ops[1].Count >= int64(t.PrefixFailures) {
		blocks = append(blocks, mamoru.CounterOp{Kind: mamoru.CounterBlock, Key: kBlockPrefix + p.n.prefix, Until: until})
	}
	if iASN >= 0 && ops[iASN].Count >= int64(t.ASNFailures) {
		blocks = append(blocks, mamoru.CounterOp{Kind: mamoru.CounterBlock, Key: kBlockASN + asnKey(p.n.asn), Until: until})
	}
	if len(blocks) > 0 {
		g.m.throttle(len(blocks))
		if err := g.d.Counters.Do(ctx, blocks); err != nil {
			return err
		}
	}
	if ops[3].Count >= g.threshold() {
		g.startWave(ctx, kWaveGlobal, now, "failure_spike")
	}
	if iSpray >= 0 && ops[iSpray].Count >= int64(g.cfg.Attack.SprayAccounts) {
		g.startWave(ctx, kWaveGlobal, now, "spraying")
	}
	if iDevice >= 0 && ops[iDevice].Count >= int64(g.cfg.Attack.DeviceAccounts) {
		g.startWave(ctx, kWaveDevice+p.a.Request.DeviceID, now, "device")
	}
	return g.countAttempt(ctx, p, o.Unknown)
}

// countAttempt counts an attempt (and whether its identifier was unknown)
// for its IP and AS, and starts a wave for a network whose attempts are
// mostly on unknown identifiers.
func (g *Guard) countAttempt(ctx context.Context, p *pass, unknown bool) error {
	if p.key == nil {
		return nil
	}
	w := g.cfg.Attack.NetworkWindow
	u := int64(0)
	if unknown {
		u = 1
	}
	ops := []mamoru.CounterOp{
		{Kind: mamoru.CounterAdd, Key: kAttemptIP + p.n.ip, N: 1, Window: w},
		{Kind: mamoru.CounterAdd, Key: kUnknownIP + p.n.ip, N: u, Window: w},
	}
	if p.n.asn != 0 {
		ops = append(ops,
			mamoru.CounterOp{Kind: mamoru.CounterAdd, Key: kAttemptASN + asnKey(p.n.asn), N: 1, Window: w},
			mamoru.CounterOp{Kind: mamoru.CounterAdd, Key: kUnknownASN + asnKey(p.n.asn), N: u, Window: w})
	}
	if err := g.d.Counters.Do(ctx, ops); err != nil {
		return err
	}
	now := g.d.Clock.Now()
	hot := func(att, unk int64) bool {
		return att >= int64(g.cfg.Attack.MinNetworkAttempts) && float64(unk) >= g.cfg.Attack.UnknownRatio*float64(att)
	}
	if hot(ops[0].Count, ops[1].Count) {
		g.startWave(ctx, kWaveIP+p.n.ip, now, "unknown_ratio_ip")
	}
	if len(ops) == 4 && hot(ops[2].Count, ops[3].Count) {
		g.startWave(ctx, kWaveASN+asnKey(p.n.asn), now, "unknown_ratio_asn")
	}
	return nil
}

// threshold is the global failure count per Attack.Window that is a wave.
func (g *Guard) threshold() int64 {
	g.mu.Lock()
	b := g.baseline
	g.mu.Unlock()
	return int64(math.Max(float64(g.cfg.Attack.MinFailures), math.Ceil(g.cfg.Attack.SpikeFactor*b)))
}

// startWave turns attack mode on (or keeps it on) for a scope.
func (g *Guard) startWave(ctx context.Context, key string, now time.Time, why string) {
	until := now.Add(g.cfg.Attack.Hold)
	ops := []mamoru.CounterOp{{Kind: mamoru.CounterBlocked, Key: key}, {Kind: mamoru.CounterBlock, Key: key, Until: until}}
	if err := g.d.Counters.Do(ctx, ops); err != nil {
		g.log.Error("guard: cannot turn attack mode on", "scope", scopeOf(key), "err", err)
		return
	}
	if key == kWaveGlobal {
		g.globalUntil.Store(ops[1].Until.UnixNano())
		g.m.setAttack(true)
	}
	if !ops[0].Until.After(now) {
		g.m.wave(scopeOf(key), why)
		g.log.Warn("guard: attack mode on", "scope", scopeOf(key), "reason", why, "until", ops[1].Until)
	}
}

func scopeOf(key string) string {
	switch {
	case key == kWaveGlobal:
		return "global"
	case strings.HasPrefix(key, kWaveIP):
		return "ip"
	case strings.HasPrefix(key, kWaveASN):
		return "asn"
	default:
		return "device"
	}
}

// globalWave reports whether global attack mode holds at now, from the
// value Run refreshes every second (and startWave sets at once).
func (g *Guard) globalWave(now time.Time) bool {
	return now.UnixNano() < g.globalUntil.Load()
}

// Wave reports whether attack mode touches requests like r (globally, or
// for its network or device), for pages that show the CAPTCHA up front.
func (g *Guard) Wave(ctx context.Context, r mamoru.Request) bool {
	lv, _ := g.Level(ctx, r)
	return lv >= captcha.Medium
}

// Level returns the CAPTCHA level a sign-in from r needs now (0: none),
// or ERateLimited when r's network is throttled.
func (g *Guard) Level(ctx context.Context, r mamoru.Request) (captcha.Level, error) {
	_, need, _, err := g.assess(ctx, &mamoru.GuardAttempt{Action: mamoru.GuardVerify, Request: r}, g.d.Clock.Now())
	return need, err
}

// Run refreshes the global attack mode every second and learns the
// baseline failure rate every Attack.Window outside waves, until ctx ends.
func (g *Guard) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := g.d.Clock.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		g.Tick(ctx, &last)
	}
}

// Tick is one step of Run (exported for tests that move a fake clock).
func (g *Guard) Tick(ctx context.Context, last *time.Time) {
	now := g.d.Clock.Now()
	ops := []mamoru.CounterOp{{Kind: mamoru.CounterBlocked, Key: kWaveGlobal},
		{Kind: mamoru.CounterGet, Key: kFailGlobal, Window: g.cfg.Attack.Window}}
	if err := g.d.Counters.Do(ctx, ops); err != nil {
		return
	}
	g.globalUntil.Store(ops[0].Until.UnixNano())
	wave := ops[0].Until.After(now)
	g.m.setAttack(wave)
	if now.Sub(*last) < g.cfg.Attack.Window {
		return
	}
	*last = now
	g.keys.rotateIfDue(now, g.cfg.Attack.KeyRotation)
	if wave {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	x := float64(ops[1].Count)
	if !g.learned {
		g.baseline, g.learned = x, true
	} else {
		g.baseline = 0.9*g.baseline + 0.1*x
	}
	g.m.setBaseline(g.baseline)
}

// rateLimited is the throttles' error.
func rateLimited(wait time.Duration) error {
	e := mamoru.Errorf(mamoru.ERateLimited, "too many failed attempts from this network")
	e.RetryAfter = max(wait, time.Second)
	return e
}

func locked() error {
	return mamoru.Errorf(mamoru.ELocked, "the identifier is temporarily locked")
}

// Unlock ends the lock of an identifier (the owner's unlock link, a
// password reset, an operator).
func (g *Guard) Unlock(ctx context.Context, tx mamoru.Tx, identifier string) error {
	key := g.IdentifierKey(identifier)
	l, err := tx.Lockout(ctx, key)
	if mamoru.ErrorCode(err) == mamoru.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	// Ended now: a new lock generation, so the counts start afresh.
	now := g.d.Clock.Now()
	l.Failures, l.WindowStart, l.LockedUntil, l.UpdatedAt = 0, now, now, now
	l.Generation++
	return tx.SaveLockout(ctx, l)
}

// Challenge issues a CAPTCHA challenge of the level requests like r need
// (at least Low), for the page's script.
func (g *Guard) Challenge(ctx context.Context, r mamoru.Request) (*captcha.Challenge, error) {
	pow, ok := g.d.Captcha.(*captcha.PoW)
	if !ok {
		return nil, mamoru.Errorf(mamoru.ENotFound, "no proof-of-work CAPTCHA is configured")
	}
	lv, err := g.Level(ctx, r)
	if err != nil && mamoru.ErrorCode(err) != mamoru.ERateLimited {
		return nil, err
	}
	return pow.Challenge(max(lv, captcha.Low))
}

// Widget describes the CAPTCHA for pages; nil if none is configured.
func (g *Guard) Widget() *captcha.Widget {
	if g.d.Captcha == nil {
		return nil
	}
	w := g.d.Captcha.Widget()
	return &w
}

// pwKeys is the in-memory key of the spraying detector's password hashes,
// replaced every KeyRotation. It is never stored: a restart or a rotation
// starts the counts afresh.
type pwKeys struct {
	mu  sync.Mutex
	key []byte
	at  time.Time
}

func (k *pwKeys) rotate(now time.Time) {
	k.mu.Lock()
	k.key, k.at = mamoru.RandomBytes(32), now
	k.mu.Unlock()
}

func (k *pwKeys) rotateIfDue(now time.Time, every time.Duration) {
	k.mu.Lock()
	due := now.Sub(k.at) >= every
	k.mu.Unlock()
	if due {
		k.rotate(now)
	}
}

func (k *pwKeys) hash(now time.Time, every time.Duration, pw string) string {
	k.rotateIfDue(now, every)
	k.mu.Lock()
	m := hmac.New(sha256.New, k.key)
	k.mu.Unlock()
	m.Write([]byte(pw))
	return hex.EncodeToString(m.Sum(nil)[:12])
}

// Reputation returns the network reputation of the risk engine read from
// the guard's counters: failed attempts per IP (IPv6 /64) in the last hour
// and per autonomous system in Throttle.ASNWindow, counted by every
// instance that shares the counters.
func (g *Guard) Reputation() risk.Reputation { return reputation{g} }

type reputation struct{ g *Guard }

// reputationTimeout bounds a reputation read: an assessment does not wait
// long for a slow Redis (it then reads no failures).
const reputationTimeout = 250 * time.Millisecond

func (r reputation) read(key string, w time.Duration) int {
	ctx, cancel := context.WithTimeout(context.Background(), reputationTimeout)
	defer cancel()
	ops := []mamoru.CounterOp{{Kind: mamoru.CounterGet, Key: key, Window: w}}
	if err := r.g.d.Counters.Do(ctx, ops); err != nil {
		return 0
	}
	return int(ops[0].Count)
}

// IPFailures implements risk.Reputation.
func (r reputation) IPFailures(ip netip.Addr, _ time.Time) int {
	if !ip.IsValid() {
		return 0
	}
	addr, _ := networkKeys(ip.Unmap().WithZone(""))
	return r.read(kFailIPHour+addr, time.Hour)
}

// ASNFailures implements risk.Reputation.
func (r reputation) ASNFailures(asn uint32, _ time.Time) int {
	if asn == 0 {
		return 0
	}
	return r.read(kFailASN+asnKey(asn), r.g.cfg.Throttle.ASNWindow)
}
