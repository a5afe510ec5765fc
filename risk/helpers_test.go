package risk

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// t0 is the time of the first sign-in of test histories.
var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

const (
	uaChromeWin  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	uaSafariIOS  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	uaFirefoxLin = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
)

var (
	chromeWin  = mamoru.Device{Browser: "Chrome", BrowserVersion: "131", OS: "Windows", OSVersion: "10", Type: "desktop"}
	safariIOS  = mamoru.Device{Browser: "Safari", BrowserVersion: "17", OS: "iOS", OSVersion: "17", Type: "mobile"}
	firefoxLin = mamoru.Device{Browser: "Firefox", BrowserVersion: "133", OS: "Linux", Type: "desktop"}

	tokyo  = mamoru.Place{Country: "JP", Region: "Tokyo", City: "Shinjuku", Latitude: 35.69, Longitude: 139.70, HasCoords: true, RadiusKM: 20, ASN: 2516, Org: "KDDI Corporation"}
	osaka  = mamoru.Place{Country: "JP", Region: "Osaka", City: "Osaka", Latitude: 34.69, Longitude: 135.50, HasCoords: true, RadiusKM: 20, ASN: 4713, Org: "NTT Communications"}
	moscow = mamoru.Place{Country: "RU", Region: "Moscow", City: "Moscow", Latitude: 55.75, Longitude: 37.62, HasCoords: true, RadiusKM: 50, ASN: 12389, Org: "Rostelecom"}
	paris  = mamoru.Place{Country: "FR", Region: "Île-de-France", City: "Paris", Latitude: 48.86, Longitude: 2.35, HasCoords: true, RadiusKM: 20, ASN: 3215, Org: "Orange"}
)

// home is the owner's usual sign-in at time t.
func home(t time.Time) Attempt {
	return Attempt{
		Time: t, IP: netip.MustParseAddr("203.0.113.7"), Place: tokyo,
		Device: chromeWin, UserAgent: uaChromeWin, DeviceID: "dev-home-laptop",
	}
}

// phone is the owner's phone on a mobile network at time t.
func phone(t time.Time) Attempt {
	return Attempt{
		Time: t, IP: netip.MustParseAddr("2001:db8:1:2::42"), Place: tokyo,
		Device: safariIOS, UserAgent: uaSafariIOS, DeviceID: "dev-phone",
	}
}

// attacker is a sign-in from Moscow on a new Linux machine at time t.
func attacker(t time.Time) Attempt {
	return Attempt{
		Time: t, IP: netip.MustParseAddr("198.51.100.66"), Place: moscow,
		Device: firefoxLin, UserAgent: uaFirefoxLin,
	}
}

// warm returns a history of n sign-ins: mostly home, every fourth on the
// phone, a day apart ending at end, and a global with them and many
// other accounts' sign-ins.
func warm(t testing.TB, n int, end time.Time) (*History, *MemGlobal) {
	h := NewHistory()
	g := basePopulation().clone()
	for i := 0; i < n; i++ {
		at := end.Add(-time.Duration(n-1-i) * 24 * time.Hour)
		a := home(at)
		if i%4 == 3 {
			a = phone(at)
		}
		h.Learn(a, Limits{})
		g.Add(a)
	}
	return h, g
}

var (
	baseOnce sync.Once
	base     *MemGlobal
)

// basePopulation is population(2000), made once; clone it to add to it.
func basePopulation() *MemGlobal {
	baseOnce.Do(func() { base = population(2000) })
	return base
}

// clone returns a copy of g.
func (g *MemGlobal) clone() *MemGlobal {
	g.mu.RLock()
	defer g.mu.RUnlock()
	c := NewMemGlobal()
	c.total = g.total
	for i, m := range g.counts {
		for k, v := range m {
			c.counts[i][k] = v
		}
	}
	return c
}

// population returns a MemGlobal with the sign-ins of n other accounts,
// spread over a few countries, networks and devices.
func population(n int) *MemGlobal {
	g := NewMemGlobal()
	places := []mamoru.Place{tokyo, tokyo, tokyo, osaka, osaka, paris, moscow}
	devices := []mamoru.Device{chromeWin, chromeWin, safariIOS, firefoxLin}
	uas := []string{uaChromeWin, uaChromeWin, uaSafariIOS, uaFirefoxLin}
	for i := 0; i < n; i++ {
		p := places[i%len(places)]
		d := i % len(devices)
		ip := netip.AddrFrom4([4]byte{100, byte(i >> 8), byte(i), 1})
		for j := 0; j < 5; j++ {
			g.Add(Attempt{Time: t0, IP: ip, Place: p, Device: devices[d], UserAgent: uas[d], DeviceID: "acct-" + itoa(int64(i))})
		}
	}
	return g
}

func mustEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
