package synth

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// A client is a browser on a device, as the data set records it: the
// User-Agent string, the "Browser Name and Version" and "OS Name and
// Version" that a ua-parser derived from it, and the device type.
type client struct {
	kind    clientKind
	lag     int    // how many releases behind the current one this user's browser is
	osMajor int    // Android version; Windows 10 or 7; macOS minor (14 or 15)
	model   string // Android phone model
}

type clientKind uint8

const (
	chromeWindows clientKind = iota
	firefoxWindows
	edgeWindows
	chromeMac
	safariMac
	firefoxLinux
	safariIPhone
	chromeIPhone
	chromeAndroid
	samsungAndroid
	safariIPad
	// Tools used by credential stuffers.
	pythonRequests
	curlTool
	headlessChrome
)

// A user's clients: a computer, a phone, sometimes a tablet.
var (
	computers = []clientKind{chromeWindows, chromeWindows, chromeWindows, firefoxWindows, edgeWindows, chromeMac, safariMac, safariMac, firefoxLinux}
	phones    = []clientKind{safariIPhone, safariIPhone, safariIPhone, chromeIPhone, chromeAndroid, chromeAndroid, chromeAndroid, samsungAndroid}
	models    = []string{"SM-G973F", "SM-A515F", "Pixel 4a", "Pixel 5", "SO-52A", "SH-M15", "M2007J20CG", "SM-G991B", "CPH2013", "moto g(8)"}
)

func newClient(r *rand.Rand, kind clientKind) client {
	c := client{kind: kind, lag: lagOf(r)}
	switch kind {
	case chromeWindows, firefoxWindows, edgeWindows:
		c.osMajor = 10
		if r.IntN(10) == 0 {
			c.osMajor = 7
		}
	case chromeMac, safariMac:
		c.osMajor = 15
		if r.IntN(4) == 0 {
			c.osMajor = 14
		}
	case chromeAndroid, samsungAndroid:
		c.osMajor = 8 + r.IntN(3)
		c.model = models[r.IntN(len(models))]
	}
	return c
}

// lagOf: most people update within a release, a few stay behind.
func lagOf(r *rand.Rand) int {
	switch x := r.IntN(10); {
	case x < 7:
		return 0
	case x < 9:
		return 1
	default:
		return 2 + r.IntN(3)
	}
}

// epoch is the start of the release schedules below (Chrome 80 came out in
// February 2020).
var epoch = time.Date(2020, 2, 3, 0, 0, 0, 0, time.UTC)

func days(t time.Time) int {
	d := int(t.Sub(epoch) / (24 * time.Hour))
	if d < 0 {
		return 0
	}
	return d
}

func chromeMajor(t time.Time, lag int) int { return max(70, 80+days(t)/42-lag) }
func firefoxMajor(t time.Time, lag int) int {
	return max(60, 73+days(t)/30-lag)
}
func samsungMajor(t time.Time, lag int) int { return max(9, 11+days(t)/150-lag) }

// iosVersion is the current iOS release, lag releases behind.
func iosVersion(t time.Time, lag int) (int, int) {
	releases := [][2]int{{13, 3}, {13, 4}, {13, 5}, {13, 6}, {14, 0}, {14, 2}, {14, 4}, {14, 5}, {14, 6}, {14, 7}, {15, 0}, {15, 1}, {15, 2}, {15, 4}, {15, 5}}
	i := days(t)/56 - lag
	i = min(max(i, 0), len(releases)-1)
	return releases[i][0], releases[i][1]
}

func safariMajor(t time.Time, lag int) int {
	v, _ := iosVersion(t, lag)
	return v
}

func chromeBuild(major int) int { return 3987 + (major-80)*66 }

