// Package synth writes synthetic login logs in the format of the public RBA
// login data set (das-group/rba-dataset, Wiefling et al., ACM TOPS 2022),
// for testing and benchmarking the offline evaluator (risk/eval) without
// the real file.
//
// The log has the structure that matters to a risk engine, from a fixed
// seed:
//
//   - Users live in one country (mostly JP, then NO, US, DE, GB, KR), in one
//     city, with a home broadband address in one ISP that changes every few
//     weeks, a mobile carrier whose addresses are shared by many users
//     (carrier-grade NAT), and for some an office network on weekdays.
//   - Each has one to three clients (a computer, a phone, sometimes a
//     tablet) whose browser versions follow the real release schedules of
//     2020–2021, a few releases behind for some. Some users replace a
//     device during the log.
//   - Sign-in frequency is heavy-tailed (log-normal per user); about 4 % of
//     sign-ins are a mistyped password followed by a success. Some users
//     travel (abroad or in their country) for days to weeks.
//   - A population of attack IPs (hosting and VPN networks anywhere, home
//     networks in a few countries) does credential stuffing in bursts,
//     mostly failing, against known and unknown user IDs, with tools or
//     rotating User-Agents; every row from them has Is Attack IP = True. A
//     few of their attempts succeed (Is Account Takeover = True), and a few
//     takeovers come from an unlisted address in the victim's country.
//
// Rows are in timestamp order with the data set's columns, including index
// and Round-Trip Time [ms] (random, sometimes empty).
package synth

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Header is the data set's header, in its column order.
var Header = []string{
	"index", "Login Timestamp", "User ID", "Round-Trip Time [ms]", "IP Address", "Country", "Region", "City", "ASN",
	"User Agent String", "Browser Name and Version", "OS Name and Version", "Device Type",
	"Login Successful", "Is Attack IP", "Is Account Takeover",
}

// TimeLayout is how the data set writes timestamps.
const TimeLayout = "2006-01-02 15:04:05.000"

// Options say what to generate.
type Options struct {
	Rows        int       // data rows, exactly
	Users       int       // legitimate users
	Seed        uint64    // the same seed gives the same file
	Start       time.Time // first possible timestamp; zero: 2020-02-03 00:00 UTC
	Days        int       // length of the log; 0: 180
	AttackShare float64   // share of rows from attack IPs; 0: 0.10 (negative: none)
}

// Stats count what was written.
type Stats struct {
	Rows             int // data rows
	Legitimate       int // the users' own sign-ins, successful
	LegitimateFailed int // the users' own mistyped passwords
	AttackIP         int // rows from attack IPs
	Takeovers        int // rows with Is Account Takeover
	UsersSeen        int // users with at least one row of their own
}

// event kinds
const (
	kLegit uint8 = iota
	kTypo
	kAttack
	kAttackSuccess // credential stuffing that worked: a takeover
	kFraud         // a takeover from an unlisted address in the victim's country
)

type event struct {
	t    int64 // Unix milliseconds
	seq  int32
	user int32 // the user signing in or attacked; -1: an unknown user ID
	ip   int32 // attack IP
	kind uint8
}

type trip struct {
	from, to int64
	country  int
	city     int
	netIdx   int // hotel or roaming network
	ip       uint32
}

type user struct {
	id                    int64
	country, city         int
	isp, mob, work        int // network indexes; -1 none
	homeIP, workIP        uint32
	homeSince             int64
	clients               []client
	replaceAt             int64 // when clients[0] is replaced by newClient (0: never)
	replacement           client
	trips                 []trip
	lastT                 int64
	lastIP                uint32
	lastNet, lastClient   int
	lastRegion, lastCity  string
	hasLast, lastMobileUA bool
}

type attackIP struct {
	net      int
	ip       uint32
	city     int // index into the network country's cities, -1: unknown
	rotate   bool
	fixed    client
	bursts   [][2]int64
	weight   float64
	hitRatio float64
}

type gen struct {
	o        Options
	r        *rand.Rand
	start    int64
	span     int64
	users    []user
	attacks  []attackIP
	byCC     map[string]int // country code → index in countries
	netsBy   map[string]map[netKind][]int
	nets     []network
	pool     []clientKind
	w        *csv.Writer
	rec      []string
	stats    Stats
	seenUser []bool
}

