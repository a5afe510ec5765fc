// Package clientip finds the address of the client of an HTTP request
// behind reverse proxies and load balancers, trusting forwarding headers
// only from configured proxies.
//
// The peer of the connection (Request.RemoteAddr) is the only address no
// one can forge. When the peer is a trusted proxy, the forwarding header
// (X-Forwarded-For, or Forwarded of RFC 7239) is read from the right,
// where each proxy appends the address it received the request from:
// trusted proxies are skipped, and the first address that is not one is
// the client. Everything left of it was written by the client and is
// never believed. A header from a peer that is not trusted is ignored.
package clientip

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// The headers a Resolver can read.
const (
	XForwardedFor = "X-Forwarded-For"
	Forwarded     = "Forwarded" // RFC 7239
)

// Resolver finds client addresses. It is safe for concurrent use, and a
// nil *Resolver uses the peer address only.
type Resolver struct {
	trusted []netip.Prefix
	header  string // XForwardedFor, Forwarded, or "" for none
}

// New returns a Resolver that believes header (XForwardedFor, Forwarded,
// or "" to use the peer address only; matched without regard to case)
// when the peer is in one of the trusted prefixes. IPv4-mapped IPv6
// prefixes are taken as IPv4.
func New(trusted []netip.Prefix, header string) (*Resolver, error) {
	r := &Resolver{}
	switch {
	case header == "":
	case strings.EqualFold(header, XForwardedFor):
		r.header = XForwardedFor
	case strings.EqualFold(header, Forwarded):
		r.header = Forwarded
	default:
		return nil, fmt.Errorf("clientip: header %q is not supported: use %q, %q or \"\" (none)", header, XForwardedFor, Forwarded)
	}
	for _, p := range trusted {
		if !p.IsValid() {
			return nil, fmt.Errorf("clientip: invalid trusted prefix %v", p)
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		r.trusted = append(r.trusted, p.Masked())
	}
	return r, nil
}

// ParseTrusted parses a list of networks (trusted proxies, the risk
// engine's allow and deny lists) given as CIDR prefixes
// ("10.0.0.0/8", "2001:db8::/32") or single addresses ("192.0.2.10",
// taken as /32 or /128), ignoring surrounding spaces and empty entries.
// It reports every bad entry.
func ParseTrusted(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var bad []string
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%q", s))
				continue
			}
			if p.Masked() != p {
				bad = append(bad, fmt.Sprintf("%q (host bits set; did you mean %s?)", s, p.Masked()))
				continue
			}
			out = append(out, p)
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			bad = append(bad, fmt.Sprintf("%q", s))
			continue
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("not an IP address or CIDR prefix: %s", strings.Join(bad, ", "))
	}
	return out, nil
}

// Header returns the header the Resolver reads, or "".
func (r *Resolver) Header() string {
	if r == nil {
		return ""
	}
	return r.header
}

// Trusted returns the trusted prefixes.
func (r *Resolver) Trusted() []netip.Prefix {
	if r == nil {
		return nil
	}
	return append([]netip.Prefix(nil), r.trusted...)
}

