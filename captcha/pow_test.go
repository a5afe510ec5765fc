package captcha

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

func TestChallengeFormat(t *testing.T) {
	p, _, _ := newTestPoW(t, PoWConfig{})
	ch, err := p.Challenge(Medium)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Algorithm != "SHA-256" || ch.MaxNumber != DefaultMaxNumberMedium || len(ch.Challenge) != 64 || len(ch.Signature) != 64 {
		t.Fatalf("challenge %+v", ch)
	}
	random, query, ok := strings.Cut(ch.Salt, "?")
	if !ok || len(random) != 2*saltBytes || !strings.HasSuffix(query, "&") {
		t.Fatalf("salt %q: want %d hex characters, ?, parameters ending in &", ch.Salt, 2*saltBytes)
	}
	q, _ := url.ParseQuery(query)
	wantExp := testNow.Add(DefaultExpiry)
	if q.Get("expires") != strconv.FormatInt(wantExp.Unix(), 10) || q.Get("level") != "medium" {
		t.Fatalf("salt parameters %v, want expires=%d level=medium", q, wantExp.Unix())
	}
	if !ch.Expires.Equal(wantExp) {
		t.Fatalf("Expires %v, want %v", ch.Expires, wantExp)
	}
	b, _ := json.Marshal(ch)
	var fields map[string]any
	_ = json.Unmarshal(b, &fields)
	if len(fields) != 5 {
		t.Fatalf("JSON %s: want exactly algorithm, challenge, maxnumber, salt, signature", b)
	}
	n := solveGo(ch)
	if n < 1 || n > ch.MaxNumber {
		t.Fatalf("secret number %d outside 1..%d", n, ch.MaxNumber)
	}
	other, _ := p.Challenge(Medium)
	if other.Salt == ch.Salt {
		t.Fatal("two challenges share a salt")
	}
}

