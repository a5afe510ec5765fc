// Package geoip tells roughly where an IP address is, and on whose
// network, from MaxMind-format (MMDB) databases: a city database
// (GeoLite2 City, GeoIP2 City, DB-IP IP to City Lite) and an ASN database
// (GeoLite2 ASN, DB-IP IP to ASN Lite). Both are optional.
//
// The files are memory-mapped, not read into the heap; a lookup reads a few
// hundred bytes of them and allocates only the strings it returns. Places
// are approximate (a city database is often wrong about the city, and right
// about the country most of the time) and must be shown as such.
//
// "Not found" is never an error: an address the databases do not know, a
// private or loopback address, or a missing database all give the zero
// mamoru.Place.
package geoip

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/oschwald/maxminddb-golang/v2"
)

// Locator finds the place of an IP address. The zero Place means unknown.
// *DB implements it, including a nil *DB (which knows nothing).
type Locator interface {
	Lookup(ip netip.Addr) mamoru.Place
}

var _ Locator = (*DB)(nil)

// DB is a pair of open databases. It is safe for concurrent use. Lookups
// may run during Reload; Close must not.
type DB struct {
	cityPath, asnPath string
	cur               atomic.Pointer[readers]
}

// readers is one generation of open databases; Reload swaps it whole.
type readers struct {
	city, asn         *maxminddb.Reader
	cityInfo, asnInfo DBInfo
}

// DBInfo describes an open database file, for logs.
type DBInfo struct {
	Kind      string    // "city" or "asn"
	Path      string    // as configured
	Type      string    // the database_type metadata, e.g. "GeoLite2-City"
	Built     time.Time // the build_epoch metadata
	IPVersion int       // 4 or 6
	Nodes     int       // search tree nodes: a hint of the file's size
	ModTime   time.Time // of the file when it was opened
	Size      int64     // of the file when it was opened
}

// String returns e.g. "city GeoLite2-City built 2026-11-20 (/var/lib/GeoIP/GeoLite2-City.mmdb)".
func (i DBInfo) String() string {
	return fmt.Sprintf("%s %s built %s (%s)", i.Kind, i.Type, i.Built.UTC().Format("2006-01-02"), i.Path)
}

// Open opens the city database at cityPath and the ASN database at
// asnPath; either may be "" to go without it, and both "" gives a DB that
// knows nothing (not an error). Each file must be a MaxMind DB of the
// right kind: a city database (or a country database, which gives only
// countries) for cityPath, an ASN database for asnPath.
func Open(cityPath, asnPath string) (*DB, error) {
	db := &DB{cityPath: cityPath, asnPath: asnPath}
	r, err := openReaders(cityPath, asnPath)
	if err != nil {
		return nil, err
	}
	db.cur.Store(r)
	return db, nil
}

func openReaders(cityPath, asnPath string) (*readers, error) {
	r := &readers{}
	var err error
	if cityPath != "" {
		if r.city, r.cityInfo, err = openOne("city", cityPath); err != nil {
			return nil, err
		}
	}
	if asnPath != "" {
		if r.asn, r.asnInfo, err = openOne("asn", asnPath); err != nil {
			if r.city != nil {
				r.city.Close()
			}
			return nil, err
		}
	}
	return r, nil
}

