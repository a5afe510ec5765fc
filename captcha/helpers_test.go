package captcha

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

// onceMap is the part of mamoru.Counters that PoW uses: Once, in a map.
type onceMap struct {
	mu    sync.Mutex
	clock mamoru.Clock
	until map[string]time.Time
	ttls  []time.Duration // every ttl Once was given
	err   error           // when set, Once fails with it
}

var _ mamoru.Counters = (*onceMap)(nil)

func newOnceMap(clock mamoru.Clock) *onceMap {
	return &onceMap{clock: clock, until: map[string]time.Time{}}
}

func (m *onceMap) Do(context.Context, []mamoru.CounterOp) error {
	return errors.New("onceMap: Do is not used by package captcha")
}

func (m *onceMap) Once(_ context.Context, key string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return false, m.err
	}
	m.ttls = append(m.ttls, ttl)
	now := m.clock.Now()
	if u, ok := m.until[key]; ok && now.Before(u) {
		return false, nil
	}
	m.until[key] = now.Add(ttl)
	return true, nil
}

var testKey = []byte("test-key-0123456789abcdef0123456789abcdef")

var testNow = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func newTestPoW(t testing.TB, cfg PoWConfig) (*PoW, *mamoru.FakeClock, *onceMap) {
	t.Helper()
	clock := mamoru.NewFakeClock(testNow)
	used := newOnceMap(clock)
	p, err := NewPoW(testKey, clock, used, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, clock, used
}

// solveGo is the reference solver: it tries 0..MaxNumber in order and
// returns the number whose hash is the challenge, or -1.
func solveGo(ch *Challenge) int {
	target, err := hex.DecodeString(ch.Challenge)
	if err != nil || len(target) != sha256.Size {
		return -1
	}
	buf := []byte(ch.Salt)
	salt := len(buf)
	for n := 0; n <= ch.MaxNumber; n++ {
		buf = strconv.AppendInt(buf[:salt], int64(n), 10)
		if sum := sha256.Sum256(buf); string(sum[:]) == string(target) {
			return n
		}
	}
	return -1
}

// answerFor encodes the form field's value as the widget does.
func answerFor(ch *Challenge, number any) string {
	b, _ := json.Marshal(map[string]any{
		"algorithm": ch.Algorithm, "challenge": ch.Challenge, "number": number,
		"salt": ch.Salt, "signature": ch.Signature, "took": 12,
	})
	return base64.StdEncoding.EncodeToString(b)
}

// solved returns a challenge of level and its answer.
func solved(t testing.TB, p *PoW, level Level) (*Challenge, string) {
	t.Helper()
	ch, err := p.Challenge(level)
	if err != nil {
		t.Fatal(err)
	}
	n := solveGo(ch)
	if n < 0 {
		t.Fatalf("no solution for %+v", ch)
	}
	return ch, answerFor(ch, n)
}

// wantCode fails unless err has the code and wraps the sentinel (nil for
// none).
func wantCode(t *testing.T, err error, code string, sentinel error) {
	t.Helper()
	if got := mamoru.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Fatalf("error %v does not wrap %v", err, sentinel)
	}
}
