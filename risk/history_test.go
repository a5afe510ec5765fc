package risk

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

func TestHistoryLearn(t *testing.T) {
	h := NewHistory()
	if h.Logins() != 0 || !h.LastSignIn().IsZero() || (*History)(nil).Logins() != 0 {
		t.Fatal("a new history is not empty")
	}
	for i := 0; i < 10; i++ {
		h.Learn(home(t0.Add(time.Duration(i)*time.Hour)), Limits{})
	}
	h.Learn(phone(t0.Add(10*time.Hour)), Limits{})
	if h.Logins() != 11 {
		t.Errorf("logins %d", h.Logins())
	}
	if got := h.LastSignIn(); !got.Equal(t0.Add(10 * time.Hour)) {
		t.Errorf("last sign-in %v", got)
	}
	f := extract(home(t0))
	if w := h.weightOf(f.key[fDevice]); w != 10*unit {
		t.Errorf("home device weight %d", w)
	}
	if w := h.weightOf(f.key[fCountry]); w != 11*unit {
		t.Errorf("country weight %d", w)
	}
	if h.n[fDevice] != 2 || h.n[fCountry] != 1 || h.sum[fCountry] != 11*unit {
		t.Errorf("n %v sum %v", h.n, h.sum)
	}
	// An older sign-in learned late does not move the last one.
	h.Learn(home(t0.Add(-time.Hour)), Limits{})
	if got := h.LastSignIn(); !got.Equal(t0.Add(10 * time.Hour)) {
		t.Errorf("last sign-in %v after learning an older one", got)
	}
}

func TestHistoryBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, l := range []Limits{{}, {MaxLogins: 10, MaxAge: 30 * 24 * time.Hour}, {MaxLogins: 1}} {
		ld := l.withDefaults()
		h := NewHistory()
		at := t0
		for i := 0; i < 1500; i++ {
			at = at.Add(time.Duration(r.IntN(48)) * time.Hour)
			h.Learn(randomAttempt(r, at), l)
			if h.Logins() > ld.MaxLogins {
				t.Fatalf("%+v: %d logins", l, h.Logins())
			}
			for f := fidx(0); f < numFeatures; f++ {
				if int(h.n[f]) > ld.MaxLogins {
					t.Fatalf("%+v: %d values of %s", l, h.n[f], f)
				}
			}
			oldest := dayOf(at) - int32(ld.MaxAge/(24*time.Hour))
			for _, e := range h.entries {
				if e.day < oldest {
					t.Fatalf("%+v: a value last seen on day %d survives on day %d", l, e.day, dayOf(at))
				}
			}
		}
		// Recent habits outweigh old ones.
		for i := 0; i < 3*ld.MaxLogins; i++ {
			at = at.Add(time.Hour)
			h.Learn(home(at), l)
		}
		f := extract(home(at))
		if w, s := h.weightOf(f.key[fIP]), h.sum[fIP]; float64(w) < 0.9*float64(s) {
			t.Errorf("%+v: home IP weighs %d of %d after %d sign-ins from home", l, w, s, 3*ld.MaxLogins)
		}
	}
}

func TestHistoryForgetsByAge(t *testing.T) {
	h := NewHistory()
	l := Limits{MaxAge: 10 * 24 * time.Hour}
	h.Learn(phone(t0), l)
	h.Learn(home(t0.Add(20*24*time.Hour)), l)
	f := extract(phone(t0))
	if h.weightOf(f.key[fDevice]) != 0 || h.weightOf(f.key[fIP]) != 0 {
		t.Error("the phone was not forgotten")
	}
	if h.Logins() != 1 {
		t.Errorf("logins %d, want 1", h.Logins())
	}
}

func TestMarkHostile(t *testing.T) {
	h := NewHistory()
	for i := 0; i < 5; i++ {
		h.Learn(home(t0.Add(time.Duration(i)*time.Hour)), Limits{})
	}
	bad := attacker(t0.Add(6 * time.Hour))
	bad.DeviceID = "thief"
	h.Learn(bad, Limits{})
	if h.Logins() != 6 {
		t.Fatal(h.Logins())
	}
	h.MarkHostile(bad)
	if h.Logins() != 5 {
		t.Errorf("logins %d after marking the attack hostile", h.Logins())
	}
	f := extract(bad)
	for _, i := range []fidx{fDevice, fIP, fPrefix, fUA, fASN, fCountry} {
		if !h.isHostile(f.key[i]) {
			t.Errorf("%s not hostile", i)
		}
		if h.weightOf(f.key[i]) != 0 {
			t.Errorf("%s still learned", i)
		}
	}
	for _, i := range []fidx{fOS, fBrowser, fDeviceType} {
		if h.isHostile(f.key[i]) {
			t.Errorf("%s hostile", i)
		}
	}
	if h.geo.unix == bad.Time.Unix() {
		t.Error("the attacker's place is still the last one")
	}
	// The owner's own country is not made hostile by an attack from it.
	local := home(t0.Add(7 * time.Hour))
	local.DeviceID, local.IP = "thief2", netip.MustParseAddr("192.0.2.55")
	h.Learn(local, Limits{})
	h.MarkHostile(local)
	fl := extract(local)
	if h.isHostile(fl.key[fCountry]) || h.isHostile(fl.key[fASN]) {
		t.Error("the owner's country or network became hostile")
	}
	// "This was me" after all: learning clears the marks.
	h.Learn(bad, Limits{})
	if h.isHostile(f.key[fDevice]) || h.isHostile(f.key[fIP]) {
		t.Error("learning did not clear the hostile marks")
	}
	// At most maxHostile marks.
	for i := 0; i < 3*maxHostile; i++ {
		a := attacker(t0.Add(time.Duration(8+i) * time.Hour))
		a.IP = netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
		h.MarkHostile(a)
	}
	if len(h.hostile) > maxHostile {
		t.Errorf("%d hostile values", len(h.hostile))
	}
	last := attacker(t0.Add(time.Duration(8+3*maxHostile-1) * time.Hour))
	last.IP = netip.AddrFrom4([4]byte{198, 18, byte((3*maxHostile - 1) >> 8), byte(3*maxHostile - 1)})
	if !h.isHostile(extract(last).key[fIP]) {
		t.Error("the newest hostile value was dropped")
	}
}

func TestHistoryRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 200; n += 7 {
		h := NewHistory()
		at := t0
		for i := 0; i < n; i++ {
			at = at.Add(time.Duration(r.IntN(72)) * time.Hour)
			a := randomAttempt(r, at)
			h.Learn(a, Limits{})
			if r.IntN(10) == 0 {
				h.MarkHostile(a)
			}
		}
		b := h.Encode()
		d, err := DecodeHistory(b)
		if err != nil {
			t.Fatalf("%d sign-ins: %v", n, err)
		}
		if !bytes.Equal(d.Encode(), b) || d.Logins() != h.Logins() || !d.LastSignIn().Equal(h.LastSignIn()) ||
			d.n != h.n || d.sum != h.sum || d.start != h.start || d.geo != h.geo {
			t.Fatalf("%d sign-ins: the decoded history differs", n)
		}
		e := mustEngine(t, DefaultConfig())
		x := randomAttempt(r, at.Add(time.Hour))
		if a, b := e.Assess(x, h, nil, nil), e.Assess(x, d, nil, nil); a.Score != b.Score || a.Decision != b.Decision {
			t.Fatalf("%d sign-ins: assessed %v before and %v after the round trip", n, a, b)
		}
	}
}

func TestDecodeHistoryErrors(t *testing.T) {
	h := NewHistory()
	h.Learn(home(t0), Limits{})
	h.MarkHostile(attacker(t0.Add(time.Hour)))
	good := h.Encode()
	swapped := append([]byte(nil), good...)
	for _, b := range [][]byte{
		nil, {}, {0}, {2}, {1}, {1, 0}, {1, 0, 4},
		good[:len(good)-1], append(append([]byte(nil), good...), 0),
		func() []byte { b := append([]byte(nil), good...); b[0] = 9; return b }(),
		swapped[:5],
	} {
		if _, err := DecodeHistory(b); err == nil {
			t.Errorf("decoded %x", b)
		}
	}
	// Keys out of order.
	h2 := &History{entries: []entry{{key: 2, weight: 1}, {key: 1, weight: 1}}}
	if _, err := DecodeHistory(h2.Encode()); err == nil {
		t.Error("decoded keys out of order")
	}
	// A feature index past the last.
	h3 := &History{entries: []entry{{key: 0xF << 60, weight: 1}}}
	if _, err := DecodeHistory(h3.Encode()); err == nil {
		t.Error("decoded an unknown feature")
	}
}

func FuzzDecodeHistory(f *testing.F) {
	h := NewHistory()
	for i := 0; i < 20; i++ {
		h.Learn(home(t0.Add(time.Duration(i)*time.Hour)), Limits{})
	}
	h.Learn(phone(t0.Add(21*time.Hour)), Limits{})
	h.MarkHostile(attacker(t0.Add(22 * time.Hour)))
	f.Add(h.Encode())
	f.Add(NewHistory().Encode())
	f.Add([]byte{1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeHistory(b)
		if err != nil {
			return
		}
		// Whatever decodes can be used, and encodes to what decodes the same.
		e := mustEngine(t, DefaultConfig())
		e.Assess(home(t0), d, nil, nil)
		d.Learn(attacker(t0), Limits{})
		d.MarkHostile(attacker(t0))
		again, err := DecodeHistory(d.Encode())
		if err != nil {
			t.Fatalf("re-encoded history does not decode: %v", err)
		}
		if !bytes.Equal(again.Encode(), d.Encode()) {
			t.Fatal("round trip changed the history")
		}
	})
}

// randomAttempt is a sign-in from a small world of places, networks and
// devices, so that values repeat.
func randomAttempt(r *rand.Rand, at time.Time) Attempt {
	places := []mamoru.Place{tokyo, osaka, paris, moscow, {}, {Country: "US", ASN: 7922}}
	devices := []mamoru.Device{chromeWin, safariIOS, firefoxLin, {}, {Type: "unknown"}}
	uas := []string{uaChromeWin, uaSafariIOS, uaFirefoxLin, "", "garbage\x00"}
	d := r.IntN(len(devices))
	a := Attempt{
		Time: at, Place: places[r.IntN(len(places))], Device: devices[d], UserAgent: uas[d],
	}
	switch r.IntN(4) {
	case 0:
		a.IP = netip.AddrFrom4([4]byte{203, 0, byte(r.IntN(4)), byte(r.IntN(8))})
	case 1:
		a.IP = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, byte(r.IntN(3)), 15: byte(r.IntN(5))})
	case 2:
		a.IP = netip.MustParseAddr("10.0.0.1")
	}
	if r.IntN(3) > 0 {
		a.DeviceID = "dev-" + itoa(int64(r.IntN(6)))
	}
	if r.IntN(20) == 0 {
		a.Flags = FlagAttackWave
	}
	return a
}
