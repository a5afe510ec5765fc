package risk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// historyVersion is the first byte of an encoded History.
const historyVersion = 1

// The largest encoded History DecodeHistory accepts: every feature at its
// largest, and the hostile values.
const maxEntries = int(numFeatures) * maxLogins

// Encode returns h in a versioned compact binary form (DecodeHistory
// reads it):
//
//	version      1 byte (1)
//	weight       uvarint, the sign-ins remembered in 1/256
//	flags        1 byte: 1 last sign-in, 2 last place
//	last         varint Unix seconds                         (flag 1)
//	place        varint Unix seconds, varint latitude and    (flag 2)
//	             longitude in 1e-4 degrees, uvarint radius
//	             in km, 2 bytes country ("\0\0" unknown)
//	values       uvarint count, then for each, by key:
//	             8 bytes key (big-endian), uvarint weight,
//	             varint days before the last sign-in's day
//	hostile      the same, without the weights
//
// With 100 sign-ins from a few places and devices that is about 10 bytes
// per value: see docs/benchmarks.md.
func (h *History) Encode() []byte {
	b := make([]byte, 0, 24+len(h.entries)*12+len(h.hostile)*10)
	b = append(b, historyVersion)
	b = binary.AppendUvarint(b, uint64(h.weight))
	var flags byte
	if h.last != 0 {
		flags |= 1
	}
	if h.geo.unix != 0 {
		flags |= 2
	}
	b = append(b, flags)
	if h.last != 0 {
		b = binary.AppendVarint(b, h.last)
	}
	if h.geo.unix != 0 {
		b = binary.AppendVarint(b, h.geo.unix)
		b = binary.AppendVarint(b, int64(h.geo.lat))
		b = binary.AppendVarint(b, int64(h.geo.lon))
		b = binary.AppendUvarint(b, uint64(h.geo.radius))
		b = append(b, h.geo.country[0], h.geo.country[1])
	}
	ref := h.refDay()
	b = binary.AppendUvarint(b, uint64(len(h.entries)))
	for _, e := range h.entries {
		b = binary.BigEndian.AppendUint64(b, e.key)
		b = binary.AppendUvarint(b, uint64(e.weight))
		b = binary.AppendVarint(b, int64(ref)-int64(e.day))
	}
	b = binary.AppendUvarint(b, uint64(len(h.hostile)))
	for _, e := range h.hostile {
		b = binary.BigEndian.AppendUint64(b, e.key)
		b = binary.AppendVarint(b, int64(ref)-int64(e.day))
	}
	return b
}

// refDay is the day days are encoded relative to.
func (h *History) refDay() int32 {
	if h.last == 0 {
		return 0
	}
	return dayOf(unixTime(h.last))
}

// errHistory is wrapped by every DecodeHistory error.
var errHistory = errors.New("risk: invalid history")

// DecodeHistory decodes what Encode wrote. It returns an error, never
// panics, on anything else; the empty input is an error too.
func DecodeHistory(b []byte) (*History, error) {
	d := decoder{b: b}
	if v := d.byte(); v != historyVersion {
		if d.err != nil {
			return nil, d.err
		}
		return nil, fmt.Errorf("%w: version %d", errHistory, v)
	}
	h := &History{}
	w := d.uvarint()
	if w > maxLogins*unit*2 {
		return nil, fmt.Errorf("%w: weight %d", errHistory, w)
	}
	h.weight = uint32(w)
	flags := d.byte()
	if flags&^3 != 0 {
		return nil, fmt.Errorf("%w: flags %#x", errHistory, flags)
	}
	if flags&1 != 0 {
		h.last = d.varint()
		if h.last == 0 {
			return nil, fmt.Errorf("%w: last sign-in", errHistory)
		}
	}
	if flags&2 != 0 {
		h.geo.unix = d.varint()
		lat, lon := d.varint(), d.varint()
		r := d.uvarint()
		c0, c1 := d.byte(), d.byte()
		if d.err != nil {
			return nil, d.err
		}
		if h.geo.unix == 0 || lat < -90e4 || lat > 90e4 || lon < -180e4 || lon > 180e4 || r > math.MaxUint16 ||
			!(c0 == 0 && c1 == 0 || validCountry(string([]byte{c0, c1}))) {
			return nil, fmt.Errorf("%w: last place", errHistory)
		}
		h.geo.lat, h.geo.lon, h.geo.radius, h.geo.country = int32(lat), int32(lon), uint16(r), [2]byte{c0, c1}
	}
	if h.last < -1<<40 || h.last > 1<<40 || h.geo.unix < -1<<40 || h.geo.unix > 1<<40 {
		return nil, fmt.Errorf("%w: time out of range", errHistory)
	}
	ref := int64(h.refDay())
	readDay := func() int32 {
		ago := d.varint()
		day := ref - ago
		if ago < -1<<31 || ago > 1<<31 || day < math.MinInt32 || day > math.MaxInt32 {
			d.fail("day")
			return 0
		}
		return int32(day)
	}
	readKeys := func(what string, weights bool) []entry {
		n := d.uvarint()
		if n > uint64(maxEntries) || n > uint64(len(d.b)) {
			d.fail(what + " count")
			return nil
		}
		es := make([]entry, 0, n)
		for i := uint64(0); i < n && d.err == nil; i++ {
			var e entry
			e.key = d.uint64()
			if weights {
				w := d.uvarint()
				if w == 0 || w > maxLogins*unit*2 {
					d.fail(what + " weight")
				}
				e.weight = uint32(w)
			}
			e.day = readDay()
			if e.key == 0 || keyFeature(e.key) >= numFeatures || len(es) > 0 && es[len(es)-1].key >= e.key {
				d.fail(what + " key")
			}
			es = append(es, e)
		}
		return es
	}
	h.entries = readKeys("values", true)
	h.hostile = readKeys("hostile values", false)
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errHistory, len(d.b))
	}
	if len(h.hostile) > maxHostile {
		return nil, fmt.Errorf("%w: %d hostile values", errHistory, len(h.hostile))
	}
	h.index()
	for f := fidx(0); f < numFeatures; f++ {
		if h.n[f] > maxLogins {
			return nil, fmt.Errorf("%w: %d values of %s", errHistory, h.n[f], f)
		}
	}
	return h, nil
}

// decoder reads an encoded History, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", errHistory, what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uint64() uint64 {
	if len(d.b) < 8 {
		d.fail("truncated")
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.b = d.b[n:]
	return v
}