func TestLevels(t *testing.T) {
	p, _, _ := newTestPoW(t, PoWConfig{MaxNumberLow: 10, MaxNumberMedium: 20, MaxNumberHigh: 30})
	for level, want := range map[Level]int{Low: 10, Medium: 20, High: 30} {
		ch, err := p.Challenge(level)
		if err != nil || ch.MaxNumber != want {
			t.Fatalf("level %v: %+v, %v; want max number %d", level, ch, err, want)
		}
		if l, err := ParseLevel(level.String()); err != nil || l != level {
			t.Fatalf("ParseLevel(%q) = %v, %v", level.String(), l, err)
		}
	}
	for _, bad := range []Level{0, 4, -1} {
		if _, err := p.Challenge(bad); err == nil {
			t.Fatalf("level %d accepted", bad)
		}
	}
	if _, err := ParseLevel("extreme"); err == nil {
		t.Fatal("ParseLevel accepted extreme")
	}
	d, _, _ := newTestPoW(t, PoWConfig{})
	lo, _ := d.MaxNumber(Low)
	mid, _ := d.MaxNumber(Medium)
	hi, _ := d.MaxNumber(High)
	if lo != 20_000 || mid != 100_000 || hi != 1_000_000 {
		t.Fatalf("default max numbers %d %d %d", lo, mid, hi)
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	p, clock, used := newTestPoW(t, PoWConfig{MaxNumberLow: 1000})
	ch, answer := solved(t, p, Low)
	if err := p.Verify(ctx, answer, "192.0.2.1"); err != nil {
		t.Fatalf("right answer refused: %v", err)
	}
	if got, want := used.ttls[0], DefaultExpiry+clockSkew; got != want {
		t.Fatalf("Once ttl %v, want %v", got, want)
	}
	if _, ok := used.until["captcha:"+ch.Challenge]; !ok {
		t.Fatalf("Once keys %v, want captcha:%s", used.until, ch.Challenge)
	}

	err := p.Verify(ctx, answer, "")
	wantCode(t, err, mamoru.EInvalidRequest, ErrInvalid)
	if !strings.Contains(err.Error(), "already used") {
		t.Fatalf("replay: %v", err)
	}

	// Unpadded base64 and a number sent as a string are the same answer.
	_, answer = solved(t, p, Low)
	if err := p.Verify(ctx, strings.TrimRight(answer, "="), ""); err != nil {
		t.Fatalf("unpadded answer refused: %v", err)
	}
	ch, _ = solved(t, p, Low)
	if err := p.Verify(ctx, answerFor(ch, strconv.Itoa(solveGo(ch))), ""); err != nil {
		t.Fatalf("number as a string refused: %v", err)
	}

	// Expiry, on the fake clock: valid up to the second it names.
	_, answer = solved(t, p, Low)
	clock.Advance(DefaultExpiry)
	if err := p.Verify(ctx, answer, ""); err != nil {
		t.Fatalf("answer refused at its expiry: %v", err)
	}
	_, answer = solved(t, p, Low)
	clock.Advance(DefaultExpiry + time.Second)
	err = p.Verify(ctx, answer, "")
	wantCode(t, err, mamoru.EInvalidRequest, ErrInvalid)
	if !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired: %v", err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	ctx := context.Background()
	p, _, _ := newTestPoW(t, PoWConfig{MaxNumberLow: 1000})
	ch, err := p.Challenge(Low)
	if err != nil {
		t.Fatal(err)
	}
	n := solveGo(ch)
	field := func(change func(m map[string]any)) string {
		m := map[string]any{"algorithm": ch.Algorithm, "challenge": ch.Challenge, "number": n, "salt": ch.Salt, "signature": ch.Signature}
		change(m)
		b, _ := json.Marshal(m)
		return base64.StdEncoding.EncodeToString(b)
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	// A challenge signed with our key whose salt lacks the final "&".
	noAmp := *ch
	noAmp.Salt = strings.TrimSuffix(ch.Salt, "&")
	noAmp.Challenge = hashHex(noAmp.Salt, "7")
	noAmp.Signature = hexSign(p, noAmp.Challenge)
	// ... one whose salt names no expiry, and one with a bad level.
	noExp := noAmp
	noExp.Salt = "abcdef&"
	noExp.Challenge = hashHex(noExp.Salt, "7")
	noExp.Signature = hexSign(p, noExp.Challenge)
	badLevel := noAmp
	badLevel.Salt = "abcdef?expires=" + strconv.FormatInt(testNow.Add(time.Minute).Unix(), 10) + "&level=extreme&"
	badLevel.Challenge = hashHex(badLevel.Salt, "7")
	badLevel.Signature = hexSign(p, badLevel.Challenge)

	for _, tc := range []struct {
		name, token, want string
	}{
		{"not base64", "!!!not base64!!!", "not base64"},
		{"too long", strings.Repeat("A", MaxPayloadBytes+1), "too long"},
		{"not JSON", b64("hello"), "not JSON"},
		{"JSON null", b64("null"), "number"},
		{"JSON array", b64("[1,2]"), "not JSON"},
		{"empty object", b64("{}"), "number"},
		{"number negative", field(func(m map[string]any) { m["number"] = -1 }), "number"},
		{"number fraction", field(func(m map[string]any) { m["number"] = 1.5 }), "number"},
		{"number exponent", b64(`{"algorithm":"SHA-256","challenge":"a","number":1e3,"salt":"s","signature":"b"}`), "number"},
		{"number leading zero", field(func(m map[string]any) { m["number"] = "0" + strconv.Itoa(n) }), "not JSON"},
		{"number huge", field(func(m map[string]any) { m["number"] = "1234567890123456" }), "number"},
		{"number object", field(func(m map[string]any) { m["number"] = map[string]any{} }), "not JSON"},
		{"salt missing", field(func(m map[string]any) { delete(m, "salt") }), "incomplete"},
		{"algorithm SHA-1", field(func(m map[string]any) { m["algorithm"] = "SHA-1" }), "algorithm"},
		{"algorithm lower case", field(func(m map[string]any) { m["algorithm"] = "sha-256" }), "algorithm"},
		{"signature not hex", field(func(m map[string]any) { m["signature"] = "zz" }), "signature"},
		{"signature of another key", field(func(m map[string]any) {
			other, _ := NewPoW([]byte(strings.Repeat("k", MinKeyBytes)), nil, newOnceMap(mamoru.SystemClock{}), PoWConfig{})
			m["signature"] = hexSign(other, ch.Challenge)
		}), "signature"},
		{"signature truncated", field(func(m map[string]any) { m["signature"] = ch.Signature[:62] }), "signature"},
		{"wrong number", field(func(m map[string]any) { m["number"] = n + 1 }), "solution wrong"},
		{"salt changed", field(func(m map[string]any) { m["salt"] = strings.Replace(ch.Salt, "level=low", "level=high", 1) }), "solution wrong"},
		{"digit moved into the salt", field(func(m map[string]any) {
			s := strconv.Itoa(n)
			if len(s) < 2 {
				s = "x" + s // cannot move; any refusal will do
			}
			m["salt"] = ch.Salt + s[:1]
			m["number"] = s[1:]
		}), ""},
		{"salt without final &", answerFor(&noAmp, 7), "no expiry"},
		{"salt without expiry", answerFor(&noExp, 7), "no expiry"},
		{"salt with unknown level", answerFor(&badLevel, 7), "level malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Verify(ctx, tc.token, "")
			wantCode(t, err, mamoru.EInvalidRequest, ErrInvalid)
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}

	err = p.Verify(ctx, "", "")
	wantCode(t, err, mamoru.EInvalidRequest, ErrRequired)
	if errors.Is(err, ErrInvalid) {
		t.Fatal("a missing answer is also ErrInvalid")
	}
	// None of this used up the challenge.
	if err := p.Verify(ctx, answerFor(ch, n), ""); err != nil {
		t.Fatalf("right answer refused after the wrong ones: %v", err)
	}
}

func hexSign(p *PoW, challenge string) string { return hex.EncodeToString(p.sign(challenge)) }

func TestVerifyLevel(t *testing.T) {
	ctx := context.Background()
	p, _, _ := newTestPoW(t, PoWConfig{MaxNumberLow: 100, MaxNumberMedium: 200, MaxNumberHigh: 300})
	_, low := solved(t, p, Low)
	err := p.VerifyLevel(ctx, low, Medium)
	wantCode(t, err, mamoru.EInvalidRequest, ErrInvalid)
	if !strings.Contains(err.Error(), "level too low") {
		t.Fatalf("low answer for medium: %v", err)
	}
	if err := p.VerifyLevel(ctx, low, Low); err != nil {
		t.Fatalf("low answer for low: %v", err)
	}
	_, high := solved(t, p, High)
	if err := p.VerifyLevel(ctx, high, Medium); err != nil {
		t.Fatalf("high answer for medium: %v", err)
	}
}

// A challenge that only a key holder could make but that lives longer
// than ours is refused, so that Once never holds a key for long.
func TestVerifyExpiryTooFarAhead(t *testing.T) {
	clock := mamoru.NewFakeClock(testNow)
	used := newOnceMap(clock)
	long, err := NewPoW(testKey, clock, used, PoWConfig{Expiry: 2 * time.Hour, MaxNumberLow: 100})
	if err != nil {
		t.Fatal(err)
	}
	short, err := NewPoW(testKey, clock, used, PoWConfig{Expiry: 10 * time.Minute, MaxNumberLow: 100})
	if err != nil {
		t.Fatal(err)
	}
	_, answer := solved(t, long, Low)
	err = short.Verify(context.Background(), answer, "")
	wantCode(t, err, mamoru.EInvalidRequest, ErrInvalid)
	if !strings.Contains(err.Error(), "too far ahead") {
		t.Fatalf("got %v", err)
	}
}

func TestVerifyCountersDown(t *testing.T) {
	p, _, used := newTestPoW(t, PoWConfig{MaxNumberLow: 100})
	_, answer := solved(t, p, Low)
	used.err = errors.New("redis: connection refused")
	err := p.Verify(context.Background(), answer, "")
	wantCode(t, err, mamoru.EUnavailable, nil)
	if errors.Is(err, ErrInvalid) {
		t.Fatal("an outage is blamed on the answer")
	}
	used.err = nil
	if err := p.Verify(context.Background(), answer, ""); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
}

func TestNewPoW(t *testing.T) {
	clock := mamoru.NewFakeClock(testNow)
	used := newOnceMap(clock)
	if _, err := NewPoW(testKey[:MinKeyBytes-1], clock, used, PoWConfig{}); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := NewPoW(testKey, clock, nil, PoWConfig{}); err == nil {
		t.Fatal("nil Counters accepted")
	}
	err := PoWConfig{MaxNumberLow: 500, MaxNumberMedium: 100, MaxNumberHigh: maxMaxNumber + 1, Expiry: time.Second}.Validate()
	for _, want := range []string{"must not decrease", "max_number_high", "expiry"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Validate: %v; want it to mention %q", err, want)
		}
	}
	if err := (PoWConfig{MaxNumberLow: -1}).Validate(); err == nil {
		t.Fatal("negative max number accepted")
	}
	p, err := NewPoW(testKey, nil, used, PoWConfig{ChallengeURL: "/c", ScriptURL: "/s.js"})
	if err != nil {
		t.Fatal(err)
	}
	if w := p.Widget(); w != (Widget{Kind: KindPoW, FieldName: "altcha", ScriptURL: "/s.js", ChallengeURL: "/c"}) {
		t.Fatalf("Widget %+v", w)
	}
	d, _, _ := newTestPoW(t, PoWConfig{})
	if w := d.Widget(); w.ScriptURL != DefaultScriptURL || w.ChallengeURL != DefaultChallengeURL {
		t.Fatalf("default Widget %+v", w)
	}
}

func TestRandomBelow(t *testing.T) {
	seen := map[int]int{}
	for range 3000 {
		v := randomBelow(3)
		if v < 0 || v > 2 {
			t.Fatalf("randomBelow(3) = %d", v)
		}
		seen[v]++
	}
	for v := range 3 {
		if seen[v] < 800 {
			t.Fatalf("randomBelow(3) gave %d %d times in 3000", v, seen[v])
		}
	}
	if randomBelow(1) != 0 {
		t.Fatal("randomBelow(1) != 0")
	}
}

// FuzzVerify: no input makes Verify panic or fail with anything but
// invalid_request. (The fuzzer cannot forge the HMAC, so the only answers
// it can get accepted are the seed's, in each worker process.)
func FuzzVerify(f *testing.F) {
	p, _, _ := newTestPoW(f, PoWConfig{MaxNumberLow: 100})
	_, answer := solved(f, p, Low)
	f.Add(answer)
	f.Add("")
	f.Add(base64.StdEncoding.EncodeToString([]byte(`{"number":1}`)))
	f.Add(base64.StdEncoding.EncodeToString([]byte(`{"algorithm":"SHA-256","challenge":"","number":0,"salt":"?","signature":""}`)))
	f.Fuzz(func(t *testing.T, token string) {
		err := p.Verify(context.Background(), token, "")
		if err != nil && mamoru.ErrorCode(err) != mamoru.EInvalidRequest {
			t.Fatalf("Verify(%q): %v", token, err)
		}
	})
}
