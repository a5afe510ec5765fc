// Package useragent turns a User-Agent header into a mamoru.Device: browser, OS,
// their major versions and a device type, for the session and sign-in
// history pages and for risk features. It wraps
// github.com/mileusna/useragent and caches results, since the same
// headers repeat.
//
// A User-Agent is whatever the client chose to send, so this package never
// passes its text through: browser and OS names come from fixed lists, and
// anything else is unknown. It must not contain user-facing text (the
// display package words devices for people) or do I/O.
package useragent

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/mamoru-id/mamoru"
	ua "github.com/mileusna/useragent"
)

// MaxInput is how many bytes of a User-Agent are parsed; the rest is
// ignored. Real headers are far shorter.
const MaxInput = 512

// The device types (mamoru.Device.Type).
const (
	TypeDesktop = "desktop"
	TypeMobile  = "mobile"
	TypeTablet  = "tablet"
	TypeBot     = "bot" // crawlers, headless browsers, command-line and library HTTP clients
	TypeUnknown = "unknown"
)

// Describe describes a device for logs, in English: "Chrome 131 on
// Windows 10", "Safari 17 on iOS 17", "curl 8", "Linux", or "unknown". It
// is not for people to read in the UI (the display package words devices
// in the reader's language).
func Describe(d mamoru.Device) string {
	b, o := browser(d), system(d)
	switch {
	case b != "" && o != "":
		return b + " on " + o
	case b != "":
		return b
	case o != "":
		return o
	default:
		return "unknown"
	}
}

// browser returns "Name Major", "Name", or "".
func browser(d mamoru.Device) string { return join(d.Browser, d.BrowserVersion) }

// system returns "Name Major", "Name", or "".
func system(d mamoru.Device) string { return join(d.OS, d.OSVersion) }

func join(name, version string) string {
	if name == "" || version == "" {
		return name
	}
	return name + " " + version
}

// Browsers whose names are reported; any other name is unknown.
var browsers = map[string]string{
	ua.Chrome:           "Chrome",
	ua.HeadlessChrome:   "Headless Chrome",
	ua.Firefox:          "Firefox",
	ua.Safari:           "Safari",
	ua.MobileSafari:     "Safari",
	ua.Edge:             "Edge",
	ua.Opera:            "Opera",
	ua.OperaMini:        "Opera Mini",
	ua.OperaTouch:       "Opera Touch",
	ua.Vivaldi:          "Vivaldi",
	ua.InternetExplorer: "Internet Explorer",
	ua.SamsungBrowser:   "Samsung Browser",
	ua.FacebookApp:      "Facebook App",
	ua.InstagramApp:     "Instagram App",
	ua.TiktokApp:        "TikTok App",
	"YaBrowser":         "Yandex Browser",
	"UCBrowser":         "UC Browser",
	"Brave":             "Brave",
	"DuckDuckGo":        "DuckDuckGo",
	"Silk":              "Silk",
}

// Non-browser clients: reported by name, typed as bots.
var tools = map[string]string{
	"curl":                 "curl",
	"Wget":                 "Wget",
	"Go-http-client":       "Go-http-client",
	"python-requests":      "python-requests",
	"python-urllib":        "Python-urllib",
	"Python-urllib":        "Python-urllib",
	"okhttp":               "okhttp",
	"axios":                "axios",
	"node-fetch":           "node-fetch",
	"PostmanRuntime":       "Postman",
	"HTTPie":               "HTTPie",
	"Java":                 "Java",
	"Apache-HttpClient":    "Apache-HttpClient",
	ua.Googlebot:           "Googlebot",
	ua.Bingbot:             "Bingbot",
	ua.Applebot:            "Applebot",
	ua.YandexBot:           "YandexBot",
	ua.Twitterbot:          "Twitterbot",
	ua.GoogleAdsBot:        "Google Ads Bot",
	ua.YandexAdNet:         "YandexAdNet",
	ua.FacebookExternalHit: "facebookexternalhit",
}

// Operating systems whose names are reported.
var systems = map[string]string{
	ua.Windows:      "Windows",
	ua.WindowsPhone: "Windows Phone",
	ua.Android:      "Android",
	ua.MacOS:        "macOS",
	ua.IOS:          "iOS",
	ua.Linux:        "Linux",
	ua.FreeBSD:      "FreeBSD",
	ua.ChromeOS:     "ChromeOS",
	ua.BlackBerry:   "BlackBerry",
	ua.Harmony:      "HarmonyOS",
}