// Generate writes o.Rows rows (plus the header) to w.
func Generate(w io.Writer, o Options) (Stats, error) {
	if o.Rows < 0 || o.Users <= 0 {
		return Stats{}, fmt.Errorf("synth: need rows >= 0 and users > 0")
	}
	if o.Start.IsZero() {
		o.Start = epoch
	}
	if o.Days <= 0 {
		o.Days = 180
	}
	switch {
	case o.AttackShare == 0:
		o.AttackShare = 0.10
	case o.AttackShare < 0:
		o.AttackShare = 0
	case o.AttackShare > 0.9:
		o.AttackShare = 0.9
	}
	g := &gen{
		o:     o,
		r:     rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)),
		start: o.Start.UnixMilli(),
		span:  int64(o.Days) * 24 * 3600 * 1000,
		byCC:  map[string]int{},
		nets:  slices.Clone(networks),
		w:     csv.NewWriter(w),
		rec:   make([]string, len(Header)),
	}
	g.world()
	g.makeUsers()
	events := g.plan()
	if err := g.w.Write(Header); err != nil {
		return g.stats, err
	}
	for i, e := range events {
		if err := g.row(i, e); err != nil {
			return g.stats, err
		}
	}
	for _, s := range g.seenUser {
		if s {
			g.stats.UsersSeen++
		}
	}
	g.w.Flush()
	return g.stats, g.w.Error()
}

// world gives every network its own /16 and indexes networks by country.
func (g *gen) world() {
	for i, c := range countries {
		g.byCC[c.code] = i
	}
	var octets []uint32
	for a := uint32(1); a <= 223; a++ {
		switch a {
		case 10, 100, 127, 169, 172, 192, 198, 203:
			continue
		}
		octets = append(octets, a)
	}
	used := map[uint32]bool{}
	g.netsBy = map[string]map[netKind][]int{}
	for i := range g.nets {
		for {
			base := octets[g.r.IntN(len(octets))]<<24 | uint32(g.r.IntN(256))<<16
			if !used[base] {
				used[base] = true
				g.nets[i].base = base
				break
			}
		}
		n := g.nets[i]
		if g.netsBy[n.country] == nil {
			g.netsBy[n.country] = map[netKind][]int{}
		}
		g.netsBy[n.country][n.kind] = append(g.netsBy[n.country][n.kind], i)
	}
	g.pool = append(append(append([]clientKind{}, computers...), phones...), safariIPad)
}

func (g *gen) pickWeighted(n int, weight func(int) int) int {
	total := 0
	for i := range n {
		total += weight(i)
	}
	x := g.r.IntN(total)
	for i := range n {
		if x -= weight(i); x < 0 {
			return i
		}
	}
	return n - 1
}

func (g *gen) pickCity(c int) int {
	cs := countries[c].cities
	return g.pickWeighted(len(cs), func(i int) int { return cs[i].weight })
}

func (g *gen) netOf(cc string, kinds ...netKind) int {
	for _, k := range kinds {
		if l := g.netsBy[cc][k]; len(l) > 0 {
			return l[g.r.IntN(len(l))]
		}
	}
	return -1
}

// host is a random address of network n, never .0 or .255.
func (g *gen) host(n int) uint32 {
	return g.nets[n].base | uint32(g.r.IntN(256))<<8 | uint32(1+g.r.IntN(254))
}

// shared is one of the 128 addresses a mobile carrier's users share.
func (g *gen) shared(n int) uint32 {
	i := uint32(g.r.IntN(128))
	return g.nets[n].base | 0xff00 | (i + 1)
}

func (g *gen) ms(d time.Duration) int64 { return int64(d / time.Millisecond) }

