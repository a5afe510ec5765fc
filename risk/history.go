package risk

import (
	"math"
	"slices"
	"time"
)

// Limits bound a History. Zero fields take the defaults.
type Limits struct {
	MaxAge    time.Duration // values not seen for longer are forgotten (default 180 days)
	MaxLogins int           // sign-ins remembered (default 100): older ones fade out
}

// withDefaults fills in the zero fields of l.
func (l Limits) withDefaults() Limits {
	if l.MaxAge <= 0 {
		l.MaxAge = DefaultMaxAge
	}
	if l.MaxLogins <= 0 {
		l.MaxLogins = DefaultMaxLogins
	}
	if l.MaxLogins > maxLogins {
		l.MaxLogins = maxLogins
	}
	return l
}

// maxLogins is the largest Limits.MaxLogins.
const maxLogins = 10000

// unit is the weight of one sign-in in History counts: counts are kept in
// 1/256 of a sign-in, so that they can fade out smoothly.
const unit = 256

// maxHostile is how many hostile values a History keeps (the newest).
const maxHostile = 64

// History is one account's legitimate sign-ins, kept compactly: for each
// value of the scored features (ip, prefix, asn, country, ua, browser, os,
// device_type, device) a 64-bit hash, a weight and the day it was last
// seen; the time of the last sign-in, and the time and place of the last
// one with coordinates; and the values the owner marked hostile. Region
// and city are not kept (see the package doc).
//
// It remembers about the last Limits.MaxLogins sign-ins: once it holds
// that many, each new sign-in scales the older weights down by
// MaxLogins/(MaxLogins+1), so a sign-in fades out over the next few
// hundred; a value not seen for Limits.MaxAge is forgotten, and each
// feature keeps at most MaxLogins values (the heaviest). The zero value is
// an empty History. A History is not safe for concurrent use.
type History struct {
	entries []entry // sorted by key
	hostile []entry // sorted by key; weight unused
	weight  uint32  // the sign-ins remembered, in units
	last    int64   // Unix seconds of the last sign-in; 0: none
	geo     geo     // the last sign-in with coordinates
	// Derived from entries (not encoded): per feature, the index of its
	// first entry, the sum of its weights and its number of values.
	start [numFeatures + 1]int32
	sum   [numFeatures]uint32
	n     [numFeatures]uint16
}

// entry is one value of one feature.
type entry struct {
	key    uint64
	weight uint32 // in units
	day    int32  // days since 1970-01-01 UTC when last seen
}

// geo is where and when a sign-in with coordinates happened.
type geo struct {
	unix     int64 // 0: none
	lat, lon int32 // 1e-4 degrees
	radius   uint16
	country  [2]byte
}

// NewHistory returns an empty history.
func NewHistory() *History { return &History{} }

// Logins returns how many sign-ins h remembers (at most
// Limits.MaxLogins). A nil History has none.
func (h *History) Logins() int {
	if h == nil {
		return 0
	}
	return int((h.weight + unit/2) / unit)
}

// empty reports whether h knows nothing about any sign-in.
func (h *History) empty() bool { return h == nil || (h.weight == 0 && h.last == 0) }

// LastSignIn returns the time of the last sign-in h learned, or the zero
// time.
func (h *History) LastSignIn() time.Time {
	if h == nil || h.last == 0 {
		return time.Time{}
	}
	return time.Unix(h.last, 0).UTC()
}

// dayOf returns the day of t, in days since 1970-01-01 UTC.
func dayOf(t time.Time) int32 {
	d := t.Unix()
	if d < 0 {
		return int32(d/86400) - 1
	}
	if d/86400 > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(d / 86400)
}

