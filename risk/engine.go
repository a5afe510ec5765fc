package risk

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
)

// Assessment is the result of Assess.
type Assessment struct {
	Score    float64  // log10 likelihood ratio; see the package doc
	Decision Decision // what to do
	Reasons  []Reason // why, most important first (the order of ReasonCodes)
	Audit    bool     // decided but not to be enforced (Config.Audit)
}

// Has reports whether a has a reason with the given code.
func (a Assessment) Has(code string) bool {
	for _, r := range a.Reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

// Engine assesses sign-in attempts under one Config. It is safe for
// concurrent use.
type Engine struct {
	cfg         Config
	override    [numCodes]Decision // "" where the default applies
	allow, deny []netip.Prefix
	hosting     map[uint32]bool
	anonymizer  map[uint32]bool
	denyCC      map[string]bool
	challengeCC map[string]bool
}

// New returns an Engine for cfg, or cfg's problems. Zero fields of cfg
// take the defaults of DefaultConfig (zero Bands: the default bands); to
// turn a rule off, override its reason with Allow.
func New(cfg Config) (*Engine, error) {
	d := DefaultConfig()
	if cfg.Bands == (Bands{}) {
		cfg.Bands = d.Bands
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.MaxSpeedKMH == 0 {
		cfg.MaxSpeedKMH = d.MaxSpeedKMH
	}
	if cfg.IPFailures == 0 {
		cfg.IPFailures = d.IPFailures
	}
	if cfg.ASNFailures == 0 {
		cfg.ASNFailures = d.ASNFailures
	}
	if cfg.FailureWindow == 0 {
		cfg.FailureWindow = d.FailureWindow
	}
	if cfg.LongAbsence == 0 {
		cfg.LongAbsence = d.LongAbsence
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:         cfg,
		hosting:     map[uint32]bool{},
		anonymizer:  map[uint32]bool{},
		denyCC:      map[string]bool{},
		challengeCC: map[string]bool{},
	}
	for code, dec := range cfg.Overrides {
		e.override[codeIndex(code)] = dec
	}
	for _, p := range cfg.Lists.AllowCIDRs {
		e.allow = append(e.allow, unmapPrefix(p))
	}
	for _, p := range cfg.Lists.DenyCIDRs {
		e.deny = append(e.deny, unmapPrefix(p))
	}
	for _, a := range cfg.Lists.HostingASNs {
		e.hosting[a] = true
	}
	for _, a := range cfg.Lists.AnonymizerASNs {
		e.anonymizer[a] = true
	}
	for _, c := range cfg.Lists.DenyCountries {
		e.denyCC[strings.ToUpper(c)] = true
	}
	for _, c := range cfg.Lists.ChallengeCountries {
		e.challengeCC[strings.ToUpper(c)] = true
	}
	return e, nil
}

// Config returns the engine's configuration, defaults filled in.
func (e *Engine) Config() Config { return e.cfg }

// unmapPrefix turns an IPv4-mapped IPv6 prefix into the IPv4 one, and
// masks it.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		if q, err := a.Unmap().Prefix(p.Bits() - 96); err == nil {
			return q
		}
	}
	return p.Masked()
}

// emptyHistory stands for a nil History.
var emptyHistory History

// minTravelKM is the distance, beyond the two places' accuracy radii,
// under which travel is never impossible; defaultRadiusKM the radius of a
// place whose radius is unknown.
const (
	minTravelKM     = 100
	defaultRadiusKM = 50
)

