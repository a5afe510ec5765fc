package clientip

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// The proxies of the tests: a private network, one address, and an IPv6
// range.
var testTrusted = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("192.0.2.10/32"),
	netip.MustParsePrefix("2001:db8:ffff::/48"),
}

func mustNew(t testing.TB, trusted []netip.Prefix, header string) *Resolver {
	t.Helper()
	r, err := New(trusted, header)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func request(remote string, header string, lines ...string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "https://id.example.com/", nil)
	req.RemoteAddr = remote
	for _, l := range lines {
		req.Header.Add(header, l)
	}
	return req
}

type testCase struct {
	name   string
	remote string
	lines  []string
	want   string // "" for the zero Addr
}

func run(t *testing.T, r *Resolver, header string, tests []testCase) {
	t.Helper()
	for _, tt := range tests {
		got := r.ClientIP(request(tt.remote, header, tt.lines...))
		want := netip.Addr{}
		if tt.want != "" {
			want = netip.MustParseAddr(tt.want)
		}
		if got != want {
			t.Errorf("%s: ClientIP(%s, %q) = %v, want %v", tt.name, tt.remote, tt.lines, got, want)
		}
	}
}

func TestXForwardedFor(t *testing.T) {
	r := mustNew(t, testTrusted, "X-Forwarded-For")
	run(t, r, "X-Forwarded-For", []testCase{
		{"no proxy", "198.51.100.7:5555", nil, "198.51.100.7"},
		{"untrusted peer's header ignored", "203.0.113.5:1234", []string{"1.1.1.1"}, "203.0.113.5"},
		{"untrusted peer's spoof of a trusted proxy ignored", "203.0.113.5:1234", []string{"10.0.0.1"}, "203.0.113.5"},
		{"trusted peer without header", "10.0.0.1:80", nil, "10.0.0.1"},
		{"one proxy", "10.0.0.1:80", []string{"198.51.100.7"}, "198.51.100.7"},
		{"client-sent header, proxy appends", "10.0.0.1:80", []string{"1.1.1.1, 198.51.100.7"}, "198.51.100.7"},
		{"client-sent trusted address", "10.0.0.1:80", []string{"10.9.9.9, 198.51.100.7"}, "198.51.100.7"},
		{"several proxies", "10.0.0.4:80", []string{"198.51.100.7, 10.0.0.2, 192.0.2.10"}, "198.51.100.7"},
		{"spoof through several proxies", "10.0.0.4:80", []string{"6.6.6.6, 198.51.100.7, 10.0.0.2, 10.0.0.3"}, "198.51.100.7"},
		{"untrusted hop between proxies", "10.0.0.4:80", []string{"198.51.100.7, 203.0.113.9, 10.0.0.2"}, "203.0.113.9"},
		{"lines combined in order", "10.0.0.4:80", []string{"6.6.6.6", "198.51.100.7, 10.0.0.2"}, "198.51.100.7"},
		{"last line is rightmost", "10.0.0.4:80", []string{"198.51.100.7", "203.0.113.9"}, "203.0.113.9"},
		{"trusted hops across lines", "10.0.0.4:80", []string{"198.51.100.7, 10.0.0.3", "10.0.0.2"}, "198.51.100.7"},
		{"all trusted: leftmost", "10.0.0.4:80", []string{"10.0.0.5, 10.0.0.6"}, "10.0.0.5"},
		{"spaces", "10.0.0.4:80", []string{"  198.51.100.7\t,10.0.0.2 "}, "198.51.100.7"},
		{"IPv4 with port", "10.0.0.4:80", []string{"198.51.100.7:5555"}, "198.51.100.7"},
		{"IPv6", "[2001:db8:ffff::1]:443", []string{"2001:db8:1::7"}, "2001:db8:1::7"},
		{"IPv6 in brackets with port", "[2001:db8:ffff::1]:443", []string{"[2001:db8:1::7]:4711"}, "2001:db8:1::7"},
		{"IPv6 in brackets", "[2001:db8:ffff::1]:443", []string{"[2001:db8:1::7]"}, "2001:db8:1::7"},
		{"IPv6 trusted hops", "[2001:db8:ffff::1]:443", []string{"2001:db8:1::7, [2001:db8:ffff::2]:80, 10.0.0.3"}, "2001:db8:1::7"},
		{"v4-mapped entry", "10.0.0.4:80", []string{"::ffff:198.51.100.7"}, "198.51.100.7"},
		{"v4-mapped trusted entry", "10.0.0.4:80", []string{"198.51.100.7, [::ffff:10.0.0.2]:80"}, "198.51.100.7"},
		{"v4-mapped peer", "[::ffff:10.0.0.1]:80", []string{"198.51.100.7"}, "198.51.100.7"},
		{"v4-mapped untrusted peer", "[::ffff:203.0.113.5]:80", []string{"198.51.100.7"}, "203.0.113.5"},
		{"zone stripped", "10.0.0.4:80", []string{"fe80::1%eth0"}, "fe80::1"},
		{"peer zone stripped", "[fe80::1%eth0]:80", nil, "fe80::1"},
		{"garbage rightmost: the peer", "10.0.0.1:80", []string{"198.51.100.7, garbage"}, "10.0.0.1"},
		{"garbage behind a proxy: the proxy", "10.0.0.1:80", []string{"198.51.100.7, garbage, 10.0.0.2"}, "10.0.0.2"},
		{"garbage left of the client", "10.0.0.1:80", []string{"<script>, 198.51.100.7"}, "198.51.100.7"},
		{"unknown", "10.0.0.1:80", []string{"unknown"}, "10.0.0.1"},
		{"empty value", "10.0.0.1:80", []string{""}, "10.0.0.1"},
		{"empty entry", "10.0.0.1:80", []string{"198.51.100.7,,10.0.0.2"}, "10.0.0.2"},
		{"trailing comma", "10.0.0.1:80", []string{"198.51.100.7,"}, "10.0.0.1"},
		{"bad port", "10.0.0.1:80", []string{"198.51.100.7:99999"}, "10.0.0.1"},
		{"hostname", "10.0.0.1:80", []string{"evil.example.com"}, "10.0.0.1"},
		{"CIDR", "10.0.0.1:80", []string{"198.51.100.0/24"}, "10.0.0.1"},
		{"IPv4 in brackets", "10.0.0.1:80", []string{"[198.51.100.7]"}, "10.0.0.1"},
		{"unclosed bracket", "10.0.0.1:80", []string{"[2001:db8::1"}, "10.0.0.1"},
		{"peer without port", "10.0.0.1", []string{"198.51.100.7"}, "198.51.100.7"},
		{"unix socket", "@", []string{"198.51.100.7"}, ""},
		{"no peer", "", []string{"198.51.100.7"}, ""},
		{"long header", "10.0.0.1:80", []string{strings.Repeat("6.6.6.6, ", 10000) + "198.51.100.7"}, "198.51.100.7"},
	})
	// The Forwarded header is not read when X-Forwarded-For is configured.
	run(t, r, "Forwarded", []testCase{{"other header", "10.0.0.1:80", []string{"for=198.51.100.7"}, "10.0.0.1"}})
}

