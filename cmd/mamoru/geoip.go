package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/clientip"
	"github.com/mamoru-id/mamoru/geoip"
)

const geoipUsage = "usage: mamoru geoip lookup [--config FILE] [--city-db PATH] [--asn-db PATH] [--json] IP [IP...]"

// cmdGeoIP implements `mamoru geoip lookup`: what the configured GeoIP
// databases say about addresses, for operators checking their databases
// or a sign-in's place.
func cmdGeoIP(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "lookup" {
		return usageError{geoipUsage}
	}
	var c commonFlags
	fs := newFlagSet("geoip lookup", env)
	fs.StringVar(&c.config, "config", "", "YAML configuration file")
	cityDB := fs.String("city-db", "", "city database (.mmdb); overrides geoip.city_db")
	asnDB := fs.String("asn-db", "", "ASN database (.mmdb); overrides geoip.asn_db")
	asJSON := fs.Bool("json", false, "one JSON object per address")
	// Flags may come before, between or after the addresses.
	var ips []string
	rest := args[1:]
	for {
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		ips = append(ips, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(ips) == 0 {
		return usageError{geoipUsage}
	}
	cfg, err := c.load(env, func(cfg *Config) {
		if *cityDB != "" {
			cfg.GeoIP.CityDB = *cityDB
		}
		if *asnDB != "" {
			cfg.GeoIP.ASNDB = *asnDB
		}
	})
	if err != nil {
		return err
	}
	if cfg.GeoIP.CityDB == "" && cfg.GeoIP.ASNDB == "" {
		return errors.New("no GeoIP database: set geoip.city_db and geoip.asn_db (MAMORU_GEOIP_CITY_DB, MAMORU_GEOIP_ASN_DB) or use --city-db and --asn-db (see docs/geoip.md)")
	}
	db, err := openGeoIP(cfg.GeoIP)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, info := range db.Info() {
		fmt.Fprintln(env.stderr, "#", info)
	}

	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	var bad []string
	for _, arg := range ips {
		ip, err := netip.ParseAddr(strings.Trim(arg, "[]"))
		if err != nil {
			bad = append(bad, strconv.Quote(arg))
			fmt.Fprintf(env.stderr, "%s: not an IP address\n", arg)
			continue
		}
		p, lerr := db.LookupErr(ip)
		if *asJSON {
			out := geoipJSON{IP: ip.String(), Public: geoip.Public(ip), Known: p.Known(), Place: p}
			if lerr != nil {
				out.Error = lerr.Error()
			}
			b, err := json.Marshal(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.stdout, "%s\n", b)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\n", ip, describePlace(ip, p, lerr))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("not an IP address: %s", strings.Join(bad, ", "))
	}
	return nil
}

// geoipJSON is a line of `mamoru geoip lookup --json`.
type geoipJSON struct {
	IP     string `json:"ip"`
	Public bool   `json:"public"` // false: private, loopback... never looked up
	Known  bool   `json:"known"`
	mamoru.Place
	Error string `json:"error,omitempty"`
}

// describePlace is a line of `mamoru geoip lookup`, columns separated by
// tabs: country, region, city, coordinates and radius, network.
func describePlace(ip netip.Addr, p mamoru.Place, err error) string {
	if !geoip.Public(ip) {
		return "unknown (not a public address: never looked up)"
	}
	var cols []string
	if p.Known() {
		cols = append(cols, orDash(p.Country), withJA(p.Region, p.RegionJA), withJA(p.City, p.CityJA))
		coords := "-"
		if p.HasCoords {
			coords = strconv.FormatFloat(p.Latitude, 'f', 4, 64) + "," + strconv.FormatFloat(p.Longitude, 'f', 4, 64)
			if p.RadiusKM > 0 {
				coords += " ±" + strconv.Itoa(p.RadiusKM) + " km"
			}
		}
		cols = append(cols, coords)
		network := "-"
		if p.ASN != 0 {
			network = "AS" + strconv.FormatUint(uint64(p.ASN), 10)
			if p.Org != "" {
				network += " " + p.Org
			}
		}
		cols = append(cols, network)
	} else {
		cols = append(cols, "unknown")
	}
	if err != nil {
		cols = append(cols, "error: "+err.Error())
	}
	return strings.Join(cols, "\t")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// withJA is "Tokyo (東京都)", "Tokyo", or "-".
func withJA(en, ja string) string {
	switch {
	case en != "" && ja != "" && ja != en:
		return en + " (" + ja + ")"
	case en != "":
		return en
	case ja != "":
		return ja
	}
	return "-"
}

// openGeoIP opens the configured GeoIP databases. With none configured it
// returns a DB that knows nothing, not an error.
func openGeoIP(c GeoIPConfig) (*geoip.DB, error) {
	return geoip.Open(c.CityDB, c.ASNDB)
}

// clientIPResolver builds the client address resolver of the
// configuration (trusted_proxies, proxy_header) for web.Config.ClientIP.
func clientIPResolver(c Config) (*clientip.Resolver, error) {
	trusted, err := clientip.ParseTrusted(c.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("trusted_proxies: %w", err)
	}
	return clientip.New(trusted, c.ProxyHeader)
}
