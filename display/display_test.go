package display

import (
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/catalog"
)

func TestDisplay(t *testing.T) {
	cat, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	ja, en := mamoru.Japanese, mamoru.English
	at := time.Date(2026, 11, 21, 9, 4, 0, 0, time.UTC)
	tokyo := mamoru.Place{Country: "JP", Region: "Tokyo", RegionJA: "東京都", City: "Shinjuku", CityJA: "新宿区"}
	chrome := mamoru.Device{Browser: "Chrome", BrowserVersion: "131", OS: "Windows", OSVersion: "10"}
	for _, c := range []struct{ got, want string }{
		{Time(ja, "Asia/Tokyo", at), "2026年11月21日 18:04 (JST)"},
		{Time(en, "", at), "21 November 2026 09:04 (UTC)"},
		{Time(en, "Not/AZone", at), "21 November 2026 09:04 (UTC)"},
		{Time(en, "Asia/Kolkata", at), "21 November 2026 14:34 (IST)"},
		{Time(en, "Etc/GMT-9", at), "21 November 2026 18:04 (UTC+9)"},
		{Place(cat, en, tokyo), "Shinjuku, Tokyo, Japan"},
		{Place(cat, ja, tokyo), "日本 東京都 新宿区"},
		{Place(cat, en, mamoru.Place{Country: "RU"}), "Russia"},
		{Place(cat, ja, mamoru.Place{Country: "RU"}), "ロシア"},
		{Place(cat, en, mamoru.Place{Country: "GB", Region: "London", City: "London"}), "London, United Kingdom"},
		{Place(cat, en, mamoru.Place{}), "unknown location"},
		{Place(cat, ja, mamoru.Place{ASN: 1}), "不明な場所"},
		{PlaceApprox(cat, en, tokyo), "near Shinjuku, Tokyo, Japan (approximate)"},
		{PlaceApprox(cat, ja, tokyo), "日本 東京都 新宿区 付近（おおよその位置）"},
		{Device(cat, en, chrome), "Chrome 131 on Windows 10"},
		{Device(cat, ja, chrome), "Windows 10 の Chrome 131"},
		{Device(cat, en, mamoru.Device{Browser: "curl", BrowserVersion: "8"}), "curl 8"},
		{Device(cat, ja, mamoru.Device{}), "不明な端末"},
		{Network(mamoru.Place{ASN: 2516, Org: "KDDI"}), "AS2516 KDDI"},
		{Network(mamoru.Place{}), ""},
		{Country(en, "ZZ9"), "ZZ9"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	for tz, ok := range map[string]bool{"Asia/Tokyo": true, "UTC": true, "": false, "Local": false, "../../etc/passwd": false, "Asia/Tokyo\n": false} {
		if ValidTimeZone(tz) != ok {
			t.Errorf("ValidTimeZone(%q) = %v", tz, !ok)
		}
	}
}
