package redis

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mamoru-id/mamoru"
)

const (
	// slack is added to every TTL: it covers the clocks of instances that
	// disagree a little about when a window ends.
	slack = 10 * time.Second
	// maxTTL caps TTLs, so that absurd windows and blocks (a block until
	// the year 9999) do not overflow a time.Duration.
	maxTTL = 100 * 365 * 24 * time.Hour
)

// Counters is mamoru.Counters in Redis. It is safe for concurrent use.
type Counters struct {
	client goredis.UniversalClient
	prefix string
	clock  mamoru.Clock
	owned  bool // Close closes client
}

var _ mamoru.Counters = (*Counters)(nil)

// New returns Counters on client (a single node, Sentinel or Cluster) whose
// keys all begin with prefix (for example "mamoru:"), reading the time
// from clock. Close does not close client.
func New(client goredis.UniversalClient, prefix string, clock mamoru.Clock) *Counters {
	return &Counters{client: client, prefix: prefix, clock: clock}
}

// Open returns Counters on the Redis server at url, a redis://, rediss://
// or unix:// URL as go-redis' ParseURL reads it (for example
// redis://:password@127.0.0.1:6379/0). It does not connect: the first call
// does. Close closes the client it makes.
//
// The client fails fast, as counters are read on the sign-in path and
// inmem.Fallback answers better than a wait: one dial attempt, and unless
// the URL sets them, dial, read and write timeouts of 1 s and no retried
// commands (max_retries=-1), since a command retried after its reply was
// lost would count twice, or report a fresh Once as seen.
func Open(url, prefix string, clock mamoru.Clock) (*Counters, error) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: counters: %w", err)
	}
	u, err := neturl.Parse(url)
	if err != nil {
		return nil, fmt.Errorf("redis: counters: %w", err)
	}
	set := u.Query()
	opt.DialerRetries = 1
	if !set.Has("max_retries") {
		opt.MaxRetries = -1
	}
	for name, d := range map[string]*time.Duration{
		"dial_timeout": &opt.DialTimeout, "read_timeout": &opt.ReadTimeout, "write_timeout": &opt.WriteTimeout,
	} {
		if !set.Has(name) {
			*d = time.Second
		}
	}
	c := New(goredis.NewClient(opt), prefix, clock)
	c.owned = true
	return c, nil
}

// Close closes the client if Open made it; it does nothing for New.
func (c *Counters) Close() error {
	if !c.owned {
		return nil
	}
	return c.client.Close()
}

// blockScript sets KEYS[1] to the block end ARGV[1] (Unix ms) for ARGV[2]
// ms unless it already holds a later end, and returns the end in force.
const blockScript = `local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local want = tonumber(ARGV[1])
if want > cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return want
end
return cur`

// Do implements mamoru.Counters with one pipeline: every op's commands,
// in order, in one round trip. It validates every op before sending any.
func (c *Counters) Do(ctx context.Context, ops []mamoru.CounterOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := mamoru.ValidateCounterOps(ops); err != nil {
		return err
	}
	if len(ops) == 0 {
		return nil
	}
	now := c.clock.Now()
	ns := now.UnixNano()
	pipe := c.client.Pipeline()
	// Each op reads its result from at most two commands.
	results := make([][2]goredis.Cmder, len(ops))
	for i := range ops {
		op := &ops[i]
		r := &results[i]
		switch op.Kind {
		case mamoru.CounterAdd, mamoru.CounterGet:
			idx, _ := mamoru.CounterWindow(ns, op.Window)
			cur := c.key(op.Key, op.Window, idx, "")
			if op.Kind == mamoru.CounterAdd {
				r[0] = pipe.IncrBy(ctx, cur, op.N)
				pipe.PExpire(ctx, cur, windowTTL(op.Window))
			} else {
				r[0] = pipe.Get(ctx, cur)
			}
			r[1] = pipe.Get(ctx, c.key(op.Key, op.Window, idx-1, ""))
		case mamoru.CounterAddDistinct:
			// A member goes into the set of its window and of the next:
			// the set of a window then holds the members of it and of the
			// one before, counted with PFCOUNT on one key.
			idx, _ := mamoru.CounterWindow(ns, op.Window)
			cur, next := c.key(op.Key, op.Window, idx, ":hll"), c.key(op.Key, op.Window, idx+1, ":hll")
			pipe.PFAdd(ctx, cur, op.Member)
			pipe.PExpire(ctx, cur, windowTTL(op.Window))
			pipe.PFAdd(ctx, next, op.Member)
			pipe.PExpire(ctx, next, windowTTL(op.Window))
			r[0] = pipe.PFCount(ctx, cur)
		case mamoru.CounterCountDistinct:
			idx, _ := mamoru.CounterWindow(ns, op.Window)
			r[0] = pipe.PFCount(ctx, c.key(op.Key, op.Window, idx, ":hll"))
		case mamoru.CounterBlock:
			key := c.prefix + op.Key + ":block"
			if !op.Until.After(now) {
				r[0] = pipe.Get(ctx, key) // ends in the past block nothing
				break
			}
			end := ceilMilli(op.Until)
			ttl := min(time.UnixMilli(end).Sub(now), maxTTL) + slack
			r[0] = pipe.Eval(ctx, blockScript, []string{key}, end, ceilMilliDuration(ttl))
		case mamoru.CounterBlocked:
			r[0] = pipe.Get(ctx, c.prefix+op.Key+":block")
		}
	}
	cmds, err := pipe.Exec(ctx)
	if err != nil && !errors.Is(err, goredis.Nil) {
		return c.fail(ctx, err)
	}
	for _, cmd := range cmds { // Exec reports only the first error, maybe a missing key's
		if err := cmd.Err(); err != nil && !errors.Is(err, goredis.Nil) {
			return c.fail(ctx, err)
		}
	}
	for i := range ops {
		op := &ops[i]
		r := &results[i]
		switch op.Kind {
		case mamoru.CounterAdd, mamoru.CounterGet:
			cur, err := intResult(r[0])
			if err != nil {
				return c.fail(ctx, err)
			}
			prev, err := intResult(r[1])
			if err != nil {
				return c.fail(ctx, err)
			}
			_, elapsed := mamoru.CounterWindow(ns, op.Window)
			op.Count = mamoru.SlidingCount(cur, prev, op.Window, elapsed)
		case mamoru.CounterAddDistinct, mamoru.CounterCountDistinct:
			n, err := intResult(r[0])
			if err != nil {
				return c.fail(ctx, err)
			}
			op.Count = n
		case mamoru.CounterBlock, mamoru.CounterBlocked:
			end, err := intResult(r[0])
			if err != nil {
				return c.fail(ctx, err)
			}
			op.Until = time.Time{}
			if until := time.UnixMilli(end); until.After(now) {
				op.Until = until
			}
		}
	}
	return nil
}

