package eval

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/risk"
)

// The simulated attackers of Wiefling et al. ("Pump Up Password
// Security!", ACM TOPS 2022, after Freeman et al., NDSS 2016). Each knows
// the victim's password and tries it once; they differ in what else they
// know. Everything they use is drawn from the log itself.
const (
	// Naive: knows nothing but the password. Network and client are drawn
	// from the log's legitimate sign-ins (so popular values are likely), the
	// network from another country than the victim's when the log has one.
	ModelNaive = "naive"
	// VPN: knows the victim's country and signs in through a VPN or
	// hosting network there; random client as the naive attacker.
	ModelVPN = "vpn"
	// Targeted: knows the victim's country, region and city and their
	// browser (the exact User-Agent they use most); signs in from another
	// network (another ASN) of the same country, preferably seen in the same
	// city, claiming the victim's place.
	ModelTargeted = "targeted"
)

// Models lists the attacker models in the order they are reported.
var Models = []string{ModelNaive, ModelVPN, ModelTargeted}

// reservoir keeps a uniform sample of at most size items of a stream.
type reservoir[T any] struct {
	items []T
	seen  int64
	size  int
}

// slot returns where the next item of the stream goes, or -1 if it is
// not kept.
func (r *reservoir[T]) slot(rng *rand.Rand) int {
	r.seen++
	if len(r.items) < r.size {
		var zero T
		r.items = append(r.items, zero)
		return len(r.items) - 1
	}
	if j := rng.Int64N(r.seen); j < int64(r.size) {
		return int(j)
	}
	return -1
}

func pick[T any](rng *rand.Rand, items []T) T { return items[rng.IntN(len(items))] }

type network struct {
	ip    netip.Addr
	place mamoru.Place
}

type client struct {
	ua     string
	device mamoru.Device
}

// population is what the log shows of networks and clients, sampled.
type population struct {
	networks  reservoir[network] // of legitimate sign-ins
	clients   reservoir[client]  // of legitimate sign-ins
	byCountry map[string]*countryNets
}

type countryNets struct {
	legit, attack reservoir[network]
}

const (
	populationSample = 4096 // networks and clients of legitimate sign-ins
	countrySample    = 128  // networks per country, legitimate and attack rows each
)

func newPopulation() *population {
	return &population{
		networks:  reservoir[network]{size: populationSample},
		clients:   reservoir[client]{size: populationSample},
		byCountry: map[string]*countryNets{},
	}
}

func (p *population) country(cc string) *countryNets {
	c := p.byCountry[cc]
	if c == nil {
		c = &countryNets{legit: reservoir[network]{size: countrySample}, attack: reservoir[network]{size: countrySample}}
		p.byCountry[cc] = c
	}
	return c
}

func (p *population) add(rng *rand.Rand, r *Row) {
	n := network{ip: r.IP, place: r.Place}
	if !r.Attack() {
		if i := p.networks.slot(rng); i >= 0 {
			p.networks.items[i] = n
		}
		if i := p.clients.slot(rng); i >= 0 {
			p.clients.items[i] = client{ua: strings.Clone(r.UserAgent), device: r.Device}
		}
	}
	if r.Place.Country == "" || !r.IP.IsValid() {
		return
	}
	c := p.country(r.Place.Country)
	res := &c.legit
	if r.Attack() {
		res = &c.attack
	}
	if i := res.slot(rng); i >= 0 {
		res.items[i] = n
	}
}

// victim is a user in the sample the simulated attackers attack: what the
// targeted attacker knows of them (their most used place and client, kept
// with the Misra-Gries summary from the time they entered the sample).
type victim struct {
	user    *userState
	places  [3]counted[placeKey]
	clients [3]counted[client]
}

type placeKey struct{ country, region, city string }

type counted[T comparable] struct {
	v T
	n int
}

// see counts v in a Misra-Gries summary of len(s) counters: a value used
// in more than 1/(len(s)+1) of the sign-ins is sure to be kept.
func see[T comparable](s []counted[T], v T) {
	free := -1
	for i := range s {
		if s[i].n > 0 && s[i].v == v {
			s[i].n++
			return
		}
		if s[i].n == 0 && free < 0 {
			free = i
		}
	}
	if free >= 0 {
		s[free] = counted[T]{v, 1}
		return
	}
	for i := range s {
		s[i].n--
	}
}

func top[T comparable](s []counted[T]) (T, bool) {
	best := -1
	for i := range s {
		if s[i].n > 0 && (best < 0 || s[i].n > s[best].n) {
			best = i
		}
	}
	if best < 0 {
		var zero T
		return zero, false
	}
	return s[best].v, true
}