func TestForwarded(t *testing.T) {
	r := mustNew(t, testTrusted, "forwarded")
	run(t, r, "Forwarded", []testCase{
		{"untrusted peer's header ignored", "203.0.113.5:1234", []string{"for=1.1.1.1"}, "203.0.113.5"},
		{"one proxy", "10.0.0.1:80", []string{"for=198.51.100.7"}, "198.51.100.7"},
		{"RFC 7239 example", "10.0.0.1:80", []string{"for=192.0.2.43, for=198.51.100.17;by=203.0.113.60;proto=http;host=example.com"}, "198.51.100.17"},
		{"quoted IPv6 with port", "10.0.0.1:80", []string{`For="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{"quoted IPv4", "10.0.0.1:80", []string{`for="198.51.100.7"`}, "198.51.100.7"},
		{"escapes", "10.0.0.1:80", []string{`for="\[2001:db8::1\]"`}, "2001:db8::1"},
		{"unquoted brackets (lenient)", "10.0.0.1:80", []string{"for=[2001:db8::1]"}, "2001:db8::1"},
		{"other parameters first", "10.0.0.1:80", []string{"proto=https; for=198.51.100.7 ;host=id.example.com"}, "198.51.100.7"},
		{"comma inside quotes", "10.0.0.1:80", []string{`for=198.51.100.7;ext="a, for=6.6.6.6"`}, "198.51.100.7"},
		{"spoof, proxy appends", "10.0.0.1:80", []string{"for=6.6.6.6, for=198.51.100.7"}, "198.51.100.7"},
		{"trusted hops", "10.0.0.1:80", []string{`for=198.51.100.7, for="[2001:db8:ffff::2]";by=10.0.0.1, for=10.0.0.2`}, "198.51.100.7"},
		{"lines combined in order", "10.0.0.1:80", []string{"for=6.6.6.6", "for=198.51.100.7, for=10.0.0.2"}, "198.51.100.7"},
		{"all trusted: leftmost", "10.0.0.1:80", []string{"for=10.0.0.5, for=10.0.0.6"}, "10.0.0.5"},
		{"unknown: the peer", "10.0.0.1:80", []string{"for=unknown"}, "10.0.0.1"},
		{"obfuscated rightmost: the peer", "10.0.0.1:80", []string{"for=198.51.100.7, for=_hidden"}, "10.0.0.1"},
		{"obfuscated left of the client", "10.0.0.1:80", []string{"for=_hidden, for=198.51.100.7"}, "198.51.100.7"},
		{"obfuscated port", "10.0.0.1:80", []string{`for="198.51.100.7:_p1"`}, "198.51.100.7"},
		{"element without for", "10.0.0.1:80", []string{"for=198.51.100.7, proto=https"}, "10.0.0.1"},
		{"two for in one element", "10.0.0.1:80", []string{"for=6.6.6.6;for=198.51.100.7"}, "10.0.0.1"},
		{"unterminated quote", "10.0.0.1:80", []string{`for="198.51.100.7`}, "10.0.0.1"},
		{"pair without =", "10.0.0.1:80", []string{"for=198.51.100.7;garbage"}, "10.0.0.1"},
		{"X-Forwarded-For syntax", "10.0.0.1:80", []string{"198.51.100.7"}, "10.0.0.1"},
		{"empty", "10.0.0.1:80", []string{""}, "10.0.0.1"},
		{"v4-mapped", "10.0.0.1:80", []string{`for="[::ffff:198.51.100.7]"`}, "198.51.100.7"},
	})
	run(t, r, "X-Forwarded-For", []testCase{{"other header", "10.0.0.1:80", []string{"198.51.100.7"}, "10.0.0.1"}})
}

func TestPeerOnly(t *testing.T) {
	for _, r := range []*Resolver{nil, mustNew(t, testTrusted, ""), mustNew(t, nil, "X-Forwarded-For")} {
		run(t, r, "X-Forwarded-For", []testCase{
			{"header ignored", "10.0.0.1:80", []string{"198.51.100.7"}, "10.0.0.1"},
			{"v6 peer", "[2001:db8::1]:80", []string{"198.51.100.7"}, "2001:db8::1"},
		})
	}
	var r *Resolver
	if r.Header() != "" || r.Trusted() != nil || r.IsTrusted(netip.MustParseAddr("10.0.0.1")) {
		t.Error("nil Resolver")
	}
}

func TestNew(t *testing.T) {
	for _, h := range []string{"X-Real-IP", "True-Client-IP", "x-forwarded-for ", "Forwarded-For"} {
		if _, err := New(nil, h); err == nil {
			t.Errorf("header %q accepted", h)
		}
	}
	if _, err := New([]netip.Prefix{{}}, "X-Forwarded-For"); err == nil {
		t.Error("zero prefix accepted")
	}
	r := mustNew(t, []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104"), netip.MustParsePrefix("192.0.2.77/24")}, "x-FORWARDED-for")
	if r.Header() != XForwardedFor {
		t.Errorf("Header() = %q", r.Header())
	}
	if got := r.Trusted(); len(got) != 2 || got[0].String() != "10.0.0.0/8" || got[1].String() != "192.0.2.0/24" {
		t.Errorf("Trusted() = %v", got)
	}
	for ip, want := range map[string]bool{"10.1.2.3": true, "::ffff:10.1.2.3": true, "192.0.2.1": true, "11.0.0.1": false, "fe80::1%eth0": false} {
		if r.IsTrusted(netip.MustParseAddr(ip)) != want {
			t.Errorf("IsTrusted(%s) = %v", ip, !want)
		}
	}
}

func TestParseTrusted(t *testing.T) {
	got, err := ParseTrusted([]string{"10.0.0.0/8", " 192.0.2.10 ", "", "2001:db8::/32", "2001:db8::1", "::ffff:10.0.0.0/104"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.10/32", "2001:db8::/32", "2001:db8::1/128", "::ffff:10.0.0.0/104"}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("%d: %v, want %s", i, got[i], want[i])
		}
	}
	_, err = ParseTrusted([]string{"nope", "10.0.0.1/8", "1.2.3.4/33", "fe80::1%eth0", "10.0.0.0/8"})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, s := range []string{`"nope"`, `"10.0.0.1/8" (host bits set; did you mean 10.0.0.0/8?)`, `"1.2.3.4/33"`, `"fe80::1%eth0"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%s not reported in %v", s, err)
		}
	}
	if got, err := ParseTrusted(nil); got != nil || err != nil {
		t.Errorf("nil: %v %v", got, err)
	}
}

// FuzzClientIP: never panics, and the answer is the peer or an address
// written somewhere in the header.
func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:80", "198.51.100.7, 10.0.0.2", "", false)
	f.Add("10.0.0.1:80", "6.6.6.6", "198.51.100.7:80, [2001:db8::1]:443", false)
	f.Add("[2001:db8:ffff::1]:443", `for="[2001:db8:cafe::17]:4711";proto=https, for=_x`, "For=unknown", true)
	f.Add("203.0.113.5:1", "10.0.0.1", "", false)
	f.Add("@", "::ffff:1.2.3.4%eth0", "\xff,;\"", true)
	trustAll := mustNew(f, []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}, "")
	f.Fuzz(func(t *testing.T, remote, line1, line2 string, forwarded bool) {
		if len(line1)+len(line2) > 256 {
			return
		}
		header := XForwardedFor
		if forwarded {
			header = Forwarded
		}
		lines := []string{line1, line2}
		peer := Peer(remote)
		for _, r := range []*Resolver{mustNew(t, testTrusted, header), {trusted: trustAll.trusted, header: header}} {
			got := r.resolve(remote, http.Header{header: lines})
			if got == peer {
				continue
			}
			if !got.IsValid() || got.Zone() != "" || got.Is4In6() {
				t.Fatalf("got %v", got)
			}
			if !r.IsTrusted(peer) {
				t.Fatalf("untrusted peer %v, got %v", peer, got)
			}
			if !inText(got, line1) && !inText(got, line2) {
				t.Fatalf("%v is not in %q or %q", got, line1, line2)
			}
		}
	})
}

// inText reports whether some substring of s parses as a.
func inText(a netip.Addr, s string) bool {
	for i := range len(s) {
		for j := i + 1; j <= len(s) && j-i <= 64; j++ {
			if b, err := netip.ParseAddr(s[i:j]); err == nil && b.Unmap().WithZone("") == a {
				return true
			}
		}
	}
	return false
}

func BenchmarkClientIP(b *testing.B) {
	for _, bc := range []struct {
		name, header, remote, value string
	}{
		{"untrusted peer", XForwardedFor, "198.51.100.7:5555", "1.1.1.1"},
		{"X-Forwarded-For", XForwardedFor, "10.0.0.1:80", "6.6.6.6, 198.51.100.7, 10.0.0.2"},
		{"X-Forwarded-For IPv6", XForwardedFor, "[2001:db8:ffff::1]:443", "[2001:db8:1::7]:4711, 2001:db8:ffff::2"},
		{"Forwarded", Forwarded, "10.0.0.1:80", `for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.2`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := mustNew(b, testTrusted, bc.header)
			req := request(bc.remote, bc.header, bc.value)
			b.ReportAllocs()
			for b.Loop() {
				r.ClientIP(req)
			}
		})
	}
}