// Once implements mamoru.Counters with SET NX PX; the ttl, rounded up to
// the millisecond, runs on Redis' clock.
func (c *Counters) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := mamoru.ValidateOnce(key, ttl); err != nil {
		return false, err
	}
	ttl = time.Duration(ceilMilliDuration(min(ttl, maxTTL))) * time.Millisecond
	ok, err := c.client.SetNX(ctx, c.prefix+key+":once", "1", ttl).Result()
	if err != nil {
		return false, c.fail(ctx, err)
	}
	return ok, nil
}

// fail returns the error of a call that failed: the caller's context error
// if it is done, an mamoru.EUnavailable error otherwise.
func (c *Counters) fail(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("redis: counters: %w (%v)", ctxErr, err)
	}
	return &mamoru.Error{Code: mamoru.EUnavailable, Message: "redis counters", Err: err}
}

// key returns the Redis key of key's count (suffix "") or set (suffix
// ":hll") over window w in window idx:
//
//	prefix + key + ":" + window + ":" + idx + suffix
//
// where window is the length in milliseconds, or as time.Duration prints
// it when it is not a whole number of milliseconds. Read from the right,
// the parts are unambiguous whatever key holds.
func (c *Counters) key(key string, w time.Duration, idx int64, suffix string) string {
	var b strings.Builder
	b.Grow(len(c.prefix) + len(key) + 2*20 + len(suffix))
	b.WriteString(c.prefix)
	b.WriteString(key)
	b.WriteByte(':')
	if w%time.Millisecond == 0 {
		b.WriteString(strconv.FormatInt(w.Milliseconds(), 10))
	} else {
		b.WriteString(w.String())
	}
	b.WriteByte(':')
	b.WriteString(strconv.FormatInt(idx, 10))
	b.WriteString(suffix)
	return b.String()
}

// windowTTL is the TTL of the keys of a window of length w: two windows
// and the slack, at most maxTTL.
func windowTTL(w time.Duration) time.Duration {
	if w > (maxTTL-slack)/2 {
		return maxTTL
	}
	return 2*w + slack
}

// intResult reads an integer reply, or a string holding one; a missing key
// reads as 0.
func intResult(cmd goredis.Cmder) (int64, error) {
	switch cmd := cmd.(type) {
	case *goredis.IntCmd:
		return cmd.Result()
	case *goredis.StringCmd:
		n, err := cmd.Int64()
		if errors.Is(err, goredis.Nil) {
			return 0, nil
		}
		return n, err
	case *goredis.Cmd:
		return cmd.Int64()
	}
	return 0, fmt.Errorf("redis: counters: unexpected command %T", cmd)
}

// ceilMilli returns t in Unix milliseconds, rounded up.
func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli() // rounds down: t's nanoseconds are never negative
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return ms
}

// ceilMilliDuration returns d in milliseconds, rounded up.
func ceilMilliDuration(d time.Duration) int64 {
	ms := d.Milliseconds()
	if d%time.Millisecond > 0 {
		ms++
	}
	return ms
}
