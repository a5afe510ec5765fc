package risk

// Reason is one reason for a decision: a stable code and its parameters
// (Param* keys). Explain words it.
type Reason struct {
	Code   string
	Params map[string]string
}

// The reason codes, in the order Assess lists them (most important first).
// Each says which parameters it carries and what it forces by default
// (Config.Overrides changes that).
const (
	ReasonDenyCIDR         = "deny_cidr"         // ip, cidr; deny
	ReasonDenyCountry      = "deny_country"      // country; deny
	ReasonHostileValue     = "hostile_value"     // feature, value (not for ua and device); deny for the device, else challenge
	ReasonImpossibleTravel = "impossible_travel" // distance_km, minutes, speed_kmh, from (country, may be ""); challenge
	ReasonBreachedPassword = "breached_password" // -; challenge
	ReasonIPFailures       = "ip_failures"       // ip, count, minutes; challenge
	ReasonASNFailures      = "asn_failures"      // asn, org, count, minutes; challenge
	ReasonAnonymizerASN    = "anonymizer_asn"    // asn, org; challenge
	ReasonHostingASN       = "hosting_asn"       // asn, org (only when the account never used it); challenge
	ReasonChallengeCountry = "challenge_country" // country; challenge
	ReasonAttackWave       = "attack_wave"       // - (only with a new device or no history); challenge
	ReasonLongAbsence      = "long_absence"      // days; challenge
	ReasonNewDevice        = "new_device"        // -; notify, challenge together with new_country
	ReasonNewCountry       = "new_country"       // country; - (score)
	ReasonNewASN           = "new_asn"           // asn, org; - (score)
	ReasonNewIP            = "new_ip"            // ip; - (score)
	ReasonNewOS            = "new_os"            // os; - (score)
	ReasonNewBrowser       = "new_browser"       // browser; - (score)
	ReasonHighScore        = "high_score"        // score; the band's decision
	ReasonAllowCIDR        = "allow_cidr"        // ip, cidr; caps the decision at notify
	ReasonNoHistory        = "no_history"        // -; - (score 0)
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