func (g *gen) makeUsers() {
	homes := 0
	for countries[homes].weight > 0 {
		homes++
	}
	g.users = make([]user, g.o.Users)
	g.seenUser = make([]bool, g.o.Users)
	for i := range g.users {
		u := &g.users[i]
		u.id = int64(g.r.Uint64())
		u.country = g.pickWeighted(homes, func(j int) int { return countries[j].weight })
		u.city = g.pickCity(u.country)
		cc := countries[u.country].code
		u.isp = g.netOf(cc, residential)
		u.mob = g.netOf(cc, mobile)
		u.work = -1
		if g.r.IntN(10) < 3 {
			u.work = g.netOf(cc, business, residential)
			u.workIP = g.host(u.work)
		}
		u.homeIP = g.host(u.isp)
		u.homeSince = g.start
		if g.r.IntN(10) < 8 {
			u.clients = append(u.clients, newClient(g.r, computers[g.r.IntN(len(computers))]))
		}
		if len(u.clients) == 0 || g.r.IntN(100) < 85 {
			u.clients = append(u.clients, newClient(g.r, phones[g.r.IntN(len(phones))]))
		}
		if g.r.IntN(10) == 0 {
			u.clients = append(u.clients, newClient(g.r, safariIPad))
		}
		if g.r.IntN(100) < 8 { // a new phone or computer during the log
			u.replaceAt = g.start + g.r.Int64N(g.span)
			kinds := phones
			if u.clients[0].kind <= firefoxLinux {
				kinds = computers
			}
			u.replacement = newClient(g.r, kinds[g.r.IntN(len(kinds))])
		}
		ntrips := 0
		if x := g.r.IntN(100); x < 5 {
			ntrips = 2
		} else if x < 25 {
			ntrips = 1
		}
		for range ntrips {
			var tr trip
			tr.from = g.start + g.r.Int64N(g.span)
			tr.to = tr.from + g.ms(time.Duration(2+g.r.IntN(13))*24*time.Hour)
			if g.r.IntN(10) < 6 { // abroad
				for {
					tr.country = g.r.IntN(13) // the users' and the travel countries
					if tr.country != u.country {
						break
					}
				}
			} else {
				tr.country = u.country
			}
			tr.city = g.pickCity(tr.country)
			if tr.country == u.country && tr.city == u.city {
				tr.city = (tr.city + 1) % len(countries[tr.country].cities)
			}
			tr.netIdx = g.netOf(countries[tr.country].code, residential, mobile)
			tr.ip = g.host(tr.netIdx)
			u.trips = append(u.trips, tr)
		}
	}
}

