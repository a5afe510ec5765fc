// Package geoiptest writes small MaxMind DB files for tests, in the record
// layouts of GeoLite2 City and GeoLite2 ASN, so that tests never need a
// real GeoIP database.
//
// Fixture writes a ready-made pair. Its networks (look them up with these
// addresses, e.g. in X-Forwarded-For behind a trusted proxy):
//
//	address        network         country  region (ja)               city (ja)                         lat, lon             radius  ASN      org
//	106.128.1.1    106.128.0.0/16  JP       Tokyo (東京都)             Shinjuku (新宿区)                  35.6938, 139.7034    20 km   AS2516   KDDI CORPORATION
//	240b:10::1     240b:10::/32    JP       Tokyo (東京都)             Shinjuku (新宿区)                  35.6938, 139.7034    20 km   AS2516   KDDI CORPORATION
//	106.160.1.1    106.160.0.0/16  JP       Osaka (大阪府)             Osaka (大阪市)                     34.6937, 135.5023    20 km   AS2516   KDDI CORPORATION
//	81.2.69.142    81.2.69.0/24    GB       England (イングランド)     London (ロンドン)                  51.5142, -0.0931     10 km   AS9009   M247 Europe SRL
//	3.80.0.10      3.80.0.0/16     US       New York (ニューヨーク州)  New York (ニューヨーク)            40.7128, -74.0060    50 km   AS16509  AMAZON-02
//	95.165.1.1     95.165.0.0/16   RU       Moscow (モスクワ)          Moscow (モスクワ)                  55.7522, 37.6156     50 km   AS8359   MTS PJSC
//	2a02:ff0::1    2a02:ff0::/32   DE       Hesse (ヘッセン州)         Frankfurt am Main (フランクフルト)  50.1109, 8.6821     100 km   AS9009   M247 Europe SRL
//	8.8.8.8        8.8.8.0/24      US       —                          —                                 —                     —      AS15169  GOOGLE
//	5.5.5.5        (none)          unknown: in neither database
//
// Japanese names exist only where shown. 8.8.8.0/24 knows the country and
// the ASN but no region, city or coordinates. AS2516 is a Japanese
// consumer ISP, AS16509 a hosting provider, AS9009 a hosting provider
// much used by VPNs. The places are invented for tests: they are not what
// a real database says about these addresses.
package geoiptest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// The database_type the writers put in the metadata.
const (
	CityType = "Mamoru-Test-City"
	ASNType  = "Mamoru-Test-ASN"
)

// CityRecord is one network of a city database. Empty fields are left out
// of the record; Lat and Lon both 0 leave out the location, Radius 0 the
// accuracy radius.
type CityRecord struct {
	Network          string // CIDR, IPv4 or IPv6
	Country          string // ISO 3166-1 alpha-2
	Region, RegionJA string // the first subdivision
	City, CityJA     string
	Lat, Lon         float64
	Radius           int // km
}

// ASNRecord is one network of an ASN database.
type ASNRecord struct {
	Network string
	ASN     uint32
	Org     string
}

// Addresses of the Fixture, by what they are.
const (
	Tokyo     = "106.128.1.1"
	TokyoV6   = "240b:10::1"
	Osaka     = "106.160.1.1"
	London    = "81.2.69.142"
	NewYork   = "3.80.0.10"
	Moscow    = "95.165.1.1"
	Frankfurt = "2a02:ff0::1" // IPv6
	Google    = "8.8.8.8"     // country and ASN only
	Unknown   = "5.5.5.5"     // in neither database
)

// FixtureCity and FixtureASN are the records of the Fixture.
var (
	FixtureCity = []CityRecord{
		{Network: "106.128.0.0/16", Country: "JP", Region: "Tokyo", RegionJA: "東京都", City: "Shinjuku", CityJA: "新宿区", Lat: 35.6938, Lon: 139.7034, Radius: 20},
		{Network: "240b:10::/32", Country: "JP", Region: "Tokyo", RegionJA: "東京都", City: "Shinjuku", CityJA: "新宿区", Lat: 35.6938, Lon: 139.7034, Radius: 20},
		{Network: "106.160.0.0/16", Country: "JP", Region: "Osaka", RegionJA: "大阪府", City: "Osaka", CityJA: "大阪市", Lat: 34.6937, Lon: 135.5023, Radius: 20},
		{Network: "81.2.69.0/24", Country: "GB", Region: "England", RegionJA: "イングランド", City: "London", CityJA: "ロンドン", Lat: 51.5142, Lon: -0.0931, Radius: 10},
		{Network: "3.80.0.0/16", Country: "US", Region: "New York", RegionJA: "ニューヨーク州", City: "New York", CityJA: "ニューヨーク", Lat: 40.7128, Lon: -74.0060, Radius: 50},
		{Network: "95.165.0.0/16", Country: "RU", Region: "Moscow", RegionJA: "モスクワ", City: "Moscow", CityJA: "モスクワ", Lat: 55.7522, Lon: 37.6156, Radius: 50},
		{Network: "2a02:ff0::/32", Country: "DE", Region: "Hesse", RegionJA: "ヘッセン州", City: "Frankfurt am Main", CityJA: "フランクフルト", Lat: 50.1109, Lon: 8.6821, Radius: 100},
		{Network: "8.8.8.0/24", Country: "US"},
	}
	FixtureASN = []ASNRecord{
		{Network: "106.128.0.0/16", ASN: 2516, Org: "KDDI CORPORATION"},
		{Network: "240b:10::/32", ASN: 2516, Org: "KDDI CORPORATION"},
		{Network: "106.160.0.0/16", ASN: 2516, Org: "KDDI CORPORATION"},
		{Network: "81.2.69.0/24", ASN: 9009, Org: "M247 Europe SRL"},
		{Network: "3.80.0.0/16", ASN: 16509, Org: "AMAZON-02"},
		{Network: "95.165.0.0/16", ASN: 8359, Org: "MTS PJSC"},
		{Network: "2a02:ff0::/32", ASN: 9009, Org: "M247 Europe SRL"},
		{Network: "8.8.8.0/24", ASN: 15169, Org: "GOOGLE"},
	}
)

