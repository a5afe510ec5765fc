package risk

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sampleReasons has a reason for every code, with the parameters Assess
// gives it.
var sampleReasons = []Reason{
	{Code: ReasonDenyCIDR, Params: map[string]string{ParamIP: "203.0.113.7", ParamCIDR: "203.0.113.0/24"}},
	{Code: ReasonDenyCountry, Params: map[string]string{ParamCountry: "KP"}},
	{Code: ReasonHostileValue, Params: map[string]string{ParamFeature: "device", ParamValue: "Chrome 131 (Windows 10)"}},
	{Code: ReasonHostileValue, Params: map[string]string{ParamFeature: "ip", ParamValue: "198.51.100.66"}},
	{Code: ReasonHostileValue, Params: map[string]string{ParamFeature: "country", ParamValue: "RU"}},
	{Code: ReasonHostileValue, Params: map[string]string{ParamFeature: "ua", ParamValue: ""}},
	{Code: ReasonImpossibleTravel, Params: map[string]string{ParamDistance: "7479", ParamMinutes: "180", ParamSpeed: "2493", ParamFrom: "JP"}},
	{Code: ReasonImpossibleTravel, Params: map[string]string{ParamDistance: "250", ParamMinutes: "1", ParamSpeed: "15000", ParamFrom: ""}},
	{Code: ReasonBreachedPassword},
	{Code: ReasonIPFailures, Params: map[string]string{ParamIP: "198.51.100.66", ParamCount: "300", ParamMinutes: "60"}},
	{Code: ReasonIPFailures, Params: map[string]string{ParamIP: "2001:db8::1", ParamCount: "12000", ParamMinutes: "30"}},
	{Code: ReasonASNFailures, Params: map[string]string{ParamASN: "12389", ParamOrg: "Rostelecom", ParamCount: "4500", ParamMinutes: "1440"}},
	{Code: ReasonAnonymizerASN, Params: map[string]string{ParamASN: "60729", ParamOrg: "Tor exit"}},
	{Code: ReasonHostingASN, Params: map[string]string{ParamASN: "16509", ParamOrg: "Amazon.com"}},
	{Code: ReasonChallengeCountry, Params: map[string]string{ParamCountry: "FR"}},
	{Code: ReasonAttackWave},
	{Code: ReasonLongAbsence, Params: map[string]string{ParamDays: "1200"}},
	{Code: ReasonNewDevice},
	{Code: ReasonNewCountry, Params: map[string]string{ParamCountry: "RU"}},
	{Code: ReasonNewASN, Params: map[string]string{ParamASN: "4713", ParamOrg: "NTT Communications"}},
	{Code: ReasonNewASN, Params: map[string]string{ParamASN: "64500", ParamOrg: ""}},
	{Code: ReasonNewIP, Params: map[string]string{ParamIP: "203.0.113.99"}},
	{Code: ReasonNewOS, Params: map[string]string{ParamOS: "Linux"}},
	{Code: ReasonNewBrowser, Params: map[string]string{ParamBrowser: "Edge"}},
	{Code: ReasonHighScore, Params: map[string]string{ParamScore: "5.3"}},
	{Code: ReasonAllowCIDR, Params: map[string]string{ParamIP: "192.0.2.10", ParamCIDR: "192.0.2.0/24"}},
	{Code: ReasonNoHistory},
}

func TestExplainGolden(t *testing.T) {
	cat := catalog.MustNew()
	covered := map[string]bool{}
	for _, lang := range mamoru.Languages {
		var b strings.Builder
		for _, r := range sampleReasons {
			covered[r.Code] = true
			s := Explain(cat, lang, r)
			if strings.Contains(s, "[risk.") || strings.Contains(s, "<no value>") {
				t.Errorf("%s %s: %q", lang, r.Code, s)
			}
			b.WriteString(r.Code + ": " + s + "\n")
		}
		golden(t, filepath.Join("testdata", "explain."+string(lang)+".golden"), b.String())
	}
	for _, c := range ReasonCodes {
		if !covered[c] {
			t.Errorf("no sample of %s", c)
		}
	}
}

// Every reason code and every feature has a text in every language.
func TestExplainCatalog(t *testing.T) {
	cat := catalog.MustNew()
	for _, lang := range mamoru.Languages {
		for _, c := range ReasonCodes {
			if !cat.Has(lang, "risk.reason."+c) {
				t.Errorf("%s: no risk.reason.%s", lang, c)
			}
		}
		for _, f := range Features {
			if !cat.Has(lang, "risk.feature."+string(f)) {
				t.Errorf("%s: no risk.feature.%s", lang, f)
			}
		}
	}
	if got := Explain(cat, mamoru.English, Reason{Code: "nope"}); got != "[risk.reason.nope]" {
		t.Errorf("unknown code: %q", got)
	}
}

// The reasons Assess gives can all be explained.
func TestExplainAssessed(t *testing.T) {
	cat := catalog.MustNew()
	end := t0.Add(30 * 24 * time.Hour)
	h, g := warm(t, 30, end)
	cfg := DefaultConfig()
	cfg.Lists.ChallengeCountries = []string{"RU"}
	e := mustEngine(t, cfg)
	a := attacker(end.Add(time.Hour))
	a.Flags = FlagAttackWave | FlagBreachedPassword
	got := e.Assess(a, h, g, fakeRep{ip: 300, asn: 5000})
	if len(got.Reasons) < 8 {
		t.Fatalf("reasons %v", got.Reasons)
	}
	for _, r := range got.Reasons {
		for _, lang := range mamoru.Languages {
			if s := Explain(cat, lang, r); strings.Contains(s, "[") || strings.Contains(s, "<no value>") {
				t.Errorf("%s %s: %q", lang, r.Code, s)
			}
		}
	}
	want := "impossible travel: 7,479 km from the last sign-in (Japan) in 60 minutes (7,479 km/h)"
	if s := Explain(cat, mamoru.English, got.Reasons[0]); s != want {
		t.Errorf("got %q, want %q", s, want)
	}
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}
