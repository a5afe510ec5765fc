package eval

import (
	"strings"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/useragent"
)

// The data set's "Browser Name and Version" and "OS Name and Version" come
// from a ua-parser ("Chrome Mobile 46.0.2490", "Mobile Safari 13.4", "Mac
// OS X 10.14.6", "Windows 10"). The evaluator maps the names to the ones
// package useragent gives the same clients, so that the engine sees what
// it sees in production, and keeps major versions only. A name it does not
// know is kept as it is (an offline log is not shown to anyone).
var browserNames = map[string]string{
	"Chrome":                     "Chrome",
	"Chrome Mobile":              "Chrome",
	"Chrome Mobile iOS":          "Chrome",
	"Chrome Mobile WebView":      "Chrome",
	"Chromium":                   "Chrome",
	"HeadlessChrome":             "Headless Chrome",
	"Firefox":                    "Firefox",
	"Firefox Mobile":             "Firefox",
	"Firefox iOS":                "Firefox",
	"Safari":                     "Safari",
	"Mobile Safari":              "Safari",
	"Mobile Safari UI/WKWebView": "Safari",
	"Edge":                       "Edge",
	"Edge Mobile":                "Edge",
	"Opera":                      "Opera",
	"Opera Mobile":               "Opera",
	"Opera Mini":                 "Opera Mini",
	"Opera Touch":                "Opera Touch",
	"IE":                         "Internet Explorer",
	"IE Mobile":                  "Internet Explorer",
	"Samsung Internet":           "Samsung Browser",
	"Yandex Browser":             "Yandex Browser",
	"UC Browser":                 "UC Browser",
	"Vivaldi":                    "Vivaldi",
	"Brave":                      "Brave",
	"DuckDuckGo Mobile":          "DuckDuckGo",
	"Amazon Silk":                "Silk",
	"Silk":                       "Silk",
	"Facebook":                   "Facebook App",
	"Instagram":                  "Instagram App",
	"Python Requests":            "python-requests",
	"Python-urllib":              "Python-urllib",
	"curl":                       "curl",
	"Wget":                       "Wget",
	"Go-http-client":             "Go-http-client",
	"Apache-HttpClient":          "Apache-HttpClient",
	"okhttp":                     "okhttp",
	"Java":                       "Java",
	"Googlebot":                  "Googlebot",
	"bingbot":                    "Bingbot",
}

var osNames = map[string]string{
	"Windows":       "Windows",
	"Windows Phone": "Windows Phone",
	"Android":       "Android",
	"Mac OS X":      "macOS",
	"macOS":         "macOS",
	"iOS":           "iOS",
	"Linux":         "Linux",
	"Ubuntu":        "Linux",
	"Fedora":        "Linux",
	"Debian":        "Linux",
	"Arch Linux":    "Linux",
	"Linux Mint":    "Linux",
	"Gentoo":        "Linux",
	"Slackware":     "Linux",
	"FreeBSD":       "FreeBSD",
	"Chrome OS":     "ChromeOS",
	"BlackBerry OS": "BlackBerry",
	"HarmonyOS":     "HarmonyOS",
}

var deviceTypes = map[string]string{
	"desktop": useragent.TypeDesktop,
	"mobile":  useragent.TypeMobile,
	"tablet":  useragent.TypeTablet,
	"bot":     useragent.TypeBot,
	"spider":  useragent.TypeBot,
}

// splitNameVersion splits "Chrome Mobile 46.0.2490" into "Chrome Mobile"
// and "46": the version is the last word if it starts with a digit, and
// its major version the digits it starts with.
func splitNameVersion(s string) (name, major string) {
	s = strings.TrimSpace(s)
	i := strings.LastIndexByte(s, ' ')
	if i < 0 || i == len(s)-1 || s[i+1] < '0' || s[i+1] > '9' {
		return s, ""
	}
	v := s[i+1:]
	j := 0
	for j < len(v) && v[j] >= '0' && v[j] <= '9' {
		j++
	}
	return strings.TrimSpace(s[:i]), strings.TrimLeft(v[:j], "0")
}

// windowsVersions: as package useragent names them.
var windowsVersions = map[string]string{"10": "10", "11": "10", "8.1": "8.1", "8": "8", "7": "7", "Vista": "Vista", "XP": "XP"}

// Device maps the data set's browser, OS and device type columns to a
// mamoru.Device.
func Device(browser, os, devType string) mamoru.Device {
	var d mamoru.Device
	if name, major := splitNameVersion(browser); name != "" && !strings.EqualFold(name, "Other") {
		if n, ok := browserNames[name]; ok {
			name = n
		}
		d.Browser, d.BrowserVersion = clipName(name), major
	}
	os = strings.TrimSpace(os)
	switch {
	case os == "" || strings.EqualFold(os, "Other"):
	case strings.HasPrefix(os, "Windows ") && windowsVersions[strings.TrimPrefix(os, "Windows ")] != "":
		d.OS, d.OSVersion = "Windows", windowsVersions[strings.TrimPrefix(os, "Windows ")]
	default:
		name, major := splitNameVersion(os)
		if n, ok := osNames[name]; ok {
			name = n
		}
		d.OS, d.OSVersion = clipName(name), major
		switch name {
		case "macOS", "Linux":
			d.OSVersion = "" // frozen or meaningless in User-Agents; useragent drops it too
		case "Windows": // "Windows 10.0"
			if major == "6" || major == "5" {
				d.OSVersion = ""
			}
		}
	}
	if t, ok := deviceTypes[strings.ToLower(strings.TrimSpace(devType))]; ok {
		d.Type = t
	} else {
		d.Type = useragent.TypeUnknown
	}
	return d
}

func clipName(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

// deviceCache remembers the devices of the column values seen last, since
// the same few hundred combinations repeat for millions of rows.
type deviceCache struct {
	m map[deviceKey]mamoru.Device
}

type deviceKey struct{ browser, os, typ string }

func (c *deviceCache) get(browser, os, devType string) mamoru.Device {
	key := deviceKey{browser, os, devType}
	if d, ok := c.m[key]; ok {
		return d
	}
	d := Device(browser, os, devType)
	d.Browser, d.BrowserVersion = strings.Clone(d.Browser), strings.Clone(d.BrowserVersion)
	d.OS, d.OSVersion = strings.Clone(d.OS), strings.Clone(d.OSVersion)
	if c.m == nil || len(c.m) >= 8192 {
		c.m = make(map[deviceKey]mamoru.Device, 1024)
	}
	// The key's strings point into the record they were read from: keep
	// copies.
	c.m[deviceKey{strings.Clone(browser), strings.Clone(os), strings.Clone(devType)}] = d
	return d
}