// Assess scores the attempt a of the account whose history is h, against
// global popularity g and network reputation r, and decides. It is a pure
// function of its arguments: it changes nothing and reads no clock. h may
// be nil or empty (a first sign-in); g and r may be nil.
func (e *Engine) Assess(a Attempt, h *History, g Global, r Reputation) Assessment {
	if h == nil {
		h = &emptyHistory
	}
	f := extract(a)
	noHistory := h.empty()
	out := Assessment{Score: score(&f, h, g), Audit: e.cfg.Audit}
	if out.Score == 0 {
		out.Score = 0 // no -0
	}
	var (
		forced  = Allow
		hard    bool // a deny rule or a hostile value fired: allow_cidr does not cap
		reasons []Reason
	)
	add := func(code int, def Decision, params map[string]string) {
		reasons = append(reasons, Reason{Code: ReasonCodes[code], Params: params})
		if o := e.override[code]; o != "" {
			def = o
		}
		if def != "" {
			forced = forced.max(def)
		}
	}
	ip := f.ip
	cc := f.val[fCountry]
	asn := a.Place.ASN

	// Lists.
	if ip.IsValid() {
		for _, p := range e.deny {
			if p.Contains(ip) {
				add(rDenyCIDR, Deny, map[string]string{ParamIP: ip.String(), ParamCIDR: p.String()})
				hard = true
				break
			}
		}
	}
	if cc != "" && e.denyCC[cc] {
		add(rDenyCountry, Deny, map[string]string{ParamCountry: cc})
		hard = true
	}

	// Hostile values: the most telling one is named.
	if len(h.hostile) > 0 {
		named := false
		dec := Decision("")
		for _, i := range []fidx{fDevice, fIP, fUA, fPrefix, fASN, fCountry} {
			if !h.isHostile(f.key[i]) {
				continue
			}
			if i == fDevice {
				dec = Deny
			} else if dec == "" {
				dec = Challenge
			}
			if !named {
				named = true
				reasons = append(reasons, Reason{Code: ReasonHostileValue, Params: map[string]string{
					ParamFeature: string(Features[i]), ParamValue: shown(i, &f, a),
				}})
			}
		}
		if named {
			if o := e.override[rHostileValue]; o != "" {
				dec = o
			}
			forced = forced.max(dec)
			hard = true
		}
	}

	// Travel from the last sign-in with coordinates.
	if h.geo.unix != 0 && a.Place.HasCoords && validCoords(a.Place.Latitude, a.Place.Longitude) && e.cfg.MaxSpeedKMH > 0 {
		lat0, lon0 := float64(h.geo.lat)/1e4, float64(h.geo.lon)/1e4
		dist := distanceKM(lat0, lon0, a.Place.Latitude, a.Place.Longitude)
		slack := radiusKM(int(h.geo.radius)) + radiusKM(a.Place.RadiusKM)
		if beyond := dist - slack; beyond > minTravelKM {
			dt := a.Time.Sub(unixTime(h.geo.unix))
			if dt < 0 {
				dt = -dt
			}
			hours := max(dt.Hours(), 1.0/60)
			if beyond/hours > e.cfg.MaxSpeedKMH {
				from := ""
				if h.geo.country != [2]byte{} {
					from = string(h.geo.country[:])
				}
				add(rImpossibleTravel, Challenge, map[string]string{
					ParamDistance: itoa(int64(math.Round(dist))),
					ParamMinutes:  itoa(int64(dt / time.Minute)),
					ParamSpeed:    itoa(int64(math.Round(dist / hours))),
					ParamFrom:     from,
				})
			}
		}
	}

	// Flags and reputation.
	if a.Flags&FlagBreachedPassword != 0 {
		add(rBreachedPassword, Challenge, nil)
	}
	window := itoa(int64(e.cfg.FailureWindow / time.Minute))
	if r != nil && ip.IsValid() && e.cfg.IPFailures > 0 {
		if n := r.IPFailures(ip, a.Time); n >= e.cfg.IPFailures {
			add(rIPFailures, Challenge, map[string]string{ParamIP: ip.String(), ParamCount: itoa(int64(n)), ParamMinutes: window})
		}
	}
	if r != nil && asn != 0 && e.cfg.ASNFailures > 0 {
		if n := r.ASNFailures(asn, a.Time); n >= e.cfg.ASNFailures {
			add(rASNFailures, Challenge, map[string]string{ParamASN: f.val[fASN], ParamOrg: a.Place.Org, ParamCount: itoa(int64(n)), ParamMinutes: window})
		}
	}
	if asn != 0 && e.anonymizer[asn] {
		add(rAnonymizerASN, Challenge, map[string]string{ParamASN: f.val[fASN], ParamOrg: a.Place.Org})
	}
	if asn != 0 && e.hosting[asn] && h.weightOf(f.key[fASN]) == 0 {
		add(rHostingASN, Challenge, map[string]string{ParamASN: f.val[fASN], ParamOrg: a.Place.Org})
	}
	if cc != "" && e.challengeCC[cc] {
		add(rChallengeCountry, Challenge, map[string]string{ParamCountry: cc})
	}

	// What is new to the account.
	newDevice := false
	if !noHistory {
		switch {
		case h.n[fDevice] > 0:
			newDevice = h.weightOf(f.key[fDevice]) == 0
		case f.key[fUA] != 0 && h.n[fUA] > 0:
			newDevice = h.weightOf(f.key[fUA]) == 0
		}
	}
	if a.Flags&FlagAttackWave != 0 && (newDevice || noHistory) {
		add(rAttackWave, Challenge, nil)
	}
	if h.last != 0 && e.cfg.LongAbsence > 0 {
		if gap := a.Time.Sub(unixTime(h.last)); gap >= e.cfg.LongAbsence {
			add(rLongAbsence, Challenge, map[string]string{ParamDays: itoa(int64(gap / (24 * time.Hour)))})
		}
	}
	unseen := func(i fidx) bool { return f.key[i] != 0 && h.n[i] > 0 && h.weightOf(f.key[i]) == 0 }
	newCountry := !noHistory && unseen(fCountry)
	if newDevice {
		add(rNewDevice, Notify, nil)
	}
	if newCountry {
		def := Decision("")
		if newDevice {
			def = Challenge
		}
		add(rNewCountry, def, map[string]string{ParamCountry: cc})
	}
	if !noHistory && !newCountry {
		switch {
		case unseen(fASN):
			add(rNewASN, "", map[string]string{ParamASN: f.val[fASN], ParamOrg: a.Place.Org})
		case unseen(fIP):
			add(rNewIP, "", map[string]string{ParamIP: ip.String()})
		}
	}
	if !noHistory {
		switch {
		case unseen(fOS) || unseen(fDeviceType) && a.Device.OS != "":
			add(rNewOS, "", map[string]string{ParamOS: a.Device.OS})
		case unseen(fBrowser):
			add(rNewBrowser, "", map[string]string{ParamBrowser: a.Device.Browser})
		}
	}

	// The score's band.
	band := e.band(out.Score)
	if band != Allow {
		add(rHighScore, band, map[string]string{ParamScore: strconv.FormatFloat(out.Score, 'f', 1, 64)})
	}

	capped := false
	if ip.IsValid() {
		for _, p := range e.allow {
			if p.Contains(ip) {
				reasons = append(reasons, Reason{Code: ReasonAllowCIDR, Params: map[string]string{ParamIP: ip.String(), ParamCIDR: p.String()}})
				capped = true
				break
			}
		}
	}
	if noHistory {
		add(rNoHistory, "", nil)
	}

	out.Decision = forced
	if capped && !hard {
		limit := Notify
		if o := e.override[rAllowCIDR]; o != "" {
			limit = o
		}
		if out.Decision.Level() > limit.Level() {
			out.Decision = limit
		}
	}
	out.Reasons = reasons
	return out
}

