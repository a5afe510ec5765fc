package risk

import (
	"math"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// fakeRep is a Reputation with fixed counts.
type fakeRep struct{ ip, asn int }

func (r fakeRep) IPFailures(netip.Addr, time.Time) int { return r.ip }
func (r fakeRep) ASNFailures(uint32, time.Time) int    { return r.asn }

func codes(rs []Reason) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return out
}

func TestAssessRules(t *testing.T) {
	end := t0.Add(100 * 24 * time.Hour)
	next := end.Add(3 * time.Hour)        // soon after the last sign-in
	later := end.Add(20 * 24 * time.Hour) // long enough to fly anywhere
	with := func(a Attempt, f func(*Attempt)) Attempt { f(&a); return a }
	lists := func(f func(*Config)) Config { c := DefaultConfig(); f(&c); return c }
	tests := []struct {
		name     string
		a        Attempt
		cfg      Config
		rep      Reputation
		hostile  []Attempt // marked hostile in the history first
		want     Decision
		codes    []string
		params   map[string]string // of the first reason
		maxScore float64           // the score must be below (NaN: no check)
		minScore float64           // and at least (NaN: no check)
	}{
		{name: "usual sign-in", a: home(next), want: Allow, maxScore: 0, minScore: math.NaN()},
		{name: "usual phone", a: phone(next), want: Allow, maxScore: 0, minScore: math.NaN()},
		{name: "new IP in a known prefix", a: with(home(next), func(a *Attempt) { a.IP = netip.MustParseAddr("203.0.113.99") }),
			want: Allow, codes: []string{ReasonNewIP}, params: map[string]string{ParamIP: "203.0.113.99"}, maxScore: 0, minScore: math.NaN()},
		{name: "new network in the same country", a: with(home(next), func(a *Attempt) { a.IP = netip.MustParseAddr("192.0.2.1"); a.Place = osaka }),
			want: Allow, codes: []string{ReasonNewASN}, params: map[string]string{ParamASN: "4713", ParamOrg: "NTT Communications"}},
		{name: "no device cookie", a: with(home(next), func(a *Attempt) { a.DeviceID = "" }),
			want: Notify, codes: []string{ReasonNewDevice}},
		{name: "unknown device cookie", a: with(home(next), func(a *Attempt) { a.DeviceID = "someone-else" }),
			want: Notify, codes: []string{ReasonNewDevice}},
		{name: "new phone, known network", a: with(phone(next), func(a *Attempt) { a.DeviceID = "new-phone"; a.UserAgent += " v2" }),
			want: Notify, codes: []string{ReasonNewDevice}, maxScore: 2, minScore: math.NaN()},
		{name: "own laptop abroad", a: with(home(later), func(a *Attempt) { a.Place = paris; a.IP = netip.MustParseAddr("192.0.2.8") }),
			want: Allow, codes: []string{ReasonNewCountry}, params: map[string]string{ParamCountry: "FR"}},
		{name: "new device in a new country", a: attacker(later),
			want: Challenge, codes: []string{ReasonNewDevice, ReasonNewCountry, ReasonNewOS, ReasonHighScore}, minScore: 4, maxScore: math.NaN()},
		{name: "impossible travel", a: with(home(end.Add(2*time.Hour)), func(a *Attempt) { a.Place = paris; a.IP = netip.MustParseAddr("192.0.2.8") }),
			want: Challenge, codes: []string{ReasonImpossibleTravel, ReasonNewCountry},
			params: map[string]string{ParamDistance: "9712", ParamMinutes: "120", ParamSpeed: "4856", ParamFrom: "JP"}},
		{name: "Tokyo to Osaka by train", a: with(home(end.Add(3*time.Hour)), func(a *Attempt) { a.Place.Latitude, a.Place.Longitude = osaka.Latitude, osaka.Longitude }),
			want: Allow},
		{name: "next city within the accuracy radius", a: with(home(end.Add(time.Minute)), func(a *Attempt) { a.Place.Latitude, a.Place.Longitude = 35.44, 139.64 }),
			want: Allow},
		{name: "unknown radius: 200 km in a minute is too fast", a: with(home(end.Add(time.Minute)), func(a *Attempt) { a.Place.Latitude, a.Place.Longitude, a.Place.RadiusKM = 37.5, 139.9, 0 }),
			want: Challenge, codes: []string{ReasonImpossibleTravel}},
		{name: "breached password", a: with(home(next), func(a *Attempt) { a.Flags = FlagBreachedPassword }),
			want: Challenge, codes: []string{ReasonBreachedPassword}},
		{name: "attack wave, known device", a: with(home(next), func(a *Attempt) { a.Flags = FlagAttackWave }), want: Allow},
		{name: "attack wave, new device", a: with(home(next), func(a *Attempt) { a.Flags = FlagAttackWave; a.DeviceID = "" }),
			want: Challenge, codes: []string{ReasonAttackWave, ReasonNewDevice}},
		{name: "IP failures at the threshold", a: home(next), rep: fakeRep{ip: 30},
			want: Challenge, codes: []string{ReasonIPFailures}, params: map[string]string{ParamIP: "203.0.113.7", ParamCount: "30", ParamMinutes: "60"}},
		{name: "IP failures below the threshold", a: home(next), rep: fakeRep{ip: 29, asn: 999}, want: Allow},
		{name: "ASN failures", a: home(next), rep: fakeRep{asn: 5000},
			want: Challenge, codes: []string{ReasonASNFailures}, params: map[string]string{ParamASN: "2516", ParamOrg: "KDDI Corporation", ParamCount: "5000", ParamMinutes: "60"}},
		{name: "deny CIDR", a: home(next), cfg: lists(func(c *Config) { c.Lists.DenyCIDRs = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")} }),
			want: Deny, codes: []string{ReasonDenyCIDR}, params: map[string]string{ParamIP: "203.0.113.7", ParamCIDR: "203.0.113.0/24"}},
		{name: "deny CIDR, IPv6", a: phone(next), cfg: lists(func(c *Config) { c.Lists.DenyCIDRs = []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")} }),
			want: Deny, codes: []string{ReasonDenyCIDR}},
		{name: "deny CIDR written as IPv4-mapped", a: home(next), cfg: lists(func(c *Config) { c.Lists.DenyCIDRs = []netip.Prefix{netip.MustParsePrefix("::ffff:203.0.113.0/120")} }),
			want: Deny, codes: []string{ReasonDenyCIDR}},
		{name: "deny country", a: attacker(later), cfg: lists(func(c *Config) { c.Lists.DenyCountries = []string{"ru"} }),
			want: Deny, codes: []string{ReasonDenyCountry, ReasonNewDevice, ReasonNewCountry, ReasonNewOS, ReasonHighScore}, params: map[string]string{ParamCountry: "RU"}},
		{name: "challenge country", a: with(home(later), func(a *Attempt) { a.Place = paris }), cfg: lists(func(c *Config) { c.Lists.ChallengeCountries = []string{"FR"} }),
			want: Challenge, codes: []string{ReasonChallengeCountry, ReasonNewCountry}},
		{name: "allow CIDR caps at notify", a: attacker(later), cfg: lists(func(c *Config) { c.Lists.AllowCIDRs = []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")} }),
			want: Notify, codes: []string{ReasonNewDevice, ReasonNewCountry, ReasonNewOS, ReasonHighScore, ReasonAllowCIDR}},
		{name: "allow CIDR does not cap a hostile value", a: attacker(later), hostile: []Attempt{attacker(end.Add(time.Hour))},
			cfg:  lists(func(c *Config) { c.Lists.AllowCIDRs = []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")} }),
			want: Challenge, codes: []string{ReasonHostileValue, ReasonNewDevice, ReasonNewCountry, ReasonNewOS, ReasonHighScore, ReasonAllowCIDR}},
		{name: "allow CIDR does not cap a deny CIDR", a: home(next),
			cfg: lists(func(c *Config) {
				c.Lists.AllowCIDRs = []netip.Prefix{netip.MustParsePrefix("203.0.0.0/8")}
				c.Lists.DenyCIDRs = []netip.Prefix{netip.MustParsePrefix("203.0.113.7/32")}
			}),
			want: Deny, codes: []string{ReasonDenyCIDR, ReasonAllowCIDR}},
		{name: "new hosting network", a: with(home(next), func(a *Attempt) { a.Place.ASN, a.Place.Org = 16509, "Amazon.com" }),
			cfg:  lists(func(c *Config) { c.Lists.HostingASNs = []uint32{16509} }),
			want: Challenge, codes: []string{ReasonHostingASN, ReasonNewASN}, params: map[string]string{ParamASN: "16509", ParamOrg: "Amazon.com"}},
		{name: "hosting network the account uses", a: home(next), cfg: lists(func(c *Config) { c.Lists.HostingASNs = []uint32{2516} }), want: Allow},
		{name: "anonymizer network", a: home(next), cfg: lists(func(c *Config) { c.Lists.AnonymizerASNs = []uint32{2516} }),
			want: Challenge, codes: []string{ReasonAnonymizerASN}},
		{name: "long absence", a: home(end.Add(100 * 24 * time.Hour)),
			want: Challenge, codes: []string{ReasonLongAbsence}, params: map[string]string{ParamDays: "100"}},
		{name: "hostile device", a: with(home(next), func(a *Attempt) { a.DeviceID = "thief" }), hostile: []Attempt{with(attacker(end.Add(time.Hour)), func(a *Attempt) { a.DeviceID = "thief" })},
			want: Deny, codes: []string{ReasonHostileValue, ReasonNewDevice}, params: map[string]string{ParamFeature: "device", ParamValue: "Chrome 131 (Windows 10)"}},
		{name: "hostile IP", a: with(home(later), func(a *Attempt) { a.IP = netip.MustParseAddr("198.51.100.66") }), hostile: []Attempt{attacker(end.Add(time.Hour))},
			want: Challenge, codes: []string{ReasonHostileValue, ReasonNewIP}, params: map[string]string{ParamFeature: "ip", ParamValue: "198.51.100.66"}},
		{name: "hostile country", a: with(home(later), func(a *Attempt) { a.Place = moscow; a.IP = netip.MustParseAddr("192.0.2.200") }), hostile: []Attempt{attacker(end.Add(time.Hour))},
			want: Challenge, codes: []string{ReasonHostileValue, ReasonNewCountry}, params: map[string]string{ParamFeature: "asn", ParamValue: "AS12389 Rostelecom"}},
		{name: "new OS", a: with(home(next), func(a *Attempt) { a.Device, a.UserAgent = firefoxLin, uaFirefoxLin }),
			want: Allow, codes: []string{ReasonNewOS}, params: map[string]string{ParamOS: "Linux"}},
		{name: "new browser", a: with(home(next), func(a *Attempt) { a.Device.Browser, a.UserAgent = "Edge", uaChromeWin+" Edg/131" }),
			want: Allow, codes: []string{ReasonNewBrowser}, params: map[string]string{ParamBrowser: "Edge"}},
		{name: "score band", a: with(home(next), func(a *Attempt) { a.Device, a.UserAgent = firefoxLin, uaFirefoxLin }),
			cfg:  lists(func(c *Config) { c.Bands = Bands{Notify: -100, Challenge: -99, Approval: -98, Deny: 30} }),
			want: Approval, codes: []string{ReasonNewOS, ReasonHighScore}},
		{name: "override: new device asks for approval", a: with(home(next), func(a *Attempt) { a.DeviceID = "" }),
			cfg:  lists(func(c *Config) { c.Overrides = map[string]Decision{ReasonNewDevice: Approval} }),
			want: Approval, codes: []string{ReasonNewDevice}},
		{name: "override: IP failures ignored", a: home(next), rep: fakeRep{ip: 1000},
			cfg:  lists(func(c *Config) { c.Overrides = map[string]Decision{ReasonIPFailures: Allow} }),
			want: Allow, codes: []string{ReasonIPFailures}},
		{name: "override: new country alone challenges", a: with(home(later), func(a *Attempt) { a.Place = paris }),
			cfg:  lists(func(c *Config) { c.Overrides = map[string]Decision{ReasonNewCountry: Challenge} }),
			want: Challenge, codes: []string{ReasonNewCountry}},
		{name: "override: allow CIDR caps at allow", a: with(home(next), func(a *Attempt) { a.DeviceID = "" }),
			cfg: lists(func(c *Config) {
				c.Lists.AllowCIDRs = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
				c.Overrides = map[string]Decision{ReasonAllowCIDR: Allow}
			}),
			want: Allow, codes: []string{ReasonNewDevice, ReasonAllowCIDR}},
		{name: "unknown place and IP", a: with(home(next), func(a *Attempt) { a.IP = netip.Addr{}; a.Place = mamoru.Place{} }), want: Allow},
		{name: "garbage User-Agent", a: with(home(next), func(a *Attempt) { a.UserAgent = "\x00\xff<script>"; a.Device = mamoru.Device{Type: "unknown"} }), want: Allow},
		{name: "private IP", a: with(home(next), func(a *Attempt) { a.IP = netip.MustParseAddr("10.1.2.3"); a.Place = mamoru.Place{} }),
			want: Allow, codes: []string{ReasonNewIP}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, g := warm(t, 100, end)
			for _, a := range tt.hostile {
				h.Learn(a, Limits{})
				h.MarkHostile(a)
			}
			cfg := tt.cfg
			if cfg.Bands == (Bands{}) {
				cfg = lists(func(c *Config) { *c = tt.cfg })
			}
			e := mustEngine(t, cfg)
			got := e.Assess(tt.a, h, g, tt.rep)
			if got.Decision != tt.want || !slices.Equal(codes(got.Reasons), tt.codes) {
				t.Errorf("got %s %v (score %.2f), want %s %v", got.Decision, got.Reasons, got.Score, tt.want, tt.codes)
			}
			if tt.params != nil && len(got.Reasons) > 0 && !mapsEqual(got.Reasons[0].Params, tt.params) {
				t.Errorf("params %v, want %v", got.Reasons[0].Params, tt.params)
			}
			if tt.maxScore != 0 && !math.IsNaN(tt.maxScore) && got.Score >= tt.maxScore {
				t.Errorf("score %.2f, want below %g", got.Score, tt.maxScore)
			}
			if tt.minScore != 0 && !math.IsNaN(tt.minScore) && got.Score < tt.minScore {
				t.Errorf("score %.2f, want at least %g", got.Score, tt.minScore)
			}
			if got.Audit {
				t.Error("audit without Config.Audit")
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestAssessFirstSignIn(t *testing.T) {
	e := mustEngine(t, DefaultConfig())
	g := population(100)
	for _, h := range []*History{nil, NewHistory()} {
		got := e.Assess(attacker(t0), h, g, nil)
		if got.Score != 0 || got.Decision != Allow || !slices.Equal(codes(got.Reasons), []string{ReasonNoHistory}) {
			t.Errorf("first sign-in: %+v", got)
		}
	}
	a := attacker(t0)
	a.Flags = FlagAttackWave
	if got := e.Assess(a, nil, g, nil); got.Decision != Challenge || !got.Has(ReasonAttackWave) {
		t.Errorf("first sign-in during an attack wave: %+v", got)
	}
	e = mustEngine(t, Config{Lists: Lists{DenyCountries: []string{"RU"}}})
	if got := e.Assess(attacker(t0), nil, nil, nil); got.Decision != Deny {
		t.Errorf("first sign-in from a denied country: %+v", got)
	}
}

func TestAssessForgottenHistoryIsNotNew(t *testing.T) {
	// Every value has aged out, but the account did sign in before: a
	// long absence, not a first sign-in.
	h := NewHistory()
	h.Learn(home(t0), Limits{MaxAge: 24 * time.Hour})
	h.Learn(home(t0.Add(365*24*time.Hour)), Limits{MaxAge: 24 * time.Hour})
	h.MarkHostile(home(t0.Add(365 * 24 * time.Hour)))
	e := mustEngine(t, DefaultConfig())
	got := e.Assess(home(t0.Add(800*24*time.Hour)), h, nil, nil)
	if got.Has(ReasonNoHistory) || !got.Has(ReasonLongAbsence) || got.Decision.Level() < Challenge.Level() {
		t.Errorf("got %+v", got)
	}
}

func TestAssessAudit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Audit = true
	e := mustEngine(t, cfg)
	a := home(t0)
	a.Flags = FlagBreachedPassword
	got := e.Assess(a, nil, nil, nil)
	if !got.Audit || got.Decision != Challenge {
		t.Errorf("got %+v", got)
	}
}

func TestAssessDoesNotChangeItsInputs(t *testing.T) {
	end := t0.Add(50 * 24 * time.Hour)
	h, g := warm(t, 50, end)
	before, total := h.Encode(), g.Total()
	e := mustEngine(t, DefaultConfig())
	e.Assess(attacker(end.Add(time.Hour)), h, g, NewWindow(time.Hour))
	if string(h.Encode()) != string(before) || g.Total() != total {
		t.Error("Assess changed the history or the global counts")
	}
}

func TestNewConfigDefaults(t *testing.T) {
	e := mustEngine(t, Config{})
	if got, want := e.Config().Bands, DefaultConfig().Bands; got != want {
		t.Errorf("bands %+v, want %+v", got, want)
	}
	if e.Config().MaxSpeedKMH != DefaultMaxSpeedKMH || e.Config().Limits.MaxLogins != DefaultMaxLogins {
		t.Errorf("config %+v", e.Config())
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultConfig()
	bad.Bands.Challenge = 1 // below Notify
	bad.Overrides = map[string]Decision{"nope": Deny, ReasonNewDevice: "maybe"}
	bad.Lists.DenyCountries = []string{"Russia"}
	bad.Lists.DenyCIDRs = []netip.Prefix{{}}
	bad.MaxSpeedKMH = math.NaN()
	bad.Limits.MaxLogins = -1
	err := bad.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"band challenge", `"nope"`, `"maybe"`, `"Russia"`, "invalid CIDR", "max speed", "max logins"} {
		if !contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if _, err := New(bad); err == nil {
		t.Error("New accepted a bad config")
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub))
}

func TestDecisionLevel(t *testing.T) {
	for i, d := range Decisions {
		if d.Level() != i || !d.Valid() {
			t.Errorf("%s: level %d", d, d.Level())
		}
	}
	if Decision("maybe").Valid() {
		t.Error("maybe is a decision")
	}
}