// plan draws every event and sorts them by time.
func (g *gen) plan() []event {
	nAttack := int(math.Round(float64(g.o.Rows) * g.o.AttackShare))
	nFraud := 0
	if g.o.AttackShare > 0 {
		nFraud = max(3, g.o.Rows/10000)
	}
	nAttack = max(0, nAttack-nFraud)
	nLegit := g.o.Rows - nAttack - nFraud
	events := make([]event, 0, g.o.Rows)

	// The users' own sign-ins: log-normal activity.
	cum := make([]float64, len(g.users))
	total := 0.0
	for i := range g.users {
		total += math.Exp(1.1 * g.r.NormFloat64())
		cum[i] = total
	}
	pickUser := func() int32 {
		i, _ := slices.BinarySearch(cum, g.r.Float64()*total)
		return int32(min(i, len(cum)-1))
	}
	for n := 0; n < nLegit; {
		u := pickUser()
		t := g.start + g.r.Int64N(g.span)
		if n+2 <= nLegit && g.r.IntN(100) < 4 {
			events = append(events, event{t: t, user: u, kind: kTypo})
			t += g.ms(time.Duration(5+g.r.IntN(55)) * time.Second)
			n++
		}
		events = append(events, event{t: t, user: u, kind: kLegit})
		n++
	}

	// Takeovers from unlisted addresses.
	for range nFraud {
		events = append(events, event{t: g.start + g.r.Int64N(g.span), user: pickUser(), kind: kFraud})
	}

	// Credential stuffing.
	if nAttack > 0 {
		nIPs := max(5, nAttack/150)
		abroad := []string{"CN", "RU", "BR", "VN", "IN", "ID"}
		var hostingNets []int
		for i, n := range g.nets {
			if n.kind == hosting {
				hostingNets = append(hostingNets, i)
			}
		}
		g.attacks = make([]attackIP, nIPs)
		wsum := 0.0
		acum := make([]float64, nIPs)
		for i := range g.attacks {
			a := &g.attacks[i]
			if g.r.IntN(10) < 6 {
				a.net = hostingNets[g.r.IntN(len(hostingNets))]
			} else {
				a.net = g.netOf(abroad[g.r.IntN(len(abroad))], residential)
			}
			a.ip = g.host(a.net)
			a.city = -1
			if g.r.IntN(3) > 0 {
				a.city = g.pickCity(g.byCC[g.nets[a.net].country])
			}
			a.rotate = g.r.IntN(2) == 0
			switch x := g.r.IntN(10); {
			case x < 2:
				a.fixed = client{kind: pythonRequests, lag: g.r.IntN(5)}
			case x < 3:
				a.fixed = client{kind: curlTool, lag: g.r.IntN(5)}
			case x < 4:
				a.fixed = client{kind: headlessChrome, lag: g.r.IntN(3)}
			default:
				a.fixed = newClient(g.r, g.pool[g.r.IntN(len(g.pool))])
			}
			for range 1 + g.r.IntN(3) {
				s := g.start + g.r.Int64N(g.span)
				a.bursts = append(a.bursts, [2]int64{s, g.ms(time.Duration(10+g.r.IntN(350)) * time.Minute)})
			}
			a.weight = 1 / math.Pow(1-g.r.Float64(), 0.7) // Pareto: a few IPs do most of it
			a.hitRatio = 0.005 + 0.015*g.r.Float64()
			wsum += a.weight
			acum[i] = wsum
		}
		for range nAttack {
			i, _ := slices.BinarySearch(acum, g.r.Float64()*wsum)
			i = min(i, nIPs-1)
			a := &g.attacks[i]
			b := a.bursts[g.r.IntN(len(a.bursts))]
			e := event{t: b[0] + g.r.Int64N(b[1]), ip: int32(i), user: -1, kind: kAttack}
			if g.r.IntN(4) > 0 { // a known user's ID from a leaked list
				e.user = int32(g.r.IntN(len(g.users)))
				if g.r.Float64() < a.hitRatio {
					e.kind = kAttackSuccess
				}
			}
			events = append(events, e)
		}
	}
	for i := range events {
		events[i].seq = int32(i)
	}
	slices.SortFunc(events, func(a, b event) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	return events
}

func ipString(ip uint32) string {
	return strconv.Itoa(int(ip>>24)) + "." + strconv.Itoa(int(ip>>16&0xff)) + "." +
		strconv.Itoa(int(ip>>8&0xff)) + "." + strconv.Itoa(int(ip&0xff))
}

func boolString(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// row writes event e as row index i.
func (g *gen) row(i int, e event) error {
	t := time.UnixMilli(e.t).UTC()
	var (
		id                   int64
		ip                   uint32
		net                  int
		region, cityName     string
		ua, browser, os, dev string
		ok, attack, ato      bool
		rtt                  int
	)
	switch e.kind {
	case kLegit, kTypo:
		u := &g.users[e.user]
		g.seenUser[e.user] = true
		id = u.id
		ip, net, region, cityName, ua, browser, os, dev = g.legit(u, e.t)
		ok = e.kind == kLegit
		rtt = int(math.Exp(6 + 0.5*g.r.NormFloat64()))
		if ok {
			g.stats.Legitimate++
		} else {
			g.stats.LegitimateFailed++
		}
	case kAttack, kAttackSuccess:
		a := &g.attacks[e.ip]
		if e.user >= 0 {
			id = g.users[e.user].id
		} else {
			id = int64(g.r.Uint64())
		}
		ip, net = a.ip, a.net
		if a.city >= 0 {
			c := countries[g.byCC[g.nets[net].country]].cities[a.city]
			region, cityName = c.region, c.name
		}
		cl := a.fixed
		if a.rotate {
			cl = client{kind: g.pool[g.r.IntN(len(g.pool))], lag: g.r.IntN(4), osMajor: 10, model: models[g.r.IntN(len(models))]}
		}
		ua, browser, os, dev = cl.render(t)
		attack, ok, ato = true, e.kind == kAttackSuccess, e.kind == kAttackSuccess
		rtt = int(math.Exp(4.5 + 0.8*g.r.NormFloat64()))
		g.stats.AttackIP++
		if ato {
			g.stats.Takeovers++
		}
	case kFraud:
		u := &g.users[e.user]
		id = u.id
		cc := countries[u.country].code
		net = g.netOf(cc, hosting)
		if net < 0 || g.r.IntN(2) == 0 {
			for range 8 {
				if net = g.netOf(cc, residential); net != u.isp {
					break
				}
			}
		}
		ip = g.host(net)
		c := countries[u.country].cities[g.pickCity(u.country)]
		region, cityName = c.region, c.name
		ua, browser, os, dev = newClient(g.r, computers[g.r.IntN(len(computers))]).render(t)
		ok, ato = true, true
		rtt = int(math.Exp(5.5 + 0.5*g.r.NormFloat64()))
		g.stats.Takeovers++
	}
	n := g.nets[net]
	if region == "" {
		region = "-"
	}
	if cityName == "" {
		cityName = "-"
	}
	rec := g.rec
	rec[0] = strconv.Itoa(i)
	rec[1] = t.Format(TimeLayout)
	rec[2] = strconv.FormatInt(id, 10)
	rec[3] = ""
	if g.r.IntN(10) < 7 {
		rec[3] = strconv.Itoa(max(1, rtt))
	}
	rec[4] = ipString(ip)
	rec[5] = n.country
	rec[6] = region
	rec[7] = cityName
	rec[8] = strconv.FormatUint(uint64(n.asn), 10)
	rec[9] = ua
	rec[10] = browser
	rec[11] = os
	rec[12] = dev
	rec[13] = boolString(ok)
	rec[14] = boolString(attack)
	rec[15] = boolString(ato)
	g.stats.Rows++
	return g.w.Write(rec)
}

// legit is where user u signs in from at t, and with what.
func (g *gen) legit(u *user, t int64) (ip uint32, net int, region, cityName, ua, browser, os, dev string) {
	tt := time.UnixMilli(t).UTC()
	// The same session's next attempt: same place, same client.
	if u.hasLast && t-u.lastT < g.ms(15*time.Minute) {
		ua, browser, os, dev = g.clientAt(u, u.lastClient, t).render(tt)
		u.lastT = t
		return u.lastIP, u.lastNet, u.lastRegion, u.lastCity, ua, browser, os, dev
	}
	ci := g.pickClient(u)
	cl := g.clientAt(u, ci, t)
	isPhone := cl.kind >= safariIPhone && cl.kind <= samsungAndroid
	home := countries[u.country].cities[u.city]
	region, cityName = home.region, home.name
	var onTrip *trip
	for k := range u.trips {
		if t >= u.trips[k].from && t < u.trips[k].to {
			onTrip = &u.trips[k]
		}
	}
	switch {
	case onTrip != nil:
		c := countries[onTrip.country]
		region, cityName = c.cities[onTrip.city].region, c.cities[onTrip.city].name
		net, ip = onTrip.netIdx, onTrip.ip
		if m := g.netOf(c.code, mobile); isPhone && m >= 0 && g.r.IntN(2) == 0 {
			net, ip = m, g.shared(m)
		}
	case isPhone && u.mob >= 0 && g.r.IntN(10) < 6:
		net, ip = u.mob, g.shared(u.mob)
		if g.r.IntN(2) == 0 { // carrier addresses often locate to the country only
			region, cityName = "", ""
		} else {
			c := countries[u.country].cities[0]
			region, cityName = c.region, c.name
		}
	case !isPhone && u.work >= 0 && tt.Weekday() != time.Saturday && tt.Weekday() != time.Sunday && g.r.IntN(10) < 7:
		net, ip = u.work, u.workIP
	default:
		// Home broadband: a new address every 45 days on average.
		if p := 1 - math.Exp(-float64(t-u.homeSince)/float64(g.ms(45*24*time.Hour))); g.r.Float64() < p {
			u.homeIP = g.host(u.isp)
		}
		u.homeSince = t
		net, ip = u.isp, u.homeIP
	}
	ua, browser, os, dev = cl.render(tt)
	u.hasLast, u.lastT, u.lastIP, u.lastNet, u.lastClient = true, t, ip, net, ci
	u.lastRegion, u.lastCity = region, cityName
	return ip, net, region, cityName, ua, browser, os, dev
}

// pickClient: phones are used a little more than computers.
func (g *gen) pickClient(u *user) int {
	return g.pickWeighted(len(u.clients), func(i int) int {
		if k := u.clients[i].kind; k >= safariIPhone && k <= samsungAndroid {
			return 5
		} else if k == safariIPad {
			return 1
		}
		return 4
	})
}

func (g *gen) clientAt(u *user, i int, t int64) client {
	if i == 0 && u.replaceAt != 0 && t >= u.replaceAt {
		return u.replacement
	}
	return u.clients[i]
}
