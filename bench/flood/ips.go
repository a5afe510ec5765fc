package main

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
)

// nonPublic4 are the IPv4 ranges that are not public unicast addresses
// (RFC 6890 special-purpose registry, multicast, reserved): an attack
// address never falls in them, so the server sees only believable peers.
var nonPublic4 = prefixes(
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
	"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24",
	"192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15",
	"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
)

// public6 are global unicast IPv6 blocks of the five regional registries;
// addresses are drawn inside them (never documentation, 6to4 or Teredo).
var public6 = prefixes("2400::/12", "2600::/12", "2800::/12", "2a00::/12", "2c00::/12")

func prefixes(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, p := range s {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

// isPublic4 reports whether a is an IPv4 address outside nonPublic4.
func isPublic4(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	for _, p := range nonPublic4 {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// isPublic6 reports whether a is in one of public6.
func isPublic6(a netip.Addr) bool {
	if !a.Is6() || a.Is4In6() {
		return false
	}
	for _, p := range public6 {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// addrGen draws distinct random public addresses.
type addrGen struct {
	rng  *rand.Rand
	seen map[netip.Addr]bool
}

func newAddrGen(rng *rand.Rand) *addrGen {
	return &addrGen{rng: rng, seen: map[netip.Addr]bool{}}
}

// next returns a public address not returned before: IPv6 with
// probability v6Share, IPv4 otherwise.
func (g *addrGen) next(v6Share float64) netip.Addr {
	for {
		var a netip.Addr
		if g.rng.Float64() < v6Share {
			p := public6[g.rng.IntN(len(public6))]
			var b [16]byte
			binary.BigEndian.PutUint64(b[:8], g.rng.Uint64())
			binary.BigEndian.PutUint64(b[8:], g.rng.Uint64())
			base := p.Addr().As16()
			// Keep the prefix's 12 bits, randomize the rest.
			b[0] = base[0]
			b[1] = base[1]&0xf0 | b[1]&0x0f
			a = netip.AddrFrom16(b)
		} else {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], g.rng.Uint32())
			a = netip.AddrFrom4(b)
			if !isPublic4(a) {
				continue
			}
		}
		if !g.seen[a] {
			g.seen[a] = true
			return a
		}
	}
}

// strings returns n new addresses as strings.
func (g *addrGen) strings(n int, v6Share float64) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = g.next(v6Share).String()
	}
	return out
}
