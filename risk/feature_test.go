package risk

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/mamoru-id/mamoru"
)

func TestValues(t *testing.T) {
	tests := []struct {
		name string
		a    Attempt
		want map[Feature]string // "*" checks presence only
	}{
		{name: "IPv4, place, device", a: home(t0), want: map[Feature]string{
			FeatureIP: "203.0.113.7", FeaturePrefix: "203.0.113.0/24", FeatureASN: "2516", FeatureCountry: "JP",
			FeatureRegion: "JP/Tokyo", FeatureCity: "JP/Tokyo/Shinjuku", FeatureUA: "*", FeatureDeviceType: "desktop",
			FeatureOS: "desktop/Windows", FeatureBrowser: "desktop/Windows/Chrome", FeatureDevice: "*",
		}},
		{name: "IPv6 keeps its /48", a: Attempt{IP: netip.MustParseAddr("2001:db8:1:2::42")}, want: map[Feature]string{
			FeatureIP: "2001:db8:1:2::42", FeaturePrefix: "2001:db8:1::/48",
		}},
		{name: "IPv4-mapped IPv6 is IPv4", a: Attempt{IP: netip.MustParseAddr("::ffff:192.0.2.1")}, want: map[Feature]string{
			FeatureIP: "192.0.2.1", FeaturePrefix: "192.0.2.0/24",
		}},
		{name: "zone dropped", a: Attempt{IP: netip.MustParseAddr("fe80::1%eth0")}, want: map[Feature]string{
			FeatureIP: "fe80::1", FeaturePrefix: "fe80::/48",
		}},
		{name: "private IP, no place", a: Attempt{IP: netip.MustParseAddr("10.0.0.1")}, want: map[Feature]string{
			FeatureIP: "10.0.0.1", FeaturePrefix: "10.0.0.0/24",
		}},
		{name: "nothing known", a: Attempt{}, want: map[Feature]string{}},
		{name: "unknown device type", a: Attempt{Device: mamoru.Device{Type: "unknown"}}, want: map[Feature]string{}},
		{name: "lower-case country", a: Attempt{Place: mamoru.Place{Country: "jp", Region: "Tokyo"}}, want: map[Feature]string{
			FeatureCountry: "JP", FeatureRegion: "JP/Tokyo",
		}},
		{name: "invalid country, and a region without one", a: Attempt{Place: mamoru.Place{Country: "Japan", Region: "Tokyo", City: "X"}}, want: map[Feature]string{}},
		{name: "browser without OS", a: Attempt{Device: mamoru.Device{Browser: "curl", Type: "bot"}}, want: map[Feature]string{
			FeatureDeviceType: "bot", FeatureBrowser: "bot//curl",
		}},
		{name: "garbage User-Agent", a: Attempt{UserAgent: "\x00\xff\xfe" + strings.Repeat("A", 5000)}, want: map[Feature]string{FeatureUA: "*"}},
		{name: "blank User-Agent", a: Attempt{UserAgent: "  \t"}, want: map[Feature]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Values(tt.a)
			if len(got) != len(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for f, w := range tt.want {
				if v, ok := got[f]; !ok || w != "*" && v != w {
					t.Errorf("%s = %q, want %q", f, v, w)
				}
			}
		})
	}
}

func TestValuesHideRawInputs(t *testing.T) {
	a := home(t0)
	a.DeviceID = "secret-device-id"
	v := Values(a)
	if len(v[FeatureUA]) != 16 || len(v[FeatureDevice]) != 16 {
		t.Errorf("ua %q, device %q: want 16 hex digits", v[FeatureUA], v[FeatureDevice])
	}
	h := NewHistory()
	h.Learn(a, Limits{})
	h.MarkHostile(a)
	h.Learn(a, Limits{})
	b := string(h.Encode())
	for _, raw := range []string{a.UserAgent[:20], "secret-device-id", "Chrome", "Windows", "Tokyo"} {
		if strings.Contains(b, raw) {
			t.Errorf("the encoded history holds %q", raw)
		}
	}
	// The UA is cut where the useragent package stops parsing.
	long := Attempt{UserAgent: strings.Repeat("x", maxUA) + "tail"}
	short := Attempt{UserAgent: strings.Repeat("x", maxUA)}
	if Values(long)[FeatureUA] != Values(short)[FeatureUA] {
		t.Error("bytes past maxUA change the ua value")
	}
}

func TestHistoryKeys(t *testing.T) {
	f := extract(home(t0))
	seen := map[uint64]bool{}
	for i, k := range f.key {
		switch fidx(i) {
		case fRegion, fCity:
			if k != 0 {
				t.Errorf("%s has a key", fidx(i))
			}
			continue
		}
		if k == 0 || keyFeature(k) != fidx(i) || seen[k] {
			t.Errorf("%s: key %#x", fidx(i), k)
		}
		seen[k] = true
	}
}