// openOne opens and checks one database file.
func openOne(kind, path string) (*maxminddb.Reader, DBInfo, error) {
	info := DBInfo{Kind: kind, Path: path}
	name := "city database"
	if kind == "asn" {
		name = "ASN database"
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, info, fmt.Errorf("geoip: %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, info, fmt.Errorf("geoip: %s %s: not a regular file", name, path)
	}
	info.ModTime, info.Size = fi.ModTime(), fi.Size()
	rd, err := maxminddb.Open(path)
	if err != nil {
		return nil, info, fmt.Errorf("geoip: %s %s: not a readable MaxMind DB (.mmdb) file: %w", name, path, err)
	}
	md := rd.Metadata
	info.Type, info.Built = md.DatabaseType, md.BuildTime()
	info.IPVersion, info.Nodes = int(md.IPVersion), int(md.NodeCount)
	var ok bool
	if kind == "city" {
		ok = isCityType(md.DatabaseType)
	} else {
		ok = isASNType(md.DatabaseType)
	}
	if !ok {
		rd.Close()
		want := "a city database such as GeoLite2-City, GeoIP2-City or DBIP-City-Lite"
		if kind == "asn" {
			want = "an ASN database such as GeoLite2-ASN or DBIP-ASN-Lite"
		}
		return nil, info, fmt.Errorf("geoip: %s %s: database type is %q, want %s", name, path, md.DatabaseType, want)
	}
	// Decode one record, so that a file whose records we cannot read
	// fails now rather than at every sign-in.
	for _, probe := range probes {
		if probe.Is6() && md.IPVersion == 4 {
			continue
		}
		var err error
		if kind == "city" {
			var rec cityRecord
			err = rd.Lookup(probe).Decode(&rec)
		} else {
			var rec asnRecord
			err = rd.Lookup(probe).Decode(&rec)
		}
		if err != nil {
			rd.Close()
			return nil, info, fmt.Errorf("geoip: %s %s: cannot read its records: %w", name, path, err)
		}
	}
	return rd, info, nil
}

// probes are looked up when a database is opened.
var probes = []netip.Addr{netip.AddrFrom4([4]byte{8, 8, 8, 8}), netip.MustParseAddr("2001:4860:4860::8888")}

// isCityType reports whether a database_type has the GeoIP2 City record
// layout (country, subdivisions, city, location). Country databases share
// the layout without the city and location parts, and are accepted.
//
// Known values: GeoLite2-City, GeoIP2-City(-*), GeoIP2-Precision-City,
// GeoLite2-Country, GeoIP2-Country, GeoIP2-Enterprise, DBIP-City-Lite,
// DBIP-Country-Lite, "DBIP-Location (compat=City)",
// "DBIP-Location-ISP (compat=Enterprise)".
func isCityType(t string) bool {
	t = strings.ToLower(t)
	for _, s := range []string{"city", "country", "location", "enterprise"} {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}

// isASNType reports whether a database_type has the GeoLite2 ASN record
// layout (autonomous_system_number, autonomous_system_organization at the
// top). Known values: GeoLite2-ASN, "DBIP-ASN-Lite (compat=GeoLite2-ASN)",
// GeoIP2-ISP, GeoIP2-Precision-ISP. Enterprise databases keep the ASN in
// traits and are refused.
func isASNType(t string) bool {
	t = strings.ToLower(t)
	if strings.Contains(t, "enterprise") || strings.Contains(t, "city") {
		return false
	}
	return strings.Contains(t, "asn") || strings.Contains(t, "isp")
}

// names holds the two languages mamoru shows; the decoder skips the rest.
type names struct {
	EN string `maxminddb:"en"`
	JA string `maxminddb:"ja"`
}

// cityRecord is the part of a GeoIP2/GeoLite2/DB-IP city record we use.
type cityRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		Names names `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
	City struct {
		Names names `maxminddb:"names"`
	} `maxminddb:"city"`
	Location struct {
		Latitude       float64 `maxminddb:"latitude"`
		Longitude      float64 `maxminddb:"longitude"`
		AccuracyRadius uint16  `maxminddb:"accuracy_radius"`
	} `maxminddb:"location"`
}

// asnRecord is a GeoLite2 ASN (or DB-IP ASN Lite, or GeoIP2 ISP) record.
type asnRecord struct {
	Number       uint32 `maxminddb:"autonomous_system_number"`
	Organization string `maxminddb:"autonomous_system_organization"`
}

// Public reports whether ip (after unmapping) is an address a GeoIP
// database can place: not invalid, unspecified, loopback, private
// (RFC 1918, fc00::/7), shared (100.64.0.0/10), link-local or multicast.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid(), ip.IsUnspecified(), ip.IsLoopback(), ip.IsPrivate(),
		ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast(), ip.IsMulticast():
		return false
	case ip.Is4() && sharedAddressSpace.Contains(ip):
		return false
	}
	return true
}

var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10") // RFC 6598, carrier-grade NAT

// Lookup returns what the databases say about ip, or the zero Place. A
// v4-mapped IPv6 address is looked up as IPv4; non-public addresses (see
// Public) are not looked up. It never fails: a record that cannot be
// decoded counts as unknown (LookupErr reports it).
func (db *DB) Lookup(ip netip.Addr) mamoru.Place {
	p, _ := db.LookupErr(ip)
	return p
}

// LookupErr is Lookup that also reports a database error (a corrupt
// record, an IPv6 address in an IPv4-only database is not one: that is
// unknown). The Place holds whatever could be read.
func (db *DB) LookupErr(ip netip.Addr) (mamoru.Place, error) {
	var p mamoru.Place
	if db == nil {
		return p, nil
	}
	ip = ip.Unmap().WithZone("")
	if !Public(ip) {
		return p, nil
	}
	r := db.cur.Load()
	if r == nil {
		return p, nil
	}
	var errs []error
	if r.city != nil && (ip.Is4() || r.cityInfo.IPVersion == 6) {
		var rec cityRecord
		if err := r.city.Lookup(ip).Decode(&rec); err != nil {
			errs = append(errs, fmt.Errorf("geoip: city database: %w", err))
		} else {
			p.Country = rec.Country.ISOCode
			if len(rec.Subdivisions) > 0 {
				p.Region, p.RegionJA = rec.Subdivisions[0].Names.EN, rec.Subdivisions[0].Names.JA
			}
			p.City, p.CityJA = rec.City.Names.EN, rec.City.Names.JA
			if l := rec.Location; l.Latitude != 0 || l.Longitude != 0 {
				p.Latitude, p.Longitude, p.HasCoords = l.Latitude, l.Longitude, true
				p.RadiusKM = int(l.AccuracyRadius)
			}
		}
	}
	if r.asn != nil && (ip.Is4() || r.asnInfo.IPVersion == 6) {
		var rec asnRecord
		if err := r.asn.Lookup(ip).Decode(&rec); err != nil {
			errs = append(errs, fmt.Errorf("geoip: ASN database: %w", err))
		} else {
			p.ASN, p.Org = rec.Number, rec.Organization
		}
	}
	return p, errors.Join(errs...)
}

// Info describes the open databases, city first, for logs; nil when none
// is open.
func (db *DB) Info() []DBInfo {
	if db == nil {
		return nil
	}
	r := db.cur.Load()
	if r == nil {
		return nil
	}
	var out []DBInfo
	if r.city != nil {
		out = append(out, r.cityInfo)
	}
	if r.asn != nil {
		out = append(out, r.asnInfo)
	}
	return out
}

// Reload opens the configured files again and switches lookups to them,
// for when the files were replaced (geoipupdate and the DB-IP downloads
// write a new file and rename it over the old one; rewriting a file in
// place while it is mapped is not supported). On error the databases in
// use stay in use. The old files stay mapped until no lookup uses them
// and the garbage collector releases them.
func (db *DB) Reload() error {
	if db == nil {
		return nil
	}
	r, err := openReaders(db.cityPath, db.asnPath)
	if err != nil {
		return err
	}
	db.cur.Store(r)
	return nil
}

// ReloadIfChanged calls Reload when a configured file's modification time
// or size differs from when it was opened, and reports whether it did. It
// is cheap enough (two stat calls) to run every minute.
func (db *DB) ReloadIfChanged() (bool, error) {
	if db == nil {
		return false, nil
	}
	r := db.cur.Load()
	if r == nil {
		return false, nil
	}
	changed := func(path string, info DBInfo) bool {
		if path == "" {
			return false
		}
		fi, err := os.Stat(path)
		if err != nil {
			return false // being replaced, or gone: keep what we have
		}
		return !fi.ModTime().Equal(info.ModTime) || fi.Size() != info.Size
	}
	if !changed(db.cityPath, r.cityInfo) && !changed(db.asnPath, r.asnInfo) {
		return false, nil
	}
	return true, db.Reload()
}

// Close unmaps the databases. Lookups after Close know nothing; Close must
// not run while lookups are in progress (stop the server first).
func (db *DB) Close() error {
	if db == nil {
		return nil
	}
	r := db.cur.Swap(nil)
	if r == nil {
		return nil
	}
	var errs []error
	if r.city != nil {
		errs = append(errs, r.city.Close())
	}
	if r.asn != nil {
		errs = append(errs, r.asn.Close())
	}
	return errors.Join(errs...)
}
