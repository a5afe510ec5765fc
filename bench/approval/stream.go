package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// reconnectDelay is how long a stream the server ended before the answer
// waits before it opens again, as a browser's EventSource does (its
// default retry time is a few seconds).
const reconnectDelay = 3 * time.Second

// streamStats are counters shared by all streams.
type streamStats struct {
	opened     atomic.Int64 // answered 200 and sent their first line (reconnections included)
	keepAlives atomic.Int64 // ": waiting" comments after the first of each connection
	cut        atomic.Int64 // ended by the server before "decided"
	failed     atomic.Int64 // could not be (re)opened
	mu         sync.Mutex
	failures   map[string]int
	cutAfter   []time.Duration
}

func (s *streamStats) fail(kind string) {
	s.failed.Add(1)
	s.mu.Lock()
	if s.failures == nil {
		s.failures = map[string]int{}
	}
	s.failures[kind]++
	s.mu.Unlock()
}

// stream is a waiting client's event stream: one raw HTTP/1.1 connection
// at a time (net/http would add a transport and its goroutines per
// connection; this keeps the tool light beside the server). It reads the
// stream in its own goroutine and reconnects, like EventSource, when the
// server ends it before the answer.
type stream struct {
	acct    *account
	addr    string // host:port
	host    string
	stats   *streamStats
	decided chan time.Time // gets when "event: decided" arrived (capacity 1)
	mu      sync.Mutex
	conn    net.Conn
	stopped bool
}

func newStream(a *account, addr string, stats *streamStats) *stream {
	s := &stream{acct: a, addr: addr, host: addr, stats: stats, decided: make(chan time.Time, 1)}
	a.stream = s
	return s
}

// request is the GET of the events, as a browser sends it.
func (s *stream) request() []byte {
	a := s.acct
	return []byte("GET /api/v1/signin/approval/events?flow_id=" + a.flowID + " HTTP/1.1\r\n" +
		"Host: " + s.host + "\r\n" +
		"User-Agent: " + userAgent + "\r\n" +
		"Accept: text/event-stream\r\n" +
		"Cache-Control: no-cache\r\n" +
		"X-Forwarded-For: " + a.clientIP + "\r\n" +
		"Cookie: " + a.clientCookies() + "\r\n\r\n")
}

// run keeps the stream open until "decided" or stop; first reports the
// first connection's result.
func (s *stream) run(ctx context.Context, timeout time.Duration, first func(error)) {
	firstDone := false
	for ctx.Err() == nil {
		body, err := s.openFirstLine(timeout)
		if err == nil {
			// Counted before first is told, so whoever waits for the
			// first openings reads a count that includes this one.
			s.stats.opened.Add(1)
		}
		if !firstDone {
			firstDone = true
			first(err)
		}
		if err != nil {
			if s.isStopped() {
				return
			}
			s.stats.fail(shortError(ctx, err))
			return
		}
		start := time.Now()
		decided := s.read(body)
		if decided || s.isStopped() {
			s.close()
			return
		}
		life := time.Since(start)
		s.stats.cut.Add(1)
		s.stats.mu.Lock()
		s.stats.cutAfter = append(s.stats.cutAfter, life)
		s.stats.mu.Unlock()
		s.close()
		select {
		case <-ctx.Done():
			return
		case <-time.After(reconnectDelay):
		}
	}
}

// openFirstLine opens the stream; if its first line already says
// "decided" (an answer came while reconnecting) the reading loop sees it.
func (s *stream) openFirstLine(timeout time.Duration) (*bufio.Reader, error) {
	conn, err := net.DialTimeout("tcp", s.addr, timeout)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		conn.Close()
		return nil, net.ErrClosed
	}
	s.conn = conn
	s.mu.Unlock()
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(s.request()); err != nil {
		conn.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 1024), nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		conn.Close()
		return nil, fmt.Errorf("events: http %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	body := bufio.NewReaderSize(resp.Body, 512) // the chunked body decoded: the lines EventSource reads
	if _, err := body.Peek(1); err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return body, nil
}

// read reads event lines until the stream ends; it reports whether
// "event: decided" came (and then sends its time on s.decided).
func (s *stream) read(body *bufio.Reader) bool {
	first := true
	for {
		line, err := body.ReadSlice('\n')
		if err != nil {
			return false
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case bytes.Equal(line, []byte("event: decided")):
			s.decided <- time.Now()
			return true
		case bytes.HasPrefix(line, []byte(":")):
			if !first {
				s.stats.keepAlives.Add(1)
			}
			first = false
		}
	}
}

func (s *stream) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

func (s *stream) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// stop closes the stream for good.
func (s *stream) stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	s.close()
}
