package useragent

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/mamoru-id/mamoru"
)

const (
	chromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	safariIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1"
	firefoxLinux  = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	safariMac     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
	safariIPad    = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
	chromeAndroid = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36"
	edgeWindows   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86"
	googlebot     = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

	safariIPhone17   = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"
	safariIPad17     = "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"
	firefoxWindows   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
	firefoxUbuntu    = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	samsungPhone     = "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36"
	samsungTablet    = "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Safari/537.36"
	chromeAndroidRed = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
	chromeTablet     = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	firefoxTablet    = "Mozilla/5.0 (Android 14; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0"
	chromeIOS        = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1"
	chromeMac        = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	chromeOS         = "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	chromeWindows7   = "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36"
	headlessChrome   = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36"
)

// dev builds a Device.
func dev(browser, bv, os, osv, typ string) mamoru.Device {
	return mamoru.Device{Browser: browser, BrowserVersion: bv, OS: os, OSVersion: osv, Type: typ}
}

func TestParse(t *testing.T) {
	tests := []struct {
		ua    string
		want  mamoru.Device
		str   string
		label string
	}{
		{chromeWindows, dev("Chrome", "131", "Windows", "10", TypeDesktop), "Chrome 131 on Windows 10", "Chrome 131 (Windows 10)"},
		{safariIPhone, dev("Safari", "17", "iOS", "17", TypeMobile), "Safari 17 on iOS 17", "Safari 17 (iOS 17)"},
		{firefoxLinux, dev("Firefox", "133", "Linux", "", TypeDesktop), "Firefox 133 on Linux", "Firefox 133 (Linux)"},
		{safariMac, dev("Safari", "17", "macOS", "", TypeDesktop), "Safari 17 on macOS", "Safari 17 (macOS)"},
		{safariIPad, dev("Safari", "16", "iOS", "16", TypeTablet), "Safari 16 on iOS 16", "Safari 16 (iOS 16)"},
		{chromeAndroid, dev("Chrome", "131", "Android", "14", TypeMobile), "Chrome 131 on Android 14", "Chrome 131 (Android 14)"},
		{edgeWindows, dev("Edge", "131", "Windows", "10", TypeDesktop), "Edge 131 on Windows 10", "Edge 131 (Windows 10)"},
		{googlebot, dev("Googlebot", "2", "", "", TypeBot), "Googlebot 2", "Googlebot 2"},
		{"curl/8.5.0", dev("curl", "8", "", "", TypeBot), "curl 8", "curl 8"},
		{"Go-http-client/1.1", dev("Go-http-client", "1", "", "", TypeBot), "Go-http-client 1", "Go-http-client 1"},
		{"", mamoru.Device{Type: TypeUnknown}, "unknown", ""},
		{"   ", mamoru.Device{Type: TypeUnknown}, "unknown", ""},
		{"garbage ### !!!", mamoru.Device{Type: TypeUnknown}, "unknown", ""},
		{"<script>alert(1)</script>/1.0", mamoru.Device{Type: TypeUnknown}, "unknown", ""},
		{"\xff\xfe\x00\x80 /1.0 (\xc3", mamoru.Device{Type: TypeUnknown}, "unknown", ""},
		{"Mozilla/5.0", mamoru.Device{Type: TypeUnknown}, "unknown", ""},
		// Modern browsers.
		{safariIPhone17, dev("Safari", "17", "iOS", "17", TypeMobile), "Safari 17 on iOS 17", "Safari 17 (iOS 17)"},
		{safariIPad17, dev("Safari", "17", "iOS", "17", TypeTablet), "Safari 17 on iOS 17", "Safari 17 (iOS 17)"},
		{firefoxWindows, dev("Firefox", "133", "Windows", "10", TypeDesktop), "Firefox 133 on Windows 10", "Firefox 133 (Windows 10)"},
		{firefoxUbuntu, dev("Firefox", "133", "Linux", "", TypeDesktop), "Firefox 133 on Linux", "Firefox 133 (Linux)"},
		{samsungPhone, dev("Samsung Browser", "26", "Android", "14", TypeMobile), "Samsung Browser 26 on Android 14", "Samsung Browser 26 (Android 14)"},
		{samsungTablet, dev("Samsung Browser", "26", "Android", "14", TypeTablet), "Samsung Browser 26 on Android 14", "Samsung Browser 26 (Android 14)"},
		{chromeAndroidRed, dev("Chrome", "131", "Android", "", TypeMobile), "Chrome 131 on Android", "Chrome 131 (Android)"},
		{chromeTablet, dev("Chrome", "131", "Android", "", TypeTablet), "Chrome 131 on Android", "Chrome 131 (Android)"},
		{firefoxTablet, dev("Firefox", "133", "Android", "14", TypeTablet), "Firefox 133 on Android 14", "Firefox 133 (Android 14)"},
		{chromeIOS, dev("Chrome", "131", "iOS", "17", TypeMobile), "Chrome 131 on iOS 17", "Chrome 131 (iOS 17)"},
		{chromeMac, dev("Chrome", "131", "macOS", "", TypeDesktop), "Chrome 131 on macOS", "Chrome 131 (macOS)"},
		{chromeOS, dev("Chrome", "131", "ChromeOS", "", TypeDesktop), "Chrome 131 on ChromeOS", "Chrome 131 (ChromeOS)"},
		{chromeWindows7, dev("Chrome", "109", "Windows", "7", TypeDesktop), "Chrome 109 on Windows 7", "Chrome 109 (Windows 7)"},
		{headlessChrome, dev("Headless Chrome", "131", "Linux", "", TypeBot), "Headless Chrome 131 on Linux", "Headless Chrome 131 (Linux)"},
		// Tools.
		{"python-requests/2.32.3", dev("python-requests", "2", "", "", TypeBot), "python-requests 2", "python-requests 2"},
		{"Go-http-client/2.0", dev("Go-http-client", "2", "", "", TypeBot), "Go-http-client 2", "Go-http-client 2"},
		{"Java/17.0.2", dev("Java", "17", "", "", TypeBot), "Java 17", "Java 17"},
		{"Your account is locked, call 555-0100/1.0", mamoru.Device{Type: TypeUnknown}, "unknown", ""},
	}
	for _, tt := range tests {
		got := Parse(tt.ua)
		if got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.ua, got, tt.want)
		}
		if s := Describe(got); s != tt.str {
			t.Errorf("Describe(Parse(%q)) = %q, want %q", tt.ua, s, tt.str)
		}
		if l := label(got); l != tt.label {
			t.Errorf("Label(Parse(%q)) = %q, want %q", tt.ua, l, tt.label)
		}
	}
}

