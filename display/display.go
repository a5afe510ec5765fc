// Package display writes times, places and devices for people to read, in
// Japanese or English, for pages and messages alike. A place is always
// worded as approximate: GeoIP knows networks, not people.
//
// It takes its words from the catalog (IDs display.*) and country names
// from golang.org/x/text, and must not do I/O.
package display

import (
	"strings"
	"time"
	_ "time/tzdata" // time zones work on hosts without zoneinfo

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/catalog"
	"golang.org/x/text/language"
	xdisplay "golang.org/x/text/language/display"
)

// Location returns the time zone named tz (IANA), or UTC when tz is empty
// or unknown.
func Location(tz string) *time.Location {
	if tz == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC
	}
	return loc
}

// ValidTimeZone reports whether tz is an IANA time zone name this server
// knows ("" is not one).
func ValidTimeZone(tz string) bool {
	if tz == "" || len(tz) > 64 || strings.ContainsAny(tz, " \t\r\n") || tz == "Local" {
		return false
	}
	_, err := time.LoadLocation(tz)
	return err == nil
}

// Time writes t in the time zone tz for a reader of lang, naming the zone:
// "2026年11月21日 18:04 (JST)" or "21 November 2026 18:04 (GMT+9)".
func Time(lang mamoru.Language, tz string, t time.Time) string {
	t = t.In(Location(tz))
	zone := zoneName(t)
	if lang == mamoru.Japanese {
		return t.Format("2006年1月2日 15:04") + " (" + zone + ")"
	}
	return t.Format("2 January 2006 15:04") + " (" + zone + ")"
}

// zoneName is the abbreviation of t's zone when it has a real one (JST,
// CET), else "UTC" or "UTC+9".
func zoneName(t time.Time) string {
	name, off := t.Zone()
	if name != "" && (name[0] < '0' || name[0] > '9') && name[0] != '+' && name[0] != '-' {
		return name
	}
	if off == 0 {
		return "UTC"
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	h, m := off/3600, off%3600/60
	s := "UTC" + sign + itoa(h)
	if m != 0 {
		s += ":" + pad2(m)
	}
	return s
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func pad2(n int) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}

// Country returns the name of an ISO 3166-1 country code in lang ("日本",
// "Japan"), or the code itself when it is not a known region.
func Country(lang mamoru.Language, code string) string {
	if code == "" {
		return ""
	}
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	tag := language.English
	if lang == mamoru.Japanese {
		tag = language.Japanese
	}
	if name := xdisplay.Regions(tag).Name(r); name != "" {
		return name
	}
	return code
}

// Place writes where p is, approximately, without the word
// "approximately": "Shinjuku, Tokyo, Japan" / "日本 東京都 新宿区", or the
// catalog's "unknown location". Callers word it as approximate (see
// PlaceApprox).
func Place(cat *catalog.Catalog, lang mamoru.Language, p mamoru.Place) string {
	if p.Country == "" {
		return cat.T(lang, "display.place.unknown", nil)
	}
	country := Country(lang, p.Country)
	region, city := p.Region, p.City
	if lang == mamoru.Japanese {
		if p.RegionJA != "" {
			region = p.RegionJA
		}
		if p.CityJA != "" {
			city = p.CityJA
		}
		parts := nonEmpty(country, region, city)
		return strings.Join(dedupe(parts), " ")
	}
	parts := nonEmpty(city, region, country)
	return strings.Join(dedupe(parts), ", ")
}

// PlaceApprox is Place worded as approximate: "near Shinjuku, Tokyo,
// Japan (approximate)" in the catalog's words.
func PlaceApprox(cat *catalog.Catalog, lang mamoru.Language, p mamoru.Place) string {
	if p.Country == "" {
		return cat.T(lang, "display.place.unknown", nil)
	}
	return cat.T(lang, "display.place.approx", map[string]any{"Place": Place(cat, lang, p)})
}

// Network writes the network of p: "AS2516 KDDI Corporation", or "" when
// unknown.
func Network(p mamoru.Place) string {
	if p.ASN == 0 {
		return ""
	}
	s := "AS" + itoa(int(p.ASN))
	if p.Org != "" {
		s += " " + p.Org
	}
	return s
}

// Device writes a device for people: "Chrome 131 on Windows 10" /
// "Windows 10 の Chrome 131", or the catalog's "unknown device".
func Device(cat *catalog.Catalog, lang mamoru.Language, d mamoru.Device) string {
	b, o := join(d.Browser, d.BrowserVersion), join(d.OS, d.OSVersion)
	switch {
	case b != "" && o != "":
		return cat.T(lang, "display.device.browser_on_os", map[string]any{"Browser": b, "OS": o})
	case b != "":
		return b
	case o != "":
		return o
	default:
		return cat.T(lang, "display.device.unknown", nil)
	}
}

func join(name, version string) string {
	if name == "" {
		return ""
	}
	if version == "" {
		return name
	}
	return name + " " + version
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// dedupe drops a part equal to the one before it ("Tokyo, Tokyo, Japan"
// → "Tokyo, Japan").
func dedupe(ss []string) []string {
	var out []string
	for _, s := range ss {
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}
