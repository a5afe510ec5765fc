package risk

// Reason is one reason for a decision: a stable code and its parameters
// (Param* keys). Explain words it.
type Reason struct {
	Code   string
	Params map[string]string
}

// The reason codes, in the order Assess lists them (most important first).
// Each comment gives the parameters (Param* keys) and the decision the
// reason forces by default; Config.Overrides replaces that decision ("-":
// none, the score decides).
const (
	// The IP address is in Lists.DenyCIDRs. ip, cidr. Deny.
	ReasonDenyCIDR = "deny_cidr"
	// The country is in Lists.DenyCountries. country. Deny.
	ReasonDenyCountry = "deny_country"
	// A value of the attempt was marked hostile (History.MarkHostile); the
	// most telling one is named, in the order device, ip, ua, prefix,
	// asn, country. feature, value (the address, "AS2516 KDDI", the
	// country code, or for ua and device the product names "Chrome 131
	// (Windows 10)"; never the raw header or cookie). Deny for the
	// device, else Challenge.
	ReasonHostileValue = "hostile_value"
	// Faster than Config.MaxSpeedKMH from the last sign-in with
	// coordinates, beyond both places' accuracy radii (50 km when
	// unknown) plus 100 km. distance_km, minutes, speed_kmh, from (the
	// last place's country, may be ""). Challenge.
	ReasonImpossibleTravel = "impossible_travel"
	// FlagBreachedPassword. No parameters. Challenge.
	ReasonBreachedPassword = "breached_password"
	// The Reputation counts at least Config.IPFailures failures for the
	// address. ip, count, minutes (Config.FailureWindow). Challenge.
	ReasonIPFailures = "ip_failures"
	// The Reputation counts at least Config.ASNFailures failures for the
	// network. asn, org, count, minutes. Challenge.
	ReasonASNFailures = "asn_failures"
	// The ASN is in Lists.AnonymizerASNs. asn, org. Challenge.
	ReasonAnonymizerASN = "anonymizer_asn"
	// The ASN is in Lists.HostingASNs and the account never used it. asn,
	// org. Challenge.
	ReasonHostingASN = "hosting_asn"
	// The country is in Lists.ChallengeCountries. country. Challenge.
	ReasonChallengeCountry = "challenge_country"
	// FlagAttackWave, with a new device or no history (otherwise the flag
	// gives no reason). No parameters. Challenge.
	ReasonAttackWave = "attack_wave"
	// The last sign-in was Config.LongAbsence or more ago. days. Challenge.
	ReasonLongAbsence = "long_absence"
	// The device cookie is missing or unknown while the account has had
	// some (an account that never had one: the User-Agent is unknown). No
	// parameters. Notify.
	ReasonNewDevice = "new_device"
	// The account never signed in from the country. country. -, but
	// Challenge together with new_device.
	ReasonNewCountry = "new_country"
	// The account never used the network (and the country is not new).
	// asn, org. -.
	ReasonNewASN = "new_asn"
	// The account never used the address (and neither country nor network
	// is new). ip. -.
	ReasonNewIP = "new_ip"
	// The account never used the OS (or the kind of device). os. -.
	ReasonNewOS = "new_os"
	// The account never used the browser on this OS (and the OS is not
	// new). browser. -.
	ReasonNewBrowser = "new_browser"
	// The score reached a band above Allow. score (one decimal). The
	// band's decision.
	ReasonHighScore = "high_score"
	// The IP address is in Lists.AllowCIDRs. ip, cidr. Caps the decision
	// at Notify (an override sets the cap instead) unless deny_cidr,
	// deny_country or hostile_value fired.
	ReasonAllowCIDR = "allow_cidr"
	// The account has no history at all. No parameters. - (the score is
	// 0).
	ReasonNoHistory = "no_history"
)

// ReasonCodes lists every reason code in the order Assess lists them.
var ReasonCodes = []string{
	ReasonDenyCIDR, ReasonDenyCountry, ReasonHostileValue, ReasonImpossibleTravel,
	ReasonBreachedPassword, ReasonIPFailures, ReasonASNFailures, ReasonAnonymizerASN,
	ReasonHostingASN, ReasonChallengeCountry, ReasonAttackWave, ReasonLongAbsence,
	ReasonNewDevice, ReasonNewCountry, ReasonNewASN, ReasonNewIP, ReasonNewOS,
	ReasonNewBrowser, ReasonHighScore, ReasonAllowCIDR, ReasonNoHistory,
}

// Indexes of ReasonCodes.
const (
	rDenyCIDR = iota
	rDenyCountry
	rHostileValue
	rImpossibleTravel
	rBreachedPassword
	rIPFailures
	rASNFailures
	rAnonymizerASN
	rHostingASN
	rChallengeCountry
	rAttackWave
	rLongAbsence
	rNewDevice
	rNewCountry
	rNewASN
	rNewIP
	rNewOS
	rNewBrowser
	rHighScore
	rAllowCIDR
	rNoHistory
	numCodes
)

// codeIndex returns the index of code in ReasonCodes, or -1.
func codeIndex(code string) int {
	for i, c := range ReasonCodes {
		if c == code {
			return i
		}
	}
	return -1
}

// knownCode reports whether code is one of ReasonCodes.
func knownCode(code string) bool {
	for _, c := range ReasonCodes {
		if c == code {
			return true
		}
	}
	return false
}

// Parameter keys of Reason.Params.
const (
	ParamIP       = "ip"          // an address, e.g. "203.0.113.7"
	ParamCIDR     = "cidr"        // a configured prefix, e.g. "203.0.113.0/24"
	ParamCountry  = "country"     // ISO 3166-1 alpha-2
	ParamASN      = "asn"         // a number, e.g. "2516"
	ParamOrg      = "org"         // the ASN's organisation, may be ""
	ParamFeature  = "feature"     // a Feature
	ParamValue    = "value"       // a feature value as shown to people
	ParamDistance = "distance_km" // whole kilometres
	ParamMinutes  = "minutes"     // whole minutes
	ParamSpeed    = "speed_kmh"   // whole km/h
	ParamFrom     = "from"        // the country of the last sign-in
	ParamCount    = "count"       // a number of failures
	ParamDays     = "days"        // whole days
	ParamOS       = "os"          // an OS name
	ParamBrowser  = "browser"     // a browser name
	ParamScore    = "score"       // the score, one decimal
)
