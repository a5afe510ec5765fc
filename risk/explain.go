package risk

import (
	"strconv"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/catalog"
	"github.com/mamoru-id/mamoru/display"
)

// Explain words r in lang from the catalog's risk.reason.<code> text:
// "country never seen for this account: Russia (RU)". Countries are named
// in lang, networks as "AS2516 KDDI Corporation", numbers with thousands
// separators, and durations in the catalog's words (risk.duration.*).
// A code the catalog does not know comes out as "[risk.reason.<code>]".
func Explain(cat *catalog.Catalog, lang mamoru.Language, r Reason) string {
	p := r.Params
	data := map[string]any{
		"IP":          p[ParamIP],
		"CIDR":        p[ParamCIDR],
		"Country":     display.Country(lang, p[ParamCountry]),
		"CountryCode": p[ParamCountry],
		"Network":     network(cat, lang, p[ParamASN], p[ParamOrg]),
		"Distance":    grouped(p[ParamDistance]),
		"Speed":       grouped(p[ParamSpeed]),
		"From":        display.Country(lang, p[ParamFrom]),
		"Count":       grouped(p[ParamCount]),
		"Days":        grouped(p[ParamDays]),
		"OS":          p[ParamOS],
		"Browser":     p[ParamBrowser],
		"Score":       p[ParamScore],
		"Value":       p[ParamValue],
	}
	if f := p[ParamFeature]; f != "" {
		data["Feature"] = cat.T(lang, "risk.feature."+f, nil)
		if Feature(f) == FeatureCountry && p[ParamValue] != "" {
			lp, rp := " (", ")"
			if lang == mamoru.Japanese {
				lp, rp = "（", "）"
			}
			data["Value"] = display.Country(lang, p[ParamValue]) + lp + p[ParamValue] + rp
		}
	}
	if m, err := strconv.Atoi(p[ParamMinutes]); err == nil {
		d := time.Duration(m) * time.Minute
		data["Elapsed"] = duration(cat, lang, d)
		switch d {
		case time.Hour:
			data["Window"] = cat.T(lang, "risk.window.hour", nil)
		case 24 * time.Hour:
			data["Window"] = cat.T(lang, "risk.window.day", nil)
		default:
			data["Window"] = duration(cat, lang, d)
		}
	}
	return cat.T(lang, "risk.reason."+r.Code, data)
}

// network writes an ASN and its organisation, or the catalog's "unknown
// network".
func network(cat *catalog.Catalog, lang mamoru.Language, asn, org string) string {
	n, err := strconv.ParseUint(asn, 10, 32)
	if err != nil || n == 0 {
		return cat.T(lang, "risk.network.unknown", nil)
	}
	return display.Network(mamoru.Place{ASN: uint32(n), Org: org})
}

// duration writes d in whole minutes (under 2 hours), hours (under 2
// days) or days.
func duration(cat *catalog.Catalog, lang mamoru.Language, d time.Duration) string {
	unitID, n := "minute", int64(d/time.Minute)
	switch {
	case d >= 48*time.Hour:
		unitID, n = "day", int64(d/(24*time.Hour))
	case d >= 2*time.Hour:
		unitID, n = "hour", int64(d/time.Hour)
	}
	if n == 1 {
		return cat.T(lang, "risk.duration."+unitID, nil)
	}
	return cat.T(lang, "risk.duration."+unitID+"s", map[string]any{"N": grouped(strconv.FormatInt(n, 10))})
}

// grouped writes the decimal number s with thousands separators
// ("12345" → "12,345"); anything else is returned as it is.
func grouped(s string) string {
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return s
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}