// render returns the User-Agent, the browser and OS columns and the
// device type at time t.
func (c client) render(t time.Time) (ua, browser, os, device string) {
	cm := chromeMajor(t, c.lag)
	cv := fmt.Sprintf("%d.0.%d", cm, chromeBuild(cm))
	cpatch := 100 + (cm*37)%90
	win := "Windows NT 10.0; Win64; x64"
	winOS := "Windows 10"
	if c.osMajor == 7 {
		win, winOS = "Windows NT 6.1; Win64; x64", "Windows 7"
	}
	macMinor := 7
	if c.osMajor == 14 {
		macMinor = 6
	}
	switch c.kind {
	case chromeWindows:
		return fmt.Sprintf("Mozilla/5.0 (%s) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%s.%d Safari/537.36", win, cv, cpatch),
			"Chrome " + cv, winOS, "desktop"
	case firefoxWindows:
		fm := firefoxMajor(t, c.lag)
		return fmt.Sprintf("Mozilla/5.0 (%s; rv:%d.0) Gecko/20100101 Firefox/%d.0", win, fm, fm),
			fmt.Sprintf("Firefox %d.0", fm), winOS, "desktop"
	case edgeWindows:
		return fmt.Sprintf("Mozilla/5.0 (%s) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%s.%d Safari/537.36 Edg/%s.%d", win, cv, cpatch, cv, cpatch/2),
			"Edge " + cv, winOS, "desktop"
	case chromeMac:
		return fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_%d_%d) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%s.%d Safari/537.36", c.osMajor, macMinor, cv, cpatch),
			"Chrome " + cv, fmt.Sprintf("Mac OS X 10.%d.%d", c.osMajor, macMinor), "desktop"
	case safariMac:
		sm := safariMajor(t, c.lag)
		return fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_%d_%d) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.1 Safari/605.1.15", c.osMajor, macMinor, sm),
			fmt.Sprintf("Safari %d.1", sm), fmt.Sprintf("Mac OS X 10.%d.%d", c.osMajor, macMinor), "desktop"
	case firefoxLinux:
		fm := firefoxMajor(t, c.lag)
		return fmt.Sprintf("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.0", fm, fm),
			fmt.Sprintf("Firefox %d.0", fm), "Ubuntu", "desktop"
	case safariIPhone, safariIPad:
		maj, mnr := iosVersion(t, c.lag)
		if c.kind == safariIPad {
			return fmt.Sprintf("Mozilla/5.0 (iPad; CPU OS %d_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Mobile/15E148 Safari/604.1", maj, mnr, maj, mnr),
				fmt.Sprintf("Mobile Safari %d.%d", maj, mnr), fmt.Sprintf("iOS %d.%d", maj, mnr), "tablet"
		}
		return fmt.Sprintf("Mozilla/5.0 (iPhone; CPU iPhone OS %d_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Mobile/15E148 Safari/604.1", maj, mnr, maj, mnr),
			fmt.Sprintf("Mobile Safari %d.%d", maj, mnr), fmt.Sprintf("iOS %d.%d", maj, mnr), "mobile"
	case chromeIPhone:
		maj, mnr := iosVersion(t, c.lag)
		return fmt.Sprintf("Mozilla/5.0 (iPhone; CPU iPhone OS %d_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/%s.%d Mobile/15E148 Safari/604.1", maj, mnr, cv, cpatch),
			"Chrome Mobile iOS " + cv, fmt.Sprintf("iOS %d.%d", maj, mnr), "mobile"
	case chromeAndroid:
		return fmt.Sprintf("Mozilla/5.0 (Linux; Android %d; %s) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%s.%d Mobile Safari/537.36", c.osMajor, c.model, cv, cpatch),
			"Chrome Mobile " + cv, fmt.Sprintf("Android %d", c.osMajor), "mobile"
	case samsungAndroid:
		sm := samsungMajor(t, c.lag)
		return fmt.Sprintf("Mozilla/5.0 (Linux; Android %d; %s) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/%d.0 Chrome/%s.%d Mobile Safari/537.36", c.osMajor, c.model, sm, cv, cpatch),
			fmt.Sprintf("Samsung Internet %d.0", sm), fmt.Sprintf("Android %d", c.osMajor), "mobile"
	case pythonRequests:
		v := 22 + c.lag
		return fmt.Sprintf("python-requests/2.%d.0", v), fmt.Sprintf("Python Requests 2.%d", v), "Other", "bot"
	case curlTool:
		v := 64 + c.lag
		return fmt.Sprintf("curl/7.%d.1", v), fmt.Sprintf("curl 7.%d.1", v), "Other", "bot"
	case headlessChrome:
		return fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/%s.%d Safari/537.36", cv, cpatch),
			"HeadlessChrome " + cv, "Linux", "desktop"
	}
	return "", "", "", ""
}
