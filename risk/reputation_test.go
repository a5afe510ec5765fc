package risk

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	w := NewWindow(time.Hour)
	ip := netip.MustParseAddr("198.51.100.66")
	start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 300; i++ {
		w.Fail(ip, 12389, start.Add(time.Duration(i)*time.Second))
	}
	w.Fail(netip.MustParseAddr("198.51.100.67"), 12389, start)
	tests := []struct {
		at       time.Duration
		ip, asn  int
		tolerant bool
	}{
		{at: 5 * time.Minute, ip: 300, asn: 301},
		{at: 59 * time.Minute, ip: 300, asn: 301},
		{at: 90 * time.Minute, ip: 150, asn: 150, tolerant: true}, // half of the previous hour still in the window
		{at: 2*time.Hour + time.Second, ip: 0, asn: 0},
		{at: 10 * time.Hour, ip: 0, asn: 0},
	}
	for _, tt := range tests {
		now := start.Add(tt.at)
		gotIP, gotASN := w.IPFailures(ip, now), w.ASNFailures(12389, now)
		ok := gotIP == tt.ip && gotASN == tt.asn
		if tt.tolerant {
			ok = abs(gotIP-tt.ip) <= 10 && abs(gotASN-tt.asn) <= 10
		}
		if !ok {
			t.Errorf("after %v: ip %d asn %d, want %d %d", tt.at, gotIP, gotASN, tt.ip, tt.asn)
		}
	}
	if w.IPFailures(netip.Addr{}, start) != 0 || w.ASNFailures(0, start) != 0 || w.IPFailures(netip.MustParseAddr("192.0.2.1"), start) != 0 {
		t.Error("counts for unknown keys")
	}
	// IPv4-mapped addresses count as IPv4; IPv6 counts per /64.
	if got := w.IPFailures(netip.MustParseAddr("::ffff:198.51.100.66"), start.Add(time.Minute)); got != 300 {
		t.Errorf("mapped: %d", got)
	}
	w.Fail(netip.MustParseAddr("2001:db8:1:2::1"), 0, start)
	w.Fail(netip.MustParseAddr("2001:db8:1:2:ffff::9"), 0, start)
	if got := w.IPFailures(netip.MustParseAddr("2001:db8:1:2::77"), start); got != 2 {
		t.Errorf("IPv6 /64: %d", got)
	}
	if got := w.IPFailures(netip.MustParseAddr("2001:db8:1:3::1"), start); got != 0 {
		t.Errorf("another /64: %d", got)
	}
	// A late report for the previous window still counts; older ones not.
	w2 := NewWindow(time.Minute)
	w2.Fail(ip, 0, start.Add(2*time.Minute))
	w2.Fail(ip, 0, start.Add(90*time.Second))
	w2.Fail(ip, 0, start)
	if got := w2.IPFailures(ip, start.Add(2*time.Minute)); got != 2 {
		t.Errorf("late reports: %d", got)
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func TestWindowBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a window")
	}
	w := NewWindow(time.Minute)
	start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for i := 0; i < MaxWindowKeys+5000; i++ {
		w.Fail(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint32(i+1), start)
	}
	if len(w.ips) > MaxWindowKeys || len(w.asn) > MaxWindowKeys {
		t.Errorf("%d addresses, %d networks", len(w.ips), len(w.asn))
	}
	// Expired keys go first.
	w.Fail(netip.MustParseAddr("192.0.2.1"), 0, start.Add(time.Hour))
	for i := 0; i < MaxWindowKeys; i++ {
		w.Fail(netip.AddrFrom4([4]byte{11, byte(i >> 16), byte(i >> 8), byte(i)}), 0, start.Add(time.Hour))
	}
	if len(w.ips) > MaxWindowKeys {
		t.Errorf("%d addresses", len(w.ips))
	}
}

func TestWindowConcurrent(t *testing.T) {
	w := NewWindow(time.Hour)
	ip := netip.MustParseAddr("198.51.100.66")
	start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				w.Fail(ip, 1, start)
				w.IPFailures(ip, start)
			}
		}()
	}
	wg.Wait()
	if got := w.IPFailures(ip, start); got != 2000 {
		t.Errorf("got %d", got)
	}
}

func TestMemGlobalConcurrent(t *testing.T) {
	g := NewMemGlobal()
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				g.Add(home(t0))
				g.Count(FeatureCountry, "JP")
			}
		}()
	}
	wg.Wait()
	if g.Total() != 800 || g.Count(FeatureCountry, "JP") != 800 || g.Count("nope", "JP") != 0 {
		t.Errorf("total %d, JP %d", g.Total(), g.Count(FeatureCountry, "JP"))
	}
	v := Values(home(t0))
	for f, val := range v {
		if g.Count(f, val) != 800 {
			t.Errorf("%s: %d", f, g.Count(f, val))
		}
	}
}