// parse does the work of Parse without the cache.
func parse(s string) mamoru.Device {
	u := ua.Parse(s)
	var d mamoru.Device
	if name, ok := browsers[u.Name]; ok {
		d.Browser = name
	} else if name, ok := tools[u.Name]; ok {
		d.Browser = name
		u.Bot = true
	}
	if d.Browser != "" && u.VersionNo.Major > 0 {
		d.BrowserVersion = strconv.Itoa(u.VersionNo.Major)
	}
	if name, ok := systems[u.OS]; ok {
		d.OS = name
		switch {
		case name == "macOS":
			// Browsers freeze it at 10.15.7; it says nothing.
		case name == "Windows":
			d.OSVersion = windowsVersions[u.OSVersion]
		case name == "Android" && strings.Contains(s, "Android 10; K)"):
			// The reduced User-Agent of Chrome 110 and later: the version
			// is frozen at 10 and the model at K; it says nothing.
		case u.OSVersionNo.Major > 0:
			d.OSVersion = strconv.Itoa(u.OSVersionNo.Major)
		}
		if name == "Android" && u.Mobile && !strings.Contains(s, "Mobile") {
			// Android browsers say "Mobile" on phones only; the library
			// calls every Android device a phone unless it says "Tablet".
			u.Mobile, u.Tablet = false, true
		}
	}
	switch {
	case u.Bot:
		d.Type = TypeBot
	case u.Tablet:
		d.Type = TypeTablet
	case u.Mobile:
		d.Type = TypeMobile
	case u.Desktop && d.Known():
		d.Type = TypeDesktop
	default:
		d.Type = TypeUnknown
	}
	return d
}

// windowsVersions names Windows NT versions. "Windows NT 10.0" is also
// what Windows 11 sends (the User-Agent cannot tell them apart).
var windowsVersions = map[string]string{
	"10.0": "10", "6.3": "8.1", "6.2": "8", "6.1": "7", "6.0": "Vista", "5.2": "XP", "5.1": "XP",
	"XP": "XP", "Vista": "Vista",
}

// truncate cuts s to at most MaxInput bytes, at a rune boundary.
func truncate(s string) string {
	if len(s) <= MaxInput {
		return s
	}
	s = s[:MaxInput]
	for i := 0; i < utf8.UTFMax && len(s) > 0; i++ {
		if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}

// Parser parses User-Agents and remembers about the last few thousand:
// a two-generation cache, so recently used entries survive and memory
// stays bounded (at most 2*size entries of at most MaxInput bytes each).
// It is safe for concurrent use.
type Parser struct {
	mu        sync.Mutex
	size      int
	cur, prev map[string]mamoru.Device
}

// NewParser returns a Parser whose cache generations hold size entries
// each; size <= 0 disables caching.
func NewParser(size int) *Parser {
	return &Parser{size: size, cur: make(map[string]mamoru.Device)}
}

// Parse returns the Device for the User-Agent s (its first MaxInput bytes).
// The empty string gives a Device with Type TypeUnknown.
func (p *Parser) Parse(s string) mamoru.Device {
	s = strings.TrimSpace(truncate(s))
	if s == "" {
		return mamoru.Device{Type: TypeUnknown}
	}
	if p.size <= 0 {
		return parse(s)
	}
	p.mu.Lock()
	d, ok := p.cur[s]
	if !ok {
		if d, ok = p.prev[s]; ok {
			p.put(s, d) // promote
		}
	}
	p.mu.Unlock()
	if ok {
		return d
	}
	d = parse(s)
	p.mu.Lock()
	p.put(strings.Clone(s), d) // do not keep a long header alive
	p.mu.Unlock()
	return d
}

// put stores d under key in the current generation, rotating when full.
// p.mu must be held.
func (p *Parser) put(key string, d mamoru.Device) {
	if len(p.cur) >= p.size {
		p.prev, p.cur = p.cur, make(map[string]mamoru.Device, p.size)
	}
	p.cur[key] = d
}

// Len returns the number of cached entries.
func (p *Parser) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.cur) + len(p.prev)
}

// defaultParser serves Parse.
var defaultParser = NewParser(2048)

// Parse returns the Device for the User-Agent ua using a shared Parser.
func Parse(ua string) mamoru.Device { return defaultParser.Parse(ua) }
