package risk

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
)

// Feature names one feature of a sign-in attempt. The values are stable:
// they key the global counts a server stores (Values).
type Feature string

// The features.
const (
	FeatureIP         Feature = "ip"          // the address, IPv4-mapped IPv6 unmapped
	FeaturePrefix     Feature = "prefix"      // its /24 (IPv4) or /48 (IPv6)
	FeatureASN        Feature = "asn"         // the autonomous system number
	FeatureCountry    Feature = "country"     // ISO 3166-1 alpha-2
	FeatureRegion     Feature = "region"      // within its country
	FeatureCity       Feature = "city"        // within its region
	FeatureUA         Feature = "ua"          // a hash of the normalized User-Agent
	FeatureBrowser    Feature = "browser"     // browser name, within its OS
	FeatureOS         Feature = "os"          // OS name, within its device type
	FeatureDeviceType Feature = "device_type" // desktop, mobile, tablet, bot
	FeatureDevice     Feature = "device"      // a hash of the signed device cookie's ID
)

// Features lists every feature.
var Features = []Feature{
	FeatureIP, FeaturePrefix, FeatureASN, FeatureCountry, FeatureRegion, FeatureCity,
	FeatureUA, FeatureBrowser, FeatureOS, FeatureDeviceType, FeatureDevice,
}

// Flags are facts about an attempt set by other components.
type Flags uint8

// The flags.
const (
	FlagBreachedPassword Flags = 1 << iota // the password is in a breach corpus
	FlagAttackWave                         // a credential-stuffing or spraying wave is under way
)

// Attempt is what is known about one sign-in attempt when it is assessed
// (after the password was found correct) or learned.
type Attempt struct {
	Time      time.Time     // when it happened (the caller's clock)
	IP        netip.Addr    // zero when unknown or unparseable
	Place     mamoru.Place  // from GeoIP; zero when unknown
	Device    mamoru.Device // the parsed User-Agent
	UserAgent string        // the raw User-Agent; only a hash of it is kept
	DeviceID  string        // from a valid signed device cookie; "" when none or invalid
	Flags     Flags
}

// Values returns the value of every feature of a that is known, as the
// strings that key global counts (Global.Count): a server that keeps
// counts per (feature, value) adds one for each entry on every legitimate
// sign-in, and one to its total. Unknown features are absent. Values nest
// their parents, so that a value's count never exceeds its parent's:
// "JP/Tokyo" (region), "mobile/iOS" (os), "mobile/iOS/Safari" (browser).
// The "ua" and "device" values are hashes (16 hex digits), never the raw
// header or cookie ID.
func Values(a Attempt) map[Feature]string {
	f := extract(a)
	m := make(map[Feature]string, numFeatures)
	for i, v := range f.val {
		if v != "" {
			m[Features[i]] = v
		}
	}
	return m
}

// fidx is the index of a feature in Features (and the top 4 bits of its
// history keys).
type fidx uint8

// The feature indexes, in the order of Features.
const (
	fIP fidx = iota
	fPrefix
	fASN
	fCountry
	fRegion
	fCity
	fUA
	fBrowser
	fOS
	fDeviceType
	fDevice
	numFeatures
)

// String returns the Feature of i.
func (i fidx) String() string { return string(Features[i]) }

// feats are the features of one attempt: the value strings (Values), and
// the history keys of the scored ones (key is 0 when the value is
// unknown).
type feats struct {
	val [numFeatures]string
	key [numFeatures]uint64
	ip  netip.Addr // unmapped, without zone; zero when unknown
}

// The limits of the inputs that are kept (hashed).
const (
	maxUA    = 512 // bytes of a User-Agent, as the useragent package parses
	maxValue = 200 // bytes of a place or device name
)

// extract computes the features of a.
func extract(a Attempt) feats {
	var f feats
	if a.IP.IsValid() {
		ip := a.IP.Unmap().WithZone("")
		f.ip = ip
		f.val[fIP] = ip.String()
		bits := 24
		if ip.Is6() {
			bits = 48
		}
		if p, err := ip.Prefix(bits); err == nil {
			f.val[fPrefix] = p.String()
		}
	}
	if a.Place.ASN != 0 {
		f.val[fASN] = strconv.FormatUint(uint64(a.Place.ASN), 10)
	}
	if cc, ok := country(a.Place.Country); ok {
		f.val[fCountry] = cc
		if r := clip(a.Place.Region); r != "" {
			f.val[fRegion] = cc + "/" + r
			if c := clip(a.Place.City); c != "" {
				f.val[fCity] = f.val[fRegion] + "/" + c
			}
		}
	}
	if ua := strings.TrimSpace(a.UserAgent); ua != "" {
		if len(ua) > maxUA {
			ua = ua[:maxUA]
		}
		f.val[fUA] = hex64(fnv64a(ua))
	}
	typ := clip(a.Device.Type)
	if typ == "unknown" {
		typ = ""
	}
	if typ != "" {
		f.val[fDeviceType] = typ
	}
	if os := clip(a.Device.OS); os != "" {
		f.val[fOS] = typ + "/" + os
		if b := clip(a.Device.Browser); b != "" {
			f.val[fBrowser] = f.val[fOS] + "/" + b
		}
	} else if b := clip(a.Device.Browser); b != "" {
		f.val[fBrowser] = typ + "//" + b
	}
	if a.DeviceID != "" {
		f.val[fDevice] = hex64(fnv64a(a.DeviceID))
	}
	for i, v := range f.val {
		if v != "" && fidx(i) != fRegion && fidx(i) != fCity {
			f.key[i] = hkey(fidx(i), v)
		}
	}
	return f
}

// country returns s as an upper-case ISO 3166-1 alpha-2 code.
func country(s string) (string, bool) {
	if !validCountry(s) {
		return "", false
	}
	if s[0] >= 'a' || s[1] >= 'a' {
		s = strings.ToUpper(s)
	}
	return s, true
}

// clip trims s and cuts it to maxValue bytes.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxValue {
		s = s[:maxValue]
	}
	return s
}

// fnv64a is the 64-bit FNV-1a hash of s.
func fnv64a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// hkey is the history key of value v of feature f: the feature in the top
// 4 bits, 60 bits of the value's hash below (never 0).
func hkey(f fidx, v string) uint64 {
	k := uint64(f)<<60 | fnv64a(v)>>4
	if k == 0 {
		k = 1
	}
	return k
}

// keyFeature returns the feature of a history key.
func keyFeature(k uint64) fidx { return fidx(k >> 60) }

// hex64 writes h as 16 hex digits.
func hex64(h uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[h&15]
		h >>= 4
	}
	return string(b[:])
}
