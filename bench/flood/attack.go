package main

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// attackPlan is what every attack worker draws from.
type attackPlan struct {
	addr       string   // host:port of the server
	ips        []string // X-Forwarded-For addresses
	known      []string // JSON string literals of existing accounts' addresses
	unknown    string   // prefix of unknown addresses: "flood-RUN-nobody-"
	passwords  []string // JSON string literals of common passwords
	knownShare float64
}

// attackResult is what one worker, or all, saw.
type attackResult struct {
	win  [2]counts // by when the attempt was sent: before the settle mark, after it
	late int64     // open loop: attempts sent more than 100 ms after they were due
	end  time.Time // the last answer
}

// appendRequest appends a complete sign-in request of a random stuffing
// attempt to buf: an address that exists (knownShare of the time) or not,
// a common password, a random source address and browser, no cookies.
// scratch holds the body while its length is measured.
func (p *attackPlan) appendRequest(buf, scratch []byte, rng *rand.Rand) ([]byte, []byte) {
	scratch = append(scratch[:0], `{"email":`...)
	if len(p.known) > 0 && rng.Float64() < p.knownShare {
		scratch = append(scratch, p.known[rng.IntN(len(p.known))]...)
	} else {
		scratch = append(scratch, '"')
		scratch = append(scratch, p.unknown...)
		scratch = strconv.AppendUint(scratch, rng.Uint64()>>24, 36)
		scratch = append(scratch, `@example.net"`...)
	}
	scratch = append(scratch, `,"password":`...)
	scratch = append(scratch, p.passwords[rng.IntN(len(p.passwords))]...)
	scratch = append(scratch, '}')

	buf = append(buf[:0], "POST /api/v1/signin HTTP/1.1\r\nHost: "...)
	buf = append(buf, p.addr...)
	buf = append(buf, "\r\nUser-Agent: "...)
	buf = append(buf, userAgents[rng.IntN(len(userAgents))]...)
	buf = append(buf, "\r\nContent-Type: application/json\r\nAccept: application/json\r\nX-Forwarded-For: "...)
	buf = append(buf, p.ips[rng.IntN(len(p.ips))]...)
	buf = append(buf, "\r\nContent-Length: "...)
	buf = strconv.AppendInt(buf, int64(len(scratch)), 10)
	buf = append(buf, "\r\n\r\n"...)
	buf = append(buf, scratch...)
	return buf, scratch
}

// runAttack runs conc workers, each with its own connection, from start
// until deadline (or ctx ends). With rate > 0 the workers together send
// rate attempts per second on a fixed schedule (open loop); with 0 each
// sends its next attempt as soon as the last is answered. Attempts sent
// at or after split count in the second window.
func runAttack(ctx context.Context, p *attackPlan, conc int, rate float64, timeout time.Duration, start, split, deadline time.Time) attackResult {
	results := make([]attackResult, conc)
	var wg sync.WaitGroup
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[w] = attackWorker(ctx, p, w, conc, rate, timeout, start, split, deadline)
		}()
	}
	wg.Wait()
	var all attackResult
	for _, r := range results {
		all.win[0].add(&r.win[0])
		all.win[1].add(&r.win[1])
		all.late += r.late
		if r.end.After(all.end) {
			all.end = r.end
		}
	}
	return all
}

func attackWorker(ctx context.Context, p *attackPlan, w, conc int, rate float64, timeout time.Duration, start, split, deadline time.Time) attackResult {
	var r attackResult
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	conn := newRawConn(p.addr, timeout)
	defer conn.close()
	buf, scratch := make([]byte, 0, 1024), make([]byte, 0, 256)
	var interval time.Duration
	if rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(conc) / rate)
	}
	for k := 0; ctx.Err() == nil; k++ {
		if interval > 0 {
			due := start.Add(time.Duration(k)*interval + time.Duration(w)*interval/time.Duration(conc))
			if !due.Before(deadline) {
				break
			}
			if wait := time.Until(due); wait > 0 {
				time.Sleep(wait)
			} else if wait < -100*time.Millisecond {
				r.late++
			}
		}
		now := time.Now()
		if !now.Before(deadline) {
			break
		}
		c := &r.win[0]
		if !now.Before(split) {
			c = &r.win[1]
		}
		buf, scratch = p.appendRequest(buf, scratch, rng)
		c.sent++
		resp, err := conn.roundTrip(buf)
		r.end = time.Now()
		if err != nil {
			c.record(cTransport, "", 0)
			if ctx.Err() == nil && r.end.Before(deadline) {
				time.Sleep(10 * time.Millisecond) // a dead server must not spin the loop
			}
			continue
		}
		cl, other := classify(resp.status, resp.body)
		c.record(cl, other, resp.status)
		if cl == cRateLimited && !resp.retryAfter {
			c.noRetryAfter++
		}
	}
	return r
}
