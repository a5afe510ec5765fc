package breach

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// filterOf builds and opens the filter of the SHA-1 hashes of passwords.
func filterOf(t *testing.T, passwords ...string) *Filter {
	t.Helper()
	var in bytes.Buffer
	for _, pw := range passwords {
		fmt.Fprintf(&in, "%X:1\r\n", sha1Sum(pw))
	}
	f, _ := buildFile(t, &in, BuildOptions{Seed: 3})
	return f
}

// falsePositive returns a password that f contains but that is not one of
// the passwords it was built from (about 1 in 256 random ones).
func falsePositive(t *testing.T, f *Filter) string {
	t.Helper()
	for i := range 1_000_000 {
		pw := fmt.Sprintf("not-breached-%d", i)
		if f.Contains(pw) {
			return pw
		}
	}
	t.Fatal("no false positive in a million tries")
	return ""
}

func TestCheckerOffline(t *testing.T) {
	f := filterOf(t, "Kiyomizu-dera-1994", "Sagrada-Familia-2026")
	fp := falsePositive(t, f)
	ctx := context.Background()
	for _, tc := range []struct {
		checker *Checker
		pw      string
		want    Result
	}{
		{NewChecker(nil, nil), "Password", Result{Breached: true, Source: SourceCommon}}, // CommonForm
		{NewChecker(nil, nil), "Kiyomizu-dera-1994", Result{}},
		{NewChecker(f, nil), "Kiyomizu-dera-1994", Result{Breached: true, Source: SourceFilter}},
		{NewChecker(f, nil), "kiyomizu-dera-1994", Result{}}, // the filter is exact about bytes
		{NewChecker(f, nil), "password1", Result{Breached: true, Source: SourceCommon}},
		{NewChecker(f, nil), fp, Result{Breached: true, Source: SourceFilter}}, // the trade-off without online
		{NewChecker(f, nil), "correct horse battery staple", Result{}},
		{nil, "qwerty", Result{Breached: true, Source: SourceCommon}},
		{nil, "Kiyomizu-dera-1994", Result{}},
	} {
		got, err := tc.checker.Breached(ctx, tc.pw)
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v, %v; want %+v", tc.pw, got, err, tc.want)
		}
	}
	if (Result{Source: SourceFilter}).Confirmed() || !(Result{Source: SourceCommon}).Confirmed() || !(Result{Source: SourceOnline}).Confirmed() {
		t.Error("Confirmed")
	}
	for s, want := range map[Source]string{SourceNone: "none", SourceCommon: "common", SourceFilter: "filter", SourceOnline: "online", 9: "unknown"} {
		if s.String() != want {
			t.Errorf("%d: %s", s, s)
		}
	}
}

func TestCheckerOnline(t *testing.T) {
	f := filterOf(t, "Kiyomizu-dera-1994", "Sagrada-Familia-2026")
	fp := falsePositive(t, f)
	api := newRangeAPI(t, map[string]int64{"Kiyomizu-dera-1994": 3, "Sagrada-Familia-2026": 17, "only-online-9f2c": 2})
	o := newOnline(t, OnlineConfig{BaseURL: api.URL, Timeout: time.Second})
	ctx := context.Background()

	c := NewChecker(f, o)
	for _, tc := range []struct {
		pw       string
		want     Result
		requests int64 // to the API, so far
	}{
		{"password1", Result{Breached: true, Source: SourceCommon}, 0},
		{"correct horse battery staple", Result{}, 0},                                        // filter miss: nothing sent
		{"only-online-9f2c", Result{}, 0},                                                    // not in the file: not asked
		{"Sagrada-Familia-2026", Result{Breached: true, Source: SourceOnline, Count: 17}, 1}, // a confirmed hit
		{fp, Result{}, 2}, // a false positive, refuted
	} {
		got, err := c.Breached(ctx, tc.pw)
		if err != nil || got != tc.want || api.requests.Load() != tc.requests {
			t.Errorf("%q: %+v, %v, %d requests; want %+v, %d requests", tc.pw, got, err, api.requests.Load(), tc.want, tc.requests)
		}
	}

	// Without a filter, every password that is not common is asked.
	c = NewChecker(nil, o)
	if got, err := c.Breached(ctx, "only-online-9f2c"); err != nil || got != (Result{Breached: true, Source: SourceOnline, Count: 2}) {
		t.Errorf("online only: %+v %v", got, err)
	}
	if got, err := c.Breached(ctx, fp); err != nil || got != (Result{}) {
		t.Errorf("online only, not breached: %+v %v", got, err)
	}

	// The API down: the offline answer and the error.
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer down.Close()
	o = newOnline(t, OnlineConfig{BaseURL: down.URL})
	got, err := NewChecker(f, o).Breached(ctx, "Sagrada-Familia-2026")
	if got != (Result{Breached: true, Source: SourceFilter}) || mamoru.ErrorCode(err) != mamoru.EUnavailable || !strings.Contains(err.Error(), "502") {
		t.Errorf("API down, filter hit: %+v %v", got, err)
	}
	if got, err := NewChecker(f, o).Breached(ctx, "correct horse battery staple"); got != (Result{}) || err != nil {
		t.Errorf("API down, filter miss: %+v %v", got, err)
	}
	if got, err := NewChecker(nil, o).Breached(ctx, "Sagrada-Familia-2026"); got != (Result{}) || mamoru.ErrorCode(err) != mamoru.EUnavailable {
		t.Errorf("API down, no filter: %+v %v", got, err)
	}
}
