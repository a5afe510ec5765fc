package redis_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/countertest"
	"github.com/mamoru-id/mamoru/inmem"
	"github.com/mamoru-id/mamoru/redis"
)

// redisURL returns the URL of the test server from MAMORU_TEST_REDIS.
// Without it the test is skipped, except under CI, which must never skip
// silently.
func redisURL(t testing.TB) string {
	t.Helper()
	v := os.Getenv("MAMORU_TEST_REDIS")
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("MAMORU_TEST_REDIS is not set, and CI=true: the Redis counters must be tested in CI")
		}
		t.Skip("MAMORU_TEST_REDIS is not set (e.g. redis://127.0.0.1:6379/0): skipping the Redis counters tests")
	}
	return v
}

// testPrefix returns a random key prefix, and deletes every key under it
// when the test ends.
func testPrefix(t testing.TB, url string) string {
	t.Helper()
	prefix := "mamoru-test:" + mamoru.NewID() + ":"
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse MAMORU_TEST_REDIS: %v", err)
	}
	t.Cleanup(func() {
		admin := goredis.NewClient(opt)
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		iter := admin.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("scan %s*: %v", prefix, err)
			return
		}
		for len(keys) > 0 {
			n := min(len(keys), 1000)
			if err := admin.Unlink(ctx, keys[:n]...).Err(); err != nil {
				t.Errorf("unlink %s*: %v", prefix, err)
				return
			}
			keys = keys[n:]
		}
	})
	return prefix
}

// open opens Counters on the test server under prefix, closed when the
// test ends.
func open(t testing.TB, url, prefix string, clock mamoru.Clock) *redis.Counters {
	t.Helper()
	c, err := redis.Open(url, prefix, clock)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// perTest returns a countertest factory: one key prefix per test, and a
// new client for every call, so that two calls are two instances sharing
// one Redis.
func perTest(url string, wrap func(c *redis.Counters, clock *mamoru.FakeClock) mamoru.Counters) func(*testing.T, *mamoru.FakeClock) mamoru.Counters {
	var mu sync.Mutex
	prefixes := map[*testing.T]string{}
	return func(t *testing.T, clock *mamoru.FakeClock) mamoru.Counters {
		mu.Lock()
		prefix, ok := prefixes[t]
		if !ok {
			prefix = testPrefix(t, url)
			prefixes[t] = prefix
			t.Cleanup(func() {
				mu.Lock()
				delete(prefixes, t)
				mu.Unlock()
			})
		}
		mu.Unlock()
		return wrap(open(t, url, prefix, clock), clock)
	}
}

func TestCounters(t *testing.T) {
	url := redisURL(t)
	countertest.Run(t, perTest(url, func(c *redis.Counters, _ *mamoru.FakeClock) mamoru.Counters { return c }))
}

// TestFallbackConformance runs the suite on inmem.Fallback in front of a
// healthy Redis: it must behave as Redis does, instances sharing state.
func TestFallbackConformance(t *testing.T) {
	url := redisURL(t)
	countertest.Run(t, perTest(url, func(c *redis.Counters, clock *mamoru.FakeClock) mamoru.Counters {
		return inmem.NewFallback(c, inmem.New(clock), nil, func(down bool) {
			t.Errorf("onChange(%v) with a healthy Redis", down)
		})
	}))
}

func TestOpenBadURL(t *testing.T) {
	for _, url := range []string{"", "http://127.0.0.1:6379", "redis://127.0.0.1:6379/notadb", "::"} {
		if c, err := redis.Open(url, "p:", mamoru.SystemClock{}); err == nil {
			c.Close()
			t.Errorf("Open(%q): no error", url)
		}
	}
}

// TestNewDoesNotOwnClient checks that Close leaves a client given to New
// open.
func TestNewDoesNotOwnClient(t *testing.T) {
	url := redisURL(t)
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(opt)
	defer client.Close()
	c := redis.New(client, testPrefix(t, url), mamoru.SystemClock{})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := client.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("client after Close: %v", err)
	}
}