// Learn records a legitimate sign-in: one that succeeded and was not
// denied, or that the owner confirmed ("this was me"). Its values stop
// being hostile. It keeps h within l (zero fields take the defaults).
func (h *History) Learn(a Attempt, l Limits) {
	l = l.withDefaults()
	f := extract(a)
	day := dayOf(a.Time)
	h.forget(day-int32(l.MaxAge/(24*time.Hour)), l)
	for i, k := range f.key {
		if k == 0 {
			continue
		}
		if j, ok := h.find(k); ok {
			e := &h.entries[j]
			e.weight = min(e.weight+unit, math.MaxUint32/2)
			e.day = max(e.day, day)
		} else {
			h.entries = slices.Insert(h.entries, j, entry{key: k, weight: unit, day: day})
		}
		if j, ok := findKey(h.hostile, k); ok {
			h.hostile = slices.Delete(h.hostile, j, j+1)
		}
		_ = i
	}
	h.weight += unit
	if u := a.Time.Unix(); u > h.last || h.last == 0 {
		h.last = u
		if u == 0 {
			h.last = 1
		}
	}
	if a.Place.HasCoords && validCoords(a.Place.Latitude, a.Place.Longitude) && (h.geo.unix == 0 || a.Time.Unix() >= h.geo.unix) {
		h.geo = geo{
			unix:   max(a.Time.Unix(), 1),
			lat:    int32(math.Round(a.Place.Latitude * 1e4)),
			lon:    int32(math.Round(a.Place.Longitude * 1e4)),
			radius: uint16(min(max(a.Place.RadiusKM, 0), math.MaxUint16)),
		}
		if cc, ok := country(a.Place.Country); ok {
			h.geo.country = [2]byte{cc[0], cc[1]}
		}
	}
	h.fade(l)
	h.index()
	h.capValues(l)
}

// validCoords reports whether lat, lon are coordinates on Earth.
func validCoords(lat, lon float64) bool {
	return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && !(lat == 0 && lon == 0)
}

// forget drops the values last seen before day oldest, and hostile values
// as well.
func (h *History) forget(oldest int32, l Limits) {
	n := len(h.entries)
	h.entries = slices.DeleteFunc(h.entries, func(e entry) bool { return e.day < oldest })
	h.hostile = slices.DeleteFunc(h.hostile, func(e entry) bool { return e.day < oldest })
	if len(h.entries) != n {
		// The sign-ins remembered are now those of the best-kept feature.
		h.index()
		var w uint32
		for _, s := range h.sum {
			w = max(w, s)
		}
		h.weight = min(h.weight, w)
	}
}

// fade scales the weights down when h holds more than l.MaxLogins
// sign-ins, dropping values whose weight reaches 0.
func (h *History) fade(l Limits) {
	limit := uint64(l.MaxLogins) * unit
	if uint64(h.weight) <= limit {
		return
	}
	w := uint64(h.weight)
	h.entries = slices.DeleteFunc(h.entries, func(e entry) bool { return e.weight == 0 })
	for i := range h.entries {
		h.entries[i].weight = uint32(uint64(h.entries[i].weight) * limit / w)
	}
	h.entries = slices.DeleteFunc(h.entries, func(e entry) bool { return e.weight == 0 })
	h.weight = uint32(limit)
}

// capValues keeps at most l.MaxLogins values per feature, dropping the
// lightest (then the oldest). h must be indexed; it is again after.
func (h *History) capValues(l Limits) {
	drop := false
	for f := fidx(0); f < numFeatures; f++ {
		if int(h.n[f]) <= l.MaxLogins {
			continue
		}
		vals := slices.Clone(h.entries[h.start[f]:h.start[f+1]])
		slices.SortFunc(vals, func(a, b entry) int {
			if a.weight != b.weight {
				return int(int64(b.weight) - int64(a.weight))
			}
			return int(b.day - a.day)
		})
		for _, e := range vals[l.MaxLogins:] {
			if j, ok := h.find(e.key); ok {
				h.entries[j].weight = 0
				drop = true
			}
		}
	}
	if drop {
		h.entries = slices.DeleteFunc(h.entries, func(e entry) bool { return e.weight == 0 })
		h.index()
	}
}

