package risk

import (
	"net/netip"
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
// sign-in, and one to its total. Unknown features are absent. The "ua"
// and "device" values are hashes, never the raw header or cookie ID.
func Values(a Attempt) map[Feature]string {
	return nil
}