// TestKeyLayout pins the keys and TTLs that docs/counters.md describes.
func TestKeyLayout(t *testing.T) {
	url := redisURL(t)
	prefix := testPrefix(t, url)
	start := time.Now().Truncate(time.Hour).Add(90 * time.Second)
	clock := mamoru.NewFakeClock(start)
	c := open(t, url, prefix, clock)
	opt, _ := goredis.ParseURL(url)
	admin := goredis.NewClient(opt)
	defer admin.Close()
	ctx := t.Context()

	ops := []mamoru.CounterOp{
		{Kind: mamoru.CounterAdd, Key: "fail:ip:x", Window: time.Minute, N: 3},
		{Kind: mamoru.CounterAdd, Key: "fail:ip:x", Window: 1500 * time.Microsecond, N: 1},
		{Kind: mamoru.CounterAddDistinct, Key: "pw:h", Window: time.Hour, Member: "acct"},
		{Kind: mamoru.CounterBlock, Key: "ip:x", Until: start.Add(10*time.Minute + 500*time.Microsecond)},
	}
	if err := c.Do(ctx, ops); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Once(ctx, "tok", 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	minute := start.UnixNano() / int64(time.Minute)
	hour := start.UnixNano() / int64(time.Hour)
	fine := start.UnixNano() / int64(1500*time.Microsecond)
	endMs := start.Add(10*time.Minute).UnixMilli() + 1
	for _, k := range []struct {
		key        string
		value      string // "" for a HyperLogLog
		minTTL     time.Duration
		maxTTL     time.Duration
		notAnother bool
	}{
		{key: "fail:ip:x:60000:" + strconv.FormatInt(minute, 10), value: "3", minTTL: 2*time.Minute + 9*time.Second, maxTTL: 2*time.Minute + 10*time.Second},
		{key: "fail:ip:x:1.5ms:" + strconv.FormatInt(fine, 10), value: "1", minTTL: 9 * time.Second, maxTTL: 10*time.Second + 3*time.Millisecond},
		{key: "pw:h:3600000:" + strconv.FormatInt(hour, 10) + ":hll", minTTL: 2*time.Hour + 9*time.Second, maxTTL: 2*time.Hour + 10*time.Second},
		{key: "pw:h:3600000:" + strconv.FormatInt(hour+1, 10) + ":hll", minTTL: 2*time.Hour + 9*time.Second, maxTTL: 2*time.Hour + 10*time.Second},
		{key: "ip:x:block", value: strconv.FormatInt(endMs, 10), minTTL: 10*time.Minute + 9*time.Second, maxTTL: 10*time.Minute + 10*time.Second + time.Millisecond},
		{key: "tok:once", value: "1", minTTL: 5*time.Minute - time.Second, maxTTL: 5 * time.Minute},
	} {
		ttl, err := admin.PTTL(ctx, prefix+k.key).Result()
		if err != nil || ttl < k.minTTL || ttl > k.maxTTL {
			t.Errorf("key %q: TTL %v, %v; want within [%v, %v]", k.key, ttl, err, k.minTTL, k.maxTTL)
		}
		if k.value != "" {
			if v, err := admin.Get(ctx, prefix+k.key).Result(); v != k.value || err != nil {
				t.Errorf("key %q: %q, %v; want %q", k.key, v, err, k.value)
			}
		} else if n, err := admin.PFCount(ctx, prefix+k.key).Result(); n != 1 || err != nil {
			t.Errorf("key %q: PFCOUNT %d, %v; want 1", k.key, n, err)
		}
	}
	keys, err := admin.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) != 6 {
		t.Errorf("keys under the prefix: %q, %v; want the 6 above", keys, err)
	}
}

// TestErrorsUnavailable checks that a server error comes back as
// mamoru.EUnavailable (the key holds another type).
func TestErrorsUnavailable(t *testing.T) {
	url := redisURL(t)
	prefix := testPrefix(t, url)
	clock := mamoru.NewFakeClock(time.Now())
	c := open(t, url, prefix, clock)
	opt, _ := goredis.ParseURL(url)
	admin := goredis.NewClient(opt)
	defer admin.Close()
	if err := admin.RPush(t.Context(), prefix+"k:block", "x").Err(); err != nil {
		t.Fatal(err)
	}
	err := c.Do(t.Context(), []mamoru.CounterOp{
		{Kind: mamoru.CounterGet, Key: "k", Window: time.Minute},
		{Kind: mamoru.CounterBlocked, Key: "k"},
	})
	var e *mamoru.Error
	if !errors.As(err, &e) || e.Code != mamoru.EUnavailable {
		t.Fatalf("Do on a key of the wrong type: %v, want an %s error", err, mamoru.EUnavailable)
	}
}
