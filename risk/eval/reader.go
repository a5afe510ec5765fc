package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/risk"
)

// The columns of the RBA login data set that the evaluator reads, found by
// header name (case and surrounding spaces ignored). Other columns, such
// as index and Round-Trip Time [ms], are ignored.
const (
	ColTimestamp = "Login Timestamp"
	ColUser      = "User ID"
	ColIP        = "IP Address"
	ColCountry   = "Country"
	ColRegion    = "Region"
	ColCity      = "City"
	ColASN       = "ASN"
	ColUA        = "User Agent String"
	ColBrowser   = "Browser Name and Version"
	ColOS        = "OS Name and Version"
	ColDevice    = "Device Type"
	ColSuccess   = "Login Successful"
	ColAttackIP  = "Is Attack IP"
	ColTakeover  = "Is Account Takeover"
)

// requiredColumns must be in the header; the others may be missing (their
// values are then unknown, or false for the attack columns).
var requiredColumns = []string{ColTimestamp, ColUser, ColSuccess}

var allColumns = []string{
	ColTimestamp, ColUser, ColIP, ColCountry, ColRegion, ColCity, ColASN, ColUA,
	ColBrowser, ColOS, ColDevice, ColSuccess, ColAttackIP, ColTakeover,
}

// Row is one sign-in attempt of the log.
type Row struct {
	Line      int // line of the file where the record starts (the header is line 1)
	Time      time.Time
	User      string
	IP        netip.Addr // zero when empty
	Place     mamoru.Place
	UserAgent string
	Device    mamoru.Device
	Success   bool // Login Successful
	AttackIP  bool // Is Attack IP
	Takeover  bool // Is Account Takeover
}

// Attack reports whether the row is an attacker's: from a known attack IP
// or an account takeover.
func (r *Row) Attack() bool { return r.AttackIP || r.Takeover }

// Attempt is the row as the risk engine sees it. The data set has no
// device cookie and no coordinates, so DeviceID is empty and the place has
// no coordinates.
func (r *Row) Attempt() risk.Attempt {
	return risk.Attempt{Time: r.Time, IP: r.IP, Place: r.Place, Device: r.Device, UserAgent: r.UserAgent}
}

// BadRow is a record that could not be read, and why.
type BadRow struct {
	Line int    `json:"line"`
	Err  string `json:"error"`
}

// Reader reads rows from a CSV file in the data set's format. A bad record
// is counted (Bad) and skipped; reading goes on.
type Reader struct {
	cr      *csv.Reader
	col     map[string]int
	missing []string
	width   int
	bad     int64
	badRows []BadRow
	devices deviceCache
	strs    interner
}

// maxBadExamples is how many bad records a Reader remembers (Bad counts
// them all).
const maxBadExamples = 10

// NewReader reads the header from r. It fails if there is no header or a
// required column is missing.
func NewReader(r io.Reader) (*Reader, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty file: no header")
		}
		return nil, fmt.Errorf("header: %w", err)
	}
	rd := &Reader{cr: cr, col: map[string]int{}, width: len(header)}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		for _, name := range allColumns {
			if strings.EqualFold(h, name) {
				if _, dup := rd.col[name]; !dup {
					rd.col[name] = i
				}
			}
		}
	}
	var missing []string
	for _, name := range requiredColumns {
		if _, ok := rd.col[name]; !ok {
			missing = append(missing, strconv.Quote(name))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("header lacks column %s (columns are found by name, as in the RBA login data set)", strings.Join(missing, ", "))
	}
	for _, name := range allColumns {
		if _, ok := rd.col[name]; !ok {
			rd.missing = append(rd.missing, name)
		}
	}
	return rd, nil
}

// Missing lists the optional columns the header lacks.
func (rd *Reader) Missing() []string { return rd.missing }

// Bad returns how many records were skipped so far, and the first few.
func (rd *Reader) Bad() (int64, []BadRow) { return rd.bad, rd.badRows }

func (rd *Reader) skip(line int, err error) {
	rd.bad++
	if len(rd.badRows) < maxBadExamples {
		rd.badRows = append(rd.badRows, BadRow{Line: line, Err: err.Error()})
	}
}

// Next reads the next good row into row. It returns io.EOF at the end, and
// another error only when the input itself fails.
func (rd *Reader) Next(row *Row) error {
	for {
		rec, err := rd.cr.Read()
		line, _ := rd.cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				rd.skip(pe.StartLine, pe.Err)
				continue
			}
			return err
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if err := rd.parse(rec, row); err != nil {
			rd.skip(line, err)
			continue
		}
		row.Line = line
		return nil
	}
}