// IsTrusted reports whether ip is a trusted proxy.
func (r *Resolver) IsTrusted(ip netip.Addr) bool {
	if r == nil {
		return false
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range r.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ClientIP returns the client address of req: the peer, or when the peer
// is a trusted proxy, the rightmost address of the forwarding header that
// is not a trusted proxy. When every address is trusted it is the leftmost
// one. An entry that is not an address ("unknown", an obfuscated
// identifier, garbage) ends the walk: the address right of it (the proxy
// that wrote it) is returned. Addresses come back unmapped (IPv4 as
// IPv4), without zone. The result is the zero Addr only when RemoteAddr
// is not an address (e.g. a Unix socket).
func (r *Resolver) ClientIP(req *http.Request) netip.Addr {
	return r.resolve(req.RemoteAddr, req.Header)
}

func (r *Resolver) resolve(remoteAddr string, h http.Header) netip.Addr {
	peer := Peer(remoteAddr)
	if r == nil || r.header == "" || !peer.IsValid() || !r.IsTrusted(peer) {
		return peer
	}
	lines := h[r.header] // canonical keys: X-Forwarded-For, Forwarded
	if r.header == Forwarded {
		return r.walkForwarded(lines, peer)
	}
	return r.walkXFF(lines, peer)
}

// walkXFF walks the comma-separated entries of the lines from the right.
func (r *Resolver) walkXFF(lines []string, peer netip.Addr) netip.Addr {
	last := peer
	for i := len(lines) - 1; i >= 0; i-- {
		s := lines[i]
		for {
			j := strings.LastIndexByte(s, ',')
			a, ok := parseNode(strings.TrimSpace(s[j+1:]))
			if !ok {
				return last
			}
			if !r.IsTrusted(a) {
				return a
			}
			last = a
			if j < 0 {
				break
			}
			s = s[:j]
		}
	}
	return last
}

// walkForwarded walks the for= parameters of the Forwarded elements from
// the right. An element without exactly one for= ends the walk.
func (r *Resolver) walkForwarded(lines []string, peer netip.Addr) netip.Addr {
	var nodes []string
	for _, line := range lines {
		nodes = appendForwardedFor(nodes, line)
	}
	last := peer
	for i := len(nodes) - 1; i >= 0; i-- {
		a, ok := parseNode(nodes[i])
		if !ok {
			return last
		}
		if !r.IsTrusted(a) {
			return a
		}
		last = a
	}
	return last
}

// appendForwardedFor appends, for each element of a Forwarded header
// value, its for= value, unquoted ("" when the element has none, or more
// than one, or is malformed).
func appendForwardedFor(nodes []string, s string) []string {
	var (
		forVal    string
		forSeen   int
		bad       bool
		inQuote   bool
		escaped   bool
		pairStart int
	)
	endPair := func(p string) {
		p = strings.TrimSpace(p)
		if p == "" {
			return
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			bad = true
			return
		}
		if strings.EqualFold(strings.TrimSpace(k), "for") {
			forSeen++
			v = strings.TrimSpace(v)
			if strings.HasPrefix(v, `"`) {
				v = unquote(v)
			}
			forVal = v
		}
	}
	endElement := func() {
		if bad || forSeen != 1 {
			forVal = ""
		}
		nodes = append(nodes, forVal)
		forVal, forSeen, bad = "", 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case inQuote && c == '\\':
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == ';' || c == ','):
			endPair(s[pairStart:i])
			pairStart = i + 1
			if c == ',' {
				endElement()
			}
		}
	}
	if inQuote {
		bad = true // unterminated quoted-string
	}
	endPair(s[pairStart:])
	endElement()
	return nodes
}

// unquote removes the quotes of a quoted-string and its backslash escapes;
// anything else is returned as "" (not a node).
func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return ""
	}
	v = v[1 : len(v)-1]
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// Peer parses a RemoteAddr ("host:port", "[v6]:port", or a bare address)
// into the peer's address, unmapped and without zone; the zero Addr if it
// is not an IP address (a Unix socket).
func Peer(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	a, ok := parseNode(s)
	if !ok {
		return netip.Addr{}
	}
	return a
}

// parseNode parses one hop of a forwarding header: "192.0.2.1",
// "192.0.2.1:8080", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:443",
// with an optional zone, and a port that may be obfuscated ("_x1").
// "unknown", obfuscated identifiers and anything else are not addresses.
func parseNode(s string) (netip.Addr, bool) {
	if s == "" || len(s) > 100 {
		return netip.Addr{}, false
	}
	host := s
	switch {
	case s[0] == '[':
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		host = s[1:end]
		if rest := s[end+1:]; rest != "" && (rest[0] != ':' || !validPort(rest[1:])) {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() {
			return netip.Addr{}, false
		}
		return a.Unmap().WithZone(""), true
	case strings.Count(s, ":") == 1: // IPv4 with a port
		var port string
		host, port, _ = strings.Cut(s, ":")
		if !validPort(port) {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is4() {
			return netip.Addr{}, false
		}
		return a, true
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// validPort reports whether s is a port number or an obfuscated port
// ("_" followed by letters, digits, ".", "_", "-"; RFC 7239).
func validPort(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '_' {
		for i := 1; i < len(s); i++ {
			c := s[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
		return len(s) > 1
	}
	if len(s) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n <= 65535
}