func (v *victim) see(r *Row) {
	see(v.places[:], placeKey{r.Place.Country, r.Place.Region, r.Place.City})
	c := client{ua: r.UserAgent, device: r.Device}
	for i := range v.clients {
		if v.clients[i].n > 0 && v.clients[i].v == c {
			v.clients[i].n++
			return
		}
	}
	c.ua = strings.Clone(c.ua) // kept: do not hold on to the line
	see(v.clients[:], c)
}

// simulate draws the attempt of an attacker of the model against v, at
// time t relative to the victim's last sign-in. ok is false when the log
// has nothing to draw from.
func (p *population) simulate(rng *rand.Rand, model string, v *victim, lists risk.Lists) (risk.Attempt, bool) {
	if len(p.networks.items) == 0 || len(p.clients.items) == 0 {
		return risk.Attempt{}, false
	}
	home, _ := top(v.places[:])
	var a risk.Attempt
	randomClient := func() {
		c := pick(rng, p.clients.items)
		a.UserAgent, a.Device = c.ua, c.device
	}
	naiveNetwork := func() {
		var n network
		for range 16 {
			if n = pick(rng, p.networks.items); home.country == "" || n.place.Country != home.country {
				break
			}
		}
		a.IP, a.Place = n.ip, n.place
	}
	switch model {
	case ModelNaive:
		naiveNetwork()
		randomClient()
	case ModelVPN:
		randomClient()
		n, ok := p.vpnNetwork(rng, home.country, v.user, lists)
		if !ok {
			naiveNetwork()
			break
		}
		a.IP, a.Place = n.ip, n.place
	case ModelTargeted:
		if c, ok := top(v.clients[:]); ok {
			a.UserAgent, a.Device = c.ua, c.device
		} else {
			randomClient()
		}
		n, ok := p.otherNetwork(rng, home, v.user)
		if !ok {
			naiveNetwork()
			break
		}
		a.IP = n.ip
		a.Place = mamoru.Place{Country: home.country, Region: home.region, City: home.city, ASN: n.place.ASN, Org: n.place.Org}
	}
	return a, true
}

// vpnNetwork draws a network of country cc that looks like a VPN or
// hosting provider and that the user never used: one of the operator's
// listed hosting or anonymizer ASNs seen in cc, else one that attack IPs
// used in cc, else any other network seen in cc.
func (p *population) vpnNetwork(rng *rand.Rand, cc string, u *userState, lists risk.Lists) (network, bool) {
	c := p.byCountry[cc]
	if c == nil {
		return network{}, false
	}
	listed := func(n *network) bool {
		return slices.Contains(lists.HostingASNs, n.place.ASN) || slices.Contains(lists.AnonymizerASNs, n.place.ASN)
	}
	for _, keep := range []func(*network, bool) bool{
		func(n *network, _ bool) bool { return listed(n) && !u.usedASN(n.place.ASN) },
		func(n *network, attack bool) bool { return attack && !u.usedASN(n.place.ASN) },
		func(n *network, attack bool) bool { return !attack && !u.usedASN(n.place.ASN) },
	} {
		if n, ok := pickWhere(rng, c, keep); ok {
			return n, true
		}
	}
	return network{}, false
}

// otherNetwork draws a network of the victim's country in another ASN
// than the ones they used, seen in their city if possible.
func (p *population) otherNetwork(rng *rand.Rand, home placeKey, u *userState) (network, bool) {
	c := p.byCountry[home.country]
	if c == nil {
		return network{}, false
	}
	other := func(n *network, _ bool) bool { return !u.usedASN(n.place.ASN) }
	for _, keep := range []func(*network, bool) bool{
		func(n *network, a bool) bool { return other(n, a) && n.place.City == home.city && home.city != "" },
		other,
	} {
		if n, ok := pickWhere(rng, c, keep); ok {
			return n, true
		}
	}
	return network{}, false
}

// pickWhere draws uniformly among the networks of c (legitimate and
// attack rows; keep is told which) that keep accepts, without building the
// list.
func pickWhere(rng *rand.Rand, c *countryNets, keep func(n *network, attack bool) bool) (network, bool) {
	var (
		out network
		k   int
	)
	for _, l := range []struct {
		items  []network
		attack bool
	}{{c.legit.items, false}, {c.attack.items, true}} {
		for i := range l.items {
			if keep(&l.items[i], l.attack) {
				if k++; rng.IntN(k) == 0 {
					out = l.items[i]
				}
			}
		}
	}
	return out, k > 0
}
