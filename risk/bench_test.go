package risk

import (
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// benchAccounts is how many other accounts the benchmark's global counts
// hold, with 3 sign-ins each.
const benchAccounts = 100_000

var (
	benchOnce   sync.Once
	benchGlobal *MemGlobal
)

// bigGlobal returns global counts of benchAccounts accounts, each with its
// own device and address in one of 4,096 /24s over 64 networks and 4
// countries, and one of 4 browsers.
func bigGlobal() *MemGlobal {
	benchOnce.Do(func() {
		g := NewMemGlobal()
		places := []mamoru.Place{tokyo, osaka, paris, moscow}
		devices := []mamoru.Device{chromeWin, chromeWin, safariIOS, firefoxLin}
		uas := []string{uaChromeWin, uaChromeWin, uaSafariIOS, uaFirefoxLin}
		for i := 0; i < benchAccounts; i++ {
			p := places[i%len(places)]
			p.ASN = uint32(64512 + i%64)
			d := i % len(devices)
			a := Attempt{
				Time: t0, IP: netip.AddrFrom4([4]byte{100, byte(i >> 12 & 15), byte(i >> 4), byte(i)}),
				Place: p, Device: devices[d], UserAgent: uas[d], DeviceID: "acct-" + itoa(int64(i)),
			}
			for j := 0; j < 3; j++ {
				g.Add(a)
			}
		}
		benchGlobal = g
	})
	return benchGlobal
}

// benchCase is a warm history (100 sign-ins: home and phone), the global
// counts with it, and the attempts to assess.
func benchCase(b *testing.B) (*Engine, *History, Global, map[string]Attempt) {
	b.Helper()
	end := t0.Add(100 * 24 * time.Hour)
	h := NewHistory()
	g := bigGlobal()
	for i := 0; i < 100; i++ {
		at := end.Add(-time.Duration(99-i) * 24 * time.Hour)
		a := home(at)
		if i%4 == 3 {
			a = phone(at)
		}
		h.Learn(a, Limits{})
	}
	e, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	next := end.Add(3 * time.Hour)
	newDevice := home(next)
	newDevice.DeviceID = ""
	return e, h, g, map[string]Attempt{
		"known":      home(next),
		"new_device": newDevice,
		"attacker":   attacker(end.Add(20 * 24 * time.Hour)),
	}
}

// BenchmarkAssess is a full assessment with a warm history: features
// (hashes, value strings), 9 global count lookups, the score and the
// rules. Place and device come parsed (GeoIP and the UA cache are
// measured in their packages). Run with -cpu 1 for the per-core rate.
func BenchmarkAssess(b *testing.B) {
	e, h, g, attempts := benchCase(b)
	w := NewWindow(time.Hour)
	for _, name := range []string{"known", "new_device", "attacker"} {
		a := attempts[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.Assess(a, h, g, w)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "assess/s")
		})
	}
}

// BenchmarkAssessLatency times each call of a loop over the three kinds
// of attempts and reports percentiles (the timer adds about 50 ns).
func BenchmarkAssessLatency(b *testing.B) {
	e, h, g, attempts := benchCase(b)
	w := NewWindow(time.Hour)
	list := []Attempt{attempts["known"], attempts["known"], attempts["new_device"], attempts["attacker"]}
	d := make([]time.Duration, 0, 1<<20)
	i := 0
	for b.Loop() {
		a := list[i%len(list)]
		i++
		start := time.Now()
		e.Assess(a, h, g, w)
		if len(d) < cap(d) {
			d = append(d, time.Since(start))
		}
	}
	slices.Sort(d)
	pct := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))].Nanoseconds()) }
	b.ReportMetric(pct(0.50), "p50-ns")
	b.ReportMetric(pct(0.99), "p99-ns")
	b.ReportMetric(pct(0.999), "p99.9-ns")
}

// BenchmarkLearn learns a sign-in into a warm history.
func BenchmarkLearn(b *testing.B) {
	_, h, _, attempts := benchCase(b)
	a := attempts["known"]
	b.ReportAllocs()
	for b.Loop() {
		a.Time = a.Time.Add(time.Hour)
		h.Learn(a, Limits{})
	}
}

// BenchmarkHistoryCodec decodes and encodes a warm history, and reports
// its size.
func BenchmarkHistoryCodec(b *testing.B) {
	_, h, _, _ := benchCase(b)
	enc := h.Encode()
	b.ReportAllocs()
	for b.Loop() {
		d, err := DecodeHistory(enc)
		if err != nil {
			b.Fatal(err)
		}
		enc = d.Encode()
	}
	b.ReportMetric(float64(len(enc)), "bytes/account")
}

// TestHistorySize logs the encoded size of histories of 100 sign-ins for
// a few kinds of accounts (go test -run HistorySize -v).
func TestHistorySize(t *testing.T) {
	end := t0.Add(100 * 24 * time.Hour)
	kinds := []struct {
		name string
		at   func(i int, at time.Time) Attempt
		max  int
	}{
		{"one device, one address", func(i int, at time.Time) Attempt { return home(at) }, 150},
		{"laptop at home and a phone", func(i int, at time.Time) Attempt {
			if i%4 == 3 {
				return phone(at)
			}
			return home(at)
		}, 300},
		{"phone on a mobile network: new address each time, monthly browser update", func(i int, at time.Time) Attempt {
			a := phone(at)
			a.IP = netip.AddrFrom4([4]byte{100, 64, byte(i % 7), byte(i)})
			a.UserAgent += " r" + itoa(int64(i/30))
			return a
		}, 2500},
		{"traveller: 10 countries, 3 devices, new address each time", func(i int, at time.Time) Attempt {
			a := home(at)
			a.IP = netip.AddrFrom4([4]byte{198, 18, byte(i), byte(i)})
			a.Place = []mamoru.Place{tokyo, osaka, paris, moscow, {Country: "US", ASN: 7922}, {Country: "DE", ASN: 3320},
				{Country: "GB", ASN: 2856}, {Country: "KR", ASN: 4766}, {Country: "TW", ASN: 3462}, {Country: "SG", ASN: 9506}}[i%10]
			a.DeviceID = "dev-" + itoa(int64(i%3))
			return a
		}, 3500},
	}
	for _, k := range kinds {
		h := NewHistory()
		for i := 0; i < 100; i++ {
			h.Learn(k.at(i, end.Add(-time.Duration(99-i)*24*time.Hour)), Limits{})
		}
		n := len(h.Encode())
		t.Logf("%-75s %4d values %5d bytes", k.name, len(h.entries), n)
		if n > k.max {
			t.Errorf("%s: %d bytes, want at most %d", k.name, n, k.max)
		}
	}
}