func (rd *Reader) field(rec []string, name string) string {
	i, ok := rd.col[name]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

func (rd *Reader) parse(rec []string, row *Row) error {
	if len(rec) < rd.width {
		// Missing trailing columns are an error only if one we read is
		// among them.
		for _, name := range allColumns {
			if i, ok := rd.col[name]; ok && i >= len(rec) {
				return fmt.Errorf("%d fields, the header has %d", len(rec), rd.width)
			}
		}
	}
	var err error
	*row = Row{}
	if row.Time, err = ParseTime(rd.field(rec, ColTimestamp)); err != nil {
		return err
	}
	if row.User = rd.field(rec, ColUser); row.User == "" {
		return errors.New("empty User ID")
	}
	if row.Success, err = parseBool(rd.field(rec, ColSuccess), ColSuccess, false); err != nil {
		return err
	}
	if row.AttackIP, err = parseBool(rd.field(rec, ColAttackIP), ColAttackIP, true); err != nil {
		return err
	}
	if row.Takeover, err = parseBool(rd.field(rec, ColTakeover), ColTakeover, true); err != nil {
		return err
	}
	if s := rd.field(rec, ColIP); s != "" && s != "-" {
		ip, err := netip.ParseAddr(strings.Trim(s, "[]"))
		if err != nil {
			return fmt.Errorf("IP Address %q: not an address", clip(s))
		}
		row.IP = ip.Unmap().WithZone("")
	}
	if s := rd.field(rec, ColASN); s != "" && s != "-" {
		asn, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "AS"), "as"), 10, 32)
		if err != nil {
			return fmt.Errorf("ASN %q: not a number", clip(s))
		}
		row.Place.ASN = uint32(asn)
	}
	if c := unknownDash(rd.field(rec, ColCountry)); c != "" {
		if len(c) != 2 {
			return fmt.Errorf("Country %q: not an ISO 3166-1 alpha-2 code", clip(c))
		}
		row.Place.Country = rd.strs.get(strings.ToUpper(c))
	}
	row.Place.Region = rd.strs.get(unknownDash(rd.field(rec, ColRegion)))
	row.Place.City = rd.strs.get(unknownDash(rd.field(rec, ColCity)))
	row.UserAgent = rd.field(rec, ColUA)
	row.Device = rd.devices.get(rd.field(rec, ColBrowser), rd.field(rec, ColOS), rd.field(rec, ColDevice))
	return nil
}

func unknownDash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func parseBool(s, col string, emptyFalse bool) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1", "t", "yes":
		return true, nil
	case "false", "0", "f", "no":
		return false, nil
	case "":
		if emptyFalse {
			return false, nil
		}
	}
	return false, fmt.Errorf("%s %q: not True or False", col, clip(s))
}

// ParseTime reads a timestamp as the data set writes them ("2020-02-03
// 12:43:30.772", UTC), in RFC 3339, or as a Unix time in seconds or
// milliseconds.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty Login Timestamp")
	}
	if t, ok := parseDataSetTime(s); ok {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		if n >= 1e11 { // milliseconds (from 1973 on)
			return time.UnixMilli(n).UTC(), nil
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("Login Timestamp %q: not a time", clip(s))
}

// parseDataSetTime is the fast path for "2006-01-02 15:04:05[.fff]".
func parseDataSetTime(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(a, b int) int {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, mo, d, h, mi, sec := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60 {
		return time.Time{}, false
	}
	nsec := 0
	if len(s) > 19 {
		if s[19] != '.' || len(s) == 20 || len(s) > 29 {
			return time.Time{}, false
		}
		frac := num(20, len(s))
		if frac < 0 {
			return time.Time{}, false
		}
		for i := len(s) - 20; i < 9; i++ {
			frac *= 10
		}
		nsec = frac
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, nsec, time.UTC)
	if t.Day() != d { // February 30th and the like
		return time.Time{}, false
	}
	return t, true
}

// interner keeps one copy of the short strings that repeat (countries,
// regions, cities), so that rows kept for later do not hold on to the
// whole line they were read from.
type interner map[string]string

func (in *interner) get(s string) string {
	if s == "" {
		return ""
	}
	if *in == nil {
		*in = map[string]string{}
	}
	if v, ok := (*in)[s]; ok {
		return v
	}
	if len(*in) >= 1<<16 { // a log with ever new names: stop remembering
		return strings.Clone(s)
	}
	v := strings.Clone(s)
	(*in)[v] = v
	return v
}