// index computes start, sum and n from entries.
func (h *History) index() {
	h.sum = [numFeatures]uint32{}
	h.n = [numFeatures]uint16{}
	f := fidx(0)
	h.start[0] = 0
	for i, e := range h.entries {
		for kf := keyFeature(e.key); f < kf && f < numFeatures; {
			f++
			h.start[f] = int32(i)
		}
		if f < numFeatures {
			h.sum[f] += e.weight
			h.n[f]++
		}
	}
	for f < numFeatures {
		f++
		h.start[f] = int32(len(h.entries))
	}
}

// find returns the index of the entry with key k, or where to insert it.
func (h *History) find(k uint64) (int, bool) { return findKey(h.entries, k) }

// findKey binary-searches es (sorted by key) for k.
func findKey(es []entry, k uint64) (int, bool) {
	lo, hi := 0, len(es)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if es[m].key < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(es) && es[lo].key == k
}

// weightOf returns the weight of key k (0 when unknown or absent).
func (h *History) weightOf(k uint64) uint32 {
	if k == 0 {
		return 0
	}
	f := keyFeature(k)
	es := h.entries[h.start[f]:h.start[f+1]]
	if i, ok := findKey(es, k); ok {
		return es[i].weight
	}
	return 0
}

// isHostile reports whether key k is hostile.
func (h *History) isHostile(k uint64) bool {
	if k == 0 || len(h.hostile) == 0 {
		return false
	}
	_, ok := findKey(h.hostile, k)
	return ok
}

// hostileFeatures are the features whose values MarkHostile always marks;
// hostileIfUnused those it marks when the account has not otherwise used
// the value. Region, city, browser, OS and device type are never marked:
// they are shared by too many people (the score weighs them).
var (
	hostileFeatures = []fidx{fDevice, fIP, fPrefix, fUA}
	hostileIfUnused = []fidx{fASN, fCountry}
)

// MarkHostile records the owner's "this wasn't me" about a, which is taken
// to have been learned: it takes one sign-in off the weights of a's values
// (and forgets a's place as the last one with coordinates if it was), and
// marks a's device, IP address, prefix and User-Agent hostile, and its ASN
// and country too when the account has no other sign-in from them. At
// most 64 hostile values are kept (the newest); they are forgotten after
// Limits.MaxAge like other values, or when a sign-in with them is learned.
func (h *History) MarkHostile(a Attempt) {
	f := extract(a)
	day := dayOf(a.Time)
	for _, k := range f.key {
		if k == 0 {
			continue
		}
		if j, ok := h.find(k); ok {
			e := &h.entries[j]
			e.weight -= min(e.weight, unit)
		}
	}
	h.weight -= min(h.weight, unit)
	h.entries = slices.DeleteFunc(h.entries, func(e entry) bool { return e.weight == 0 })
	h.index()
	if h.geo.unix != 0 && h.geo.unix == a.Time.Unix() {
		h.geo = geo{}
	}
	mark := func(k uint64) {
		if k == 0 {
			return
		}
		if j, ok := findKey(h.hostile, k); ok {
			h.hostile[j].day = max(h.hostile[j].day, day)
			return
		}
		j, _ := findKey(h.hostile, k)
		h.hostile = slices.Insert(h.hostile, j, entry{key: k, day: day})
	}
	for _, i := range hostileFeatures {
		mark(f.key[i])
	}
	for _, i := range hostileIfUnused {
		if h.weightOf(f.key[i]) == 0 {
			mark(f.key[i])
		}
	}
	for len(h.hostile) > maxHostile {
		oldest := 0
		for i, e := range h.hostile {
			if e.day < h.hostile[oldest].day {
				oldest = i
			}
		}
		h.hostile = slices.Delete(h.hostile, oldest, oldest+1)
	}
}

// unixTime is time.Unix(s, 0) in UTC.
func unixTime(s int64) time.Time { return time.Unix(s, 0).UTC() }