// Fixture writes the fixture's city and ASN databases (see the package
// documentation) into a temporary directory of t and returns their paths.
func Fixture(t testing.TB) (cityPath, asnPath string) {
	t.Helper()
	dir := t.TempDir()
	cityPath, asnPath = filepath.Join(dir, "city.mmdb"), filepath.Join(dir, "asn.mmdb")
	WriteCity(t, cityPath, FixtureCity)
	WriteASN(t, asnPath, FixtureASN)
	return cityPath, asnPath
}

// WriteCity writes a city database (database_type CityType, IPv6 tree
// with IPv4 aliases, languages en and ja) with the records to path.
// Reserved networks (private, documentation) are allowed, so that tests
// can check they are never looked up.
func WriteCity(t testing.TB, path string, recs []CityRecord) {
	t.Helper()
	tree := newTree(t, CityType)
	for _, r := range recs {
		m := mmdbtype.Map{}
		if r.Country != "" {
			m["country"] = mmdbtype.Map{"iso_code": mmdbtype.String(r.Country)}
		}
		if r.Region != "" || r.RegionJA != "" {
			m["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"names": langs(r.Region, r.RegionJA)}}
		}
		if r.City != "" || r.CityJA != "" {
			m["city"] = mmdbtype.Map{"names": langs(r.City, r.CityJA)}
		}
		if r.Lat != 0 || r.Lon != 0 {
			loc := mmdbtype.Map{"latitude": mmdbtype.Float64(r.Lat), "longitude": mmdbtype.Float64(r.Lon)}
			if r.Radius != 0 {
				loc["accuracy_radius"] = mmdbtype.Uint16(r.Radius)
			}
			m["location"] = loc
		}
		insert(t, tree, r.Network, m)
	}
	write(t, tree, path)
}

// WriteASN writes an ASN database (database_type ASNType) with the records
// to path.
func WriteASN(t testing.TB, path string, recs []ASNRecord) {
	t.Helper()
	tree := newTree(t, ASNType)
	for _, r := range recs {
		m := mmdbtype.Map{}
		if r.ASN != 0 {
			m["autonomous_system_number"] = mmdbtype.Uint32(r.ASN)
		}
		if r.Org != "" {
			m["autonomous_system_organization"] = mmdbtype.String(r.Org)
		}
		insert(t, tree, r.Network, m)
	}
	write(t, tree, path)
}

// WriteType writes a database of the given database_type whose every
// network has the map record, for tests of type checks and odd layouts.
func WriteType(t testing.TB, path, databaseType string, networks []string, record mmdbtype.Map) {
	t.Helper()
	tree := newTree(t, databaseType)
	for _, n := range networks {
		insert(t, tree, n, record)
	}
	write(t, tree, path)
}

func langs(en, ja string) mmdbtype.Map {
	m := mmdbtype.Map{}
	if en != "" {
		m["en"] = mmdbtype.String(en)
	}
	if ja != "" {
		m["ja"] = mmdbtype.String(ja)
	}
	return m
}

func newTree(t testing.TB, typ string) *mmdbwriter.Tree {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            typ,
		Description:             map[string]string{"en": "mamoru test database"},
		Languages:               []string{"en", "ja"},
		IncludeReservedNetworks: true,
		RecordSize:              24,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func insert(t testing.TB, tree *mmdbwriter.Tree, network string, m mmdbtype.Map) {
	t.Helper()
	_, n, err := net.ParseCIDR(network)
	if err != nil {
		t.Fatalf("geoiptest: %v", err)
	}
	if err := tree.Insert(n, m); err != nil {
		t.Fatalf("geoiptest: insert %s: %v", network, err)
	}
}

func write(t testing.TB, tree *mmdbwriter.Tree, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