// band returns the decision the score alone asks for.
func (e *Engine) band(s float64) Decision {
	b := e.cfg.Bands
	switch {
	case s >= b.Deny:
		return Deny
	case s >= b.Approval:
		return Approval
	case s >= b.Challenge:
		return Challenge
	case s >= b.Notify:
		return Notify
	}
	return Allow
}

// shown is how the value of feature i of the attempt is shown to people
// (Reason parameter "value"): the address, the network, the country, or
// the device's product names; never the device ID or the raw User-Agent.
func shown(i fidx, f *feats, a Attempt) string {
	switch i {
	case fIP, fPrefix, fCountry:
		return f.val[i]
	case fASN:
		s := "AS" + f.val[fASN]
		if a.Place.Org != "" {
			s += " " + clip(a.Place.Org)
		}
		return s
	case fUA, fDevice:
		return label(a.Device)
	}
	return ""
}

// label names a device by product names, as the useragent package does:
// "Chrome 131 (Windows 10)", "Safari", "Windows", or "".
func label(d mamoru.Device) string {
	b := join(clip(d.Browser), clip(d.BrowserVersion))
	o := join(clip(d.OS), clip(d.OSVersion))
	switch {
	case b != "" && o != "":
		return b + " (" + o + ")"
	case b != "":
		return b
	}
	return o
}

func join(name, version string) string {
	if name == "" || version == "" {
		return name
	}
	return name + " " + version
}

// radiusKM is r, or the default radius when unknown.
func radiusKM(r int) float64 {
	if r <= 0 {
		return defaultRadiusKM
	}
	return float64(r)
}

// distanceKM is the great-circle distance between two points (haversine).
func distanceKM(lat1, lon1, lat2, lon2 float64) float64 {
	const earthKM = 6371.0
	rad := math.Pi / 180
	dlat := (lat2 - lat1) * rad
	dlon := (lon2 - lon1) * rad
	s := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * earthKM * math.Asin(math.Sqrt(min(1, s)))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