func TestParseLongInput(t *testing.T) {
	long := chromeWindows + strings.Repeat("x", 10<<10)
	if d := Parse(long); d.Browser != "Chrome" || d.OS != "Windows" {
		t.Errorf("10 KB UA with a real prefix: %+v", d)
	}
	junk := strings.Repeat("A/1.0 (", 10<<10/7)
	if d := Parse(junk); d.Known() {
		t.Errorf("10 KB junk: %+v", d)
	}
	// Truncation keeps UTF-8 valid.
	s := strings.Repeat("a", MaxInput-1) + "日本"
	if got := truncate(s); len(got) > MaxInput || !utf8.ValidString(got) {
		t.Errorf("truncate: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if got := truncate("short"); got != "short" {
		t.Errorf("truncate(short) = %q", got)
	}
}

func TestCacheBounded(t *testing.T) {
	p := NewParser(10)
	for i := range 100 {
		p.Parse(fmt.Sprintf("curl/%d.0", i))
	}
	if n := p.Len(); n > 20 {
		t.Errorf("cache holds %d entries, want at most 20", n)
	}
	// A hit returns the same as a miss.
	a := p.Parse(chromeWindows)
	b := p.Parse(chromeWindows)
	if a != b || a.Browser != "Chrome" {
		t.Errorf("cached %+v, fresh %+v", b, a)
	}
	// Caching disabled still parses.
	if d := NewParser(0).Parse(safariIPhone); d.OS != "iOS" {
		t.Errorf("uncached: %+v", d)
	}
}

func TestCacheConcurrent(t *testing.T) {
	p := NewParser(4)
	uas := []string{chromeWindows, safariIPhone, firefoxLinux, safariMac, safariIPad, chromeAndroid, edgeWindows, googlebot, "curl/8.5.0"}
	want := make([]mamoru.Device, len(uas))
	for i, u := range uas {
		want[i] = parse(u)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				k := (i + g) % len(uas)
				if d := p.Parse(uas[k]); d != want[k] {
					t.Errorf("Parse(%q) = %+v, want %+v", uas[k], d, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkParseCached(b *testing.B) {
	Parse(chromeWindows)
	b.ReportAllocs()
	for b.Loop() {
		Parse(chromeWindows)
	}
}

func BenchmarkParseUncached(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		parse(chromeWindows)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{chromeWindows, safariIPhone, "", "curl/8", "\xff\xfe/1.0", "Mozilla/5.0 (("} {
		f.Add(s)
	}
	p := NewParser(16)
	f.Fuzz(func(t *testing.T, s string) {
		d := p.Parse(s)
		switch d.Type {
		case TypeDesktop, TypeMobile, TypeTablet, TypeBot, TypeUnknown:
		default:
			t.Fatalf("type %q", d.Type)
		}
		if d.Known() != (label(d) != "") {
			t.Fatalf("Known %v but label %q", d.Known(), label(d))
		}
		if d.Known() == (Describe(d) == "unknown") {
			t.Fatalf("Known %v but Describe %q", d.Known(), Describe(d))
		}
	})
}

// label is a device from product names only, "Chrome 131 (Windows 10)",
// "curl 8", "Windows 10" or "": the parse results of the table in one
// string.
func label(d mamoru.Device) string {
	b, o := browser(d), system(d)
	switch {
	case b != "" && o != "":
		return b + " (" + o + ")"
	case b != "":
		return b
	default:
		return o
	}
}
