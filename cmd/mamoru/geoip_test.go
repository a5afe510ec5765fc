package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mamoru-id/mamoru/geoip/geoiptest"
)

func TestGeoIPLookup(t *testing.T) {
	city, asn := geoiptest.Fixture(t)
	out, errOut, err := cli(t, "", nil, "geoip", "lookup", "--city-db", city, "--asn-db", asn,
		geoiptest.Tokyo, geoiptest.Frankfurt, geoiptest.Google, geoiptest.Unknown, "10.0.0.1", "::ffff:81.2.69.142")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	for i, want := range [][]string{
		{"106.128.1.1", "JP", "Tokyo (東京都)", "Shinjuku (新宿区)", "35.6938,139.7034 ±20 km", "AS2516 KDDI CORPORATION"},
		{"2a02:ff0::1", "DE", "Hesse (ヘッセン州)", "Frankfurt am Main (フランクフルト)", "50.1109,8.6821 ±100 km", "AS9009 M247 Europe SRL"},
		{"8.8.8.8", "US", "-", "-", "-", "AS15169 GOOGLE"},
		{"5.5.5.5", "unknown"},
		{"10.0.0.1", "not a public address"},
		{"81.2.69.142", "GB", "London (ロンドン)", "AS9009 M247 Europe SRL"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("line %d %q lacks %q", i, lines[i], w)
			}
		}
	}
	if !strings.Contains(errOut, "# city "+geoiptest.CityType) || !strings.Contains(errOut, "# asn "+geoiptest.ASNType) {
		t.Errorf("database info on stderr: %q", errOut)
	}

	// JSON, flags after the addresses, databases from the environment.
	out, _, err = cli(t, "", map[string]string{"MAMORU_GEOIP_CITY_DB": city, "MAMORU_GEOIP_ASN_DB": asn},
		"geoip", "lookup", geoiptest.Osaka, "--json", "192.168.1.1")
	if err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%q", out)
	}
	var got struct {
		IP       string  `json:"ip"`
		Public   bool    `json:"public"`
		Known    bool    `json:"known"`
		Country  string  `json:"country"`
		RegionJA string  `json:"region_ja"`
		CityJA   string  `json:"city_ja"`
		Lat      float64 `json:"lat"`
		ASN      uint32  `json:"asn"`
		Org      string  `json:"org"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got.IP != geoiptest.Osaka || !got.Public || !got.Known || got.Country != "JP" || got.RegionJA != "大阪府" || got.CityJA != "大阪市" ||
		got.Lat != 34.6937 || got.ASN != 2516 || got.Org != "KDDI CORPORATION" {
		t.Errorf("%s", lines[0])
	}
	if lines[1] != `{"ip":"192.168.1.1","public":false,"known":false}` {
		t.Errorf("%s", lines[1])
	}

	// The configuration file names the databases.
	cfgPath := filepath.Join(t.TempDir(), "mamoru.yaml")
	os.WriteFile(cfgPath, []byte("geoip:\n  city_db: "+city+"\n"), 0o600)
	if out, _, err := cli(t, "", nil, "geoip", "lookup", "--config", cfgPath, geoiptest.NewYork); err != nil ||
		!strings.Contains(out, "New York (ニューヨーク)") || strings.Contains(out, "AS16509") {
		t.Errorf("city database from the file: %q %v", out, err)
	}
}

func TestGeoIPLookupErrors(t *testing.T) {
	city, asn := geoiptest.Fixture(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"geoip"}, 2, "usage"},
		{[]string{"geoip", "find", "8.8.8.8"}, 2, "usage"},
		{[]string{"geoip", "lookup", "--city-db", city}, 2, "usage"},
		{[]string{"geoip", "lookup", "--nope", "8.8.8.8"}, 2, "not defined"},
		{[]string{"geoip", "lookup", "8.8.8.8"}, 1, "no GeoIP database"},
		{[]string{"geoip", "lookup", "--city-db", asn, "8.8.8.8"}, 1, "want a city database"},
		{[]string{"geoip", "lookup", "--asn-db", filepath.Join(t.TempDir(), "missing.mmdb"), "8.8.8.8"}, 1, "no such file"},
		{[]string{"geoip", "lookup", "--city-db", city, "8.8.8.8", "nope", "1.2.3"}, 1, `not an IP address: "nope", "1.2.3"`},
	} {
		_, _, err := cli(t, "", nil, tc.args...)
		if err == nil || exitCode(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v (exit %d), want exit %d and %q", tc.args, err, exitCode(err), tc.code, tc.want)
		}
	}
}

func TestConfigProxiesAndGeoIP(t *testing.T) {
	if cfg := DefaultConfig(); cfg.ProxyHeader != "X-Forwarded-For" || cfg.TrustedProxies != nil || cfg.GeoIP != (GeoIPConfig{}) {
		t.Fatalf("defaults: %+v", cfg)
	}
	path := filepath.Join(t.TempDir(), "mamoru.yaml")
	os.WriteFile(path, []byte("trusted_proxies: [10.0.0.0/8, 192.0.2.10]\nproxy_header: Forwarded\ngeoip:\n  city_db: /var/lib/GeoIP/GeoLite2-City.mmdb\n"), 0o600)
	cfg, err := LoadConfig(path, env(map[string]string{"MAMORU_GEOIP_ASN_DB": "/var/lib/GeoIP/GeoLite2-ASN.mmdb"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(cfg.TrustedProxies) != 2 || cfg.ProxyHeader != "Forwarded" ||
		cfg.GeoIP.CityDB != "/var/lib/GeoIP/GeoLite2-City.mmdb" || cfg.GeoIP.ASNDB != "/var/lib/GeoIP/GeoLite2-ASN.mmdb" {
		t.Fatalf("%+v", cfg)
	}

	// The environment: a comma-separated list.
	cfg, err = LoadConfig(path, env(map[string]string{"MAMORU_TRUSTED_PROXIES": " 172.16.0.0/12,, 2001:db8::/32 ", "MAMORU_PROXY_HEADER": "x-forwarded-for"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.TrustedProxies, "|") != "172.16.0.0/12|2001:db8::/32" {
		t.Fatalf("%q", cfg.TrustedProxies)
	}
	r, err := clientIPResolver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "172.16.0.5:443"
	req.Header.Set("X-Forwarded-For", "6.6.6.6, 198.51.100.7")
	if ip := r.ClientIP(req); ip.String() != "198.51.100.7" {
		t.Errorf("ClientIP = %v", ip)
	}

	cfg = DefaultConfig()
	cfg.TrustedProxies = []string{"10.0.0.0/8", "proxy.internal", "10.0.0.1/8"}
	cfg.ProxyHeader = "X-Real-IP"
	err = cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "trusted_proxies:") || !strings.Contains(err.Error(), "proxy.internal") ||
		!strings.Contains(err.Error(), "did you mean 10.0.0.0/8?") || !strings.Contains(err.Error(), "proxy_header:") {
		t.Fatalf("%v", err)
	}
	cfg.ProxyHeader = ""
	cfg.TrustedProxies = nil
	if err := cfg.Validate(); err != nil {
		t.Fatalf("no proxies, no header: %v", err)
	}
}
