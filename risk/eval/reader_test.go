package eval

import (
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

func readAll(t *testing.T, csv string) ([]Row, *Reader) {
	t.Helper()
	rd, err := NewReader(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	for {
		var r Row
		err := rd.Next(&r)
		if errors.Is(err, io.EOF) {
			return rows, rd
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
}

func TestReaderDataSetRows(t *testing.T) {
	// The data set's own first rows (with index and RTT columns, which are
	// ignored), then columns in another order, in other cases, with a BOM.
	const log = "index,Login Timestamp,User ID,Round-Trip Time [ms],IP Address,Country,Region,City,ASN,User Agent String,Browser Name and Version,OS Name and Version,Device Type,Login Successful,Is Attack IP,Is Account Takeover\n" +
		"0,2020-02-03 12:43:30.772,-4324475583306591935,,10.0.65.171,NO,-,-,29695,Mozilla/5.0 (iPhone; CPU iPhone OS 13_4 like Mac OS X) Gecko/20150101 Firefox/20.0.0.1618 (Chrome variation/248113,Firefox 20.0.0.1618,iOS 13.4,mobile,False,False,False\n" +
		"2,2020-02-03 12:43:55.873,-3284137479262433373,,81.167.144.58,NO,Vestland,Urangsvag,29695,\"Mozilla/5.0 (iPad; CPU OS 7_1 like Mac OS X) AppleWebKit/533.1 (KHTML, like Gecko Version/4.0 Mobile Safari/533.1 variation/56\",Mobile Safari UI/WKWebView 7.1,iOS 7.1,tablet,True,False,False\n" +
		"3,2020-02-03 12:44:00.000,77,455,2001:db8::1,de,Hesse,Frankfurt am Main,AS3320,curl/7.64.1,curl 7.64.1,Other,bot,True,True,True\n"
	rows, rd := readAll(t, log)
	if n, bad := rd.Bad(); n != 0 {
		t.Fatalf("bad rows: %v", bad)
	}
	if len(rd.Missing()) != 0 {
		t.Errorf("missing %v", rd.Missing())
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	if !r.Time.Equal(time.Date(2020, 2, 3, 12, 43, 30, 772e6, time.UTC)) || r.User != "-4324475583306591935" ||
		r.IP != netip.MustParseAddr("10.0.65.171") || r.Success || r.Attack() || r.Line != 2 {
		t.Errorf("%+v", r)
	}
	if r.Place != (mamoru.Place{Country: "NO", ASN: 29695}) {
		t.Errorf("place %+v", r.Place)
	}
	if r.Device != (mamoru.Device{Browser: "Firefox", BrowserVersion: "20", OS: "iOS", OSVersion: "13", Type: "mobile"}) {
		t.Errorf("device %+v", r.Device)
	}
	if !strings.HasPrefix(r.UserAgent, "Mozilla/5.0 (iPhone") {
		t.Errorf("ua %q", r.UserAgent)
	}
	if r := rows[1]; r.Place.Region != "Vestland" || r.Place.City != "Urangsvag" || !r.Success ||
		r.Device != (mamoru.Device{Browser: "Safari", BrowserVersion: "7", OS: "iOS", OSVersion: "7", Type: "tablet"}) {
		t.Errorf("%+v", r)
	}
	if r := rows[2]; r.Place.Country != "DE" || r.Place.ASN != 3320 || !r.AttackIP || !r.Takeover || !r.Attack() ||
		r.IP != netip.MustParseAddr("2001:db8::1") || r.Device != (mamoru.Device{Browser: "curl", BrowserVersion: "7", Type: "bot"}) {
		t.Errorf("%+v", r)
	}

	// Columns by name, in any order and case; the attack columns missing.
	rows, rd = readAll(t, "\ufeffuser id, LOGIN SUCCESSFUL ,login timestamp,extra\nu1,true,2021-03-04T05:06:07+09:00,x\n")
	if len(rows) != 1 || rows[0].User != "u1" || !rows[0].Success || !rows[0].Time.Equal(time.Date(2021, 3, 3, 20, 6, 7, 0, time.UTC)) {
		t.Errorf("%+v", rows)
	}
	if m := rd.Missing(); len(m) != 11 || m[0] != ColIP {
		t.Errorf("missing %v", m)
	}
}

func TestReaderBadRows(t *testing.T) {
	const log = "Login Timestamp,User ID,IP Address,ASN,Country,Login Successful,Is Attack IP\n" +
		"2020-02-03 12:00:00,u1,192.0.2.1,1,JP,True,False\n" + // good (line 2)
		"yesterday,u1,192.0.2.1,1,JP,True,False\n" + // bad time
		"2020-02-03 12:00:01,u1,192.0.2.1,1,JP,maybe,False\n" + // bad boolean
		"2020-02-03 12:00:02,u1,not-an-ip,1,JP,True,False\n" + // bad IP
		"2020-02-03 12:00:03,u1,192.0.2.1,big,JP,True,False\n" + // bad ASN
		"2020-02-03 12:00:04,u1,192.0.2.1,1,Japan,True,False\n" + // bad country
		"2020-02-03 12:00:05,u1\n" + // too short
		"2020-02-03 12:00:06,,192.0.2.1,1,JP,True,False\n" + // no user
		"\n" + // blank: not a row at all
		"2020-02-30 12:00:07,u1,192.0.2.1,1,JP,True,False\n" + // no such day
		"1580731208000,u2,-,-,-,False,\n" + // good: Unix ms, unknowns, empty Is Attack IP
		"1580731209,u3,192.0.2.9,,JP,True,True,extra,fields\n" // good: Unix seconds, more fields
	rows, rd := readAll(t, log)
	if len(rows) != 3 {
		t.Fatalf("%d good rows: %+v", len(rows), rows)
	}
	n, bad := rd.Bad()
	if n != 8 || len(bad) != 8 {
		t.Fatalf("%d bad: %+v", n, bad)
	}
	for i, want := range []struct {
		line int
		text string
	}{{3, "Login Timestamp"}, {4, "Login Successful"}, {5, "IP Address"}, {6, "ASN"}, {7, "Country"}, {8, "fields"}, {9, "User ID"}, {11, "Login Timestamp"}} {
		if bad[i].Line != want.line || !strings.Contains(bad[i].Err, want.text) {
			t.Errorf("bad %d: %+v, want line %d with %q", i, bad[i], want.line, want.text)
		}
	}
	if r := rows[1]; r.User != "u2" || !r.Time.Equal(time.UnixMilli(1580731208000)) || r.IP.IsValid() || r.Place.Known() || r.Attack() {
		t.Errorf("%+v", r)
	}
	if r := rows[2]; r.User != "u3" || !r.Time.Equal(time.Unix(1580731209, 0)) || !r.AttackIP || r.Line != 13 {
		t.Errorf("%+v", r)
	}

	// A bare quote is a bad record too; reading goes on.
	rows, rd = readAll(t, "Login Timestamp,User ID,Login Successful\n2020-01-01 00:00:00,\"u\"1\",True\n2020-01-01 00:00:01,u2,True\n")
	if n, _ := rd.Bad(); len(rows) < 1 || rows[len(rows)-1].User != "u2" || int(n)+len(rows) != 2 {
		t.Errorf("%d bad, rows %+v", n, rows)
	}

	// More bad rows than are remembered.
	var b strings.Builder
	b.WriteString("Login Timestamp,User ID,Login Successful\n")
	for range 25 {
		b.WriteString("x,u,True\n")
	}
	_, rd = readAll(t, b.String())
	if n, bad := rd.Bad(); n != 25 || len(bad) != maxBadExamples {
		t.Errorf("%d bad, %d kept", n, len(bad))
	}
}

func TestReaderHeader(t *testing.T) {
	for _, in := range []string{"", "User ID,Login Successful\n", "a,b,c\n1,2,3\n"} {
		if _, err := NewReader(strings.NewReader(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	_, err := NewReader(strings.NewReader("User ID,Login Successful\n"))
	if err == nil || !strings.Contains(err.Error(), `"Login Timestamp"`) {
		t.Errorf("%v", err)
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2020-02-03 12:43:30.772":       time.Date(2020, 2, 3, 12, 43, 30, 772e6, time.UTC),
		"2020-02-03 12:43:30":           time.Date(2020, 2, 3, 12, 43, 30, 0, time.UTC),
		"2020-02-03T12:43:30.123456789": time.Date(2020, 2, 3, 12, 43, 30, 123456789, time.UTC),
		"2020-02-03T12:43:30Z":          time.Date(2020, 2, 3, 12, 43, 30, 0, time.UTC),
		"2020-02-03T21:43:30.5+09:00":   time.Date(2020, 2, 3, 12, 43, 30, 5e8, time.UTC),
		"2020-02-03 21:43:30+09:00":     time.Date(2020, 2, 3, 12, 43, 30, 0, time.UTC),
		"1580733810":                    time.Date(2020, 2, 3, 12, 43, 30, 0, time.UTC),
		"1580733810772":                 time.Date(2020, 2, 3, 12, 43, 30, 772e6, time.UTC),
	} {
		got, err := ParseTime(in)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "2020-13-01 00:00:00", "2020-02-03 12:43:30.", "2020-02-03 24:00:00", "-5", "2020/02/03 12:43:30"} {
		if _, err := ParseTime(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestDevice(t *testing.T) {
	for _, c := range []struct {
		browser, os, typ string
		want             mamoru.Device
	}{
		{"Chrome 80.0.3987", "Windows 10", "desktop", mamoru.Device{Browser: "Chrome", BrowserVersion: "80", OS: "Windows", OSVersion: "10", Type: "desktop"}},
		{"Chrome Mobile 46.0.2490", "Android 4.1", "mobile", mamoru.Device{Browser: "Chrome", BrowserVersion: "46", OS: "Android", OSVersion: "4", Type: "mobile"}},
		{"Mobile Safari 13.4", "iOS 13.4", "mobile", mamoru.Device{Browser: "Safari", BrowserVersion: "13", OS: "iOS", OSVersion: "13", Type: "mobile"}},
		{"Safari 13.1", "Mac OS X 10.15.7", "desktop", mamoru.Device{Browser: "Safari", BrowserVersion: "13", OS: "macOS", Type: "desktop"}},
		{"Firefox 77.0", "Ubuntu", "desktop", mamoru.Device{Browser: "Firefox", BrowserVersion: "77", OS: "Linux", Type: "desktop"}},
		{"Samsung Internet 12.0", "Android 10", "mobile", mamoru.Device{Browser: "Samsung Browser", BrowserVersion: "12", OS: "Android", OSVersion: "10", Type: "mobile"}},
		{"IE 11.0", "Windows 7", "desktop", mamoru.Device{Browser: "Internet Explorer", BrowserVersion: "11", OS: "Windows", OSVersion: "7", Type: "desktop"}},
		{"Edge 85.0.564", "Windows 8.1", "desktop", mamoru.Device{Browser: "Edge", BrowserVersion: "85", OS: "Windows", OSVersion: "8.1", Type: "desktop"}},
		{"Opera 68.0.3618", "Windows XP", "desktop", mamoru.Device{Browser: "Opera", BrowserVersion: "68", OS: "Windows", OSVersion: "XP", Type: "desktop"}},
		{"Python Requests 2.22", "Other", "bot", mamoru.Device{Browser: "python-requests", BrowserVersion: "2", Type: "bot"}},
		{"Some Browser 0.9", "Chrome OS 13020.87", "", mamoru.Device{Browser: "Some Browser", BrowserVersion: "", OS: "ChromeOS", OSVersion: "13020", Type: "unknown"}},
		{"Other", "Other", "unknown", mamoru.Device{Type: "unknown"}},
		{"", "", "", mamoru.Device{Type: "unknown"}},
	} {
		if got := Device(c.browser, c.os, c.typ); got != c.want {
			t.Errorf("%q %q %q: %+v, want %+v", c.browser, c.os, c.typ, got, c.want)
		}
	}
}
