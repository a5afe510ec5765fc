package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// rawConn sends ready-made HTTP/1.1 requests over one keep-alive
// connection and reads the answers with a minimal parser. The attack
// workers use it instead of net/http: it allocates nothing per request
// once warm, so the generator takes a small share of a machine it shares
// with the server. It is not safe for concurrent use: one per worker.
type rawConn struct {
	addr    string // host:port
	timeout time.Duration
	conn    net.Conn
	br      *bufio.Reader
	body    []byte // the last answer's body, reused
}

// rawResponse is an answer; body is valid until the next roundTrip.
type rawResponse struct {
	status     int
	retryAfter bool // a Retry-After header was present
	body       []byte
}

// errNoAnswer is a connection that failed before any byte of an answer:
// on a reused keep-alive connection the server may simply have closed it,
// and the request is tried once more on a new one.
var errNoAnswer = errors.New("connection closed before an answer")

func newRawConn(addr string, timeout time.Duration) *rawConn {
	return &rawConn{addr: addr, timeout: timeout}
}

// roundTrip writes req (a complete HTTP/1.1 request) and reads the answer.
func (c *rawConn) roundTrip(req []byte) (rawResponse, error) {
	for attempt := 0; ; attempt++ {
		fresh := c.conn == nil
		if fresh {
			conn, err := net.DialTimeout("tcp", c.addr, c.timeout)
			if err != nil {
				return rawResponse{}, err
			}
			c.conn = conn
			if c.br == nil {
				c.br = bufio.NewReaderSize(conn, 16<<10)
			} else {
				c.br.Reset(conn)
			}
		}
		c.conn.SetDeadline(time.Now().Add(c.timeout))
		var resp rawResponse
		var closeAfter bool
		_, err := c.conn.Write(req)
		if err == nil {
			resp, closeAfter, err = c.readResponse()
		}
		if err == nil {
			if closeAfter {
				c.close()
			}
			return resp, nil
		}
		c.close()
		if fresh || attempt > 0 || !errors.Is(err, errNoAnswer) {
			return rawResponse{}, err
		}
	}
}

// close drops the connection; the next roundTrip dials a new one.
func (c *rawConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// readResponse reads one answer: the status line, the headers it needs
// (Content-Length, Transfer-Encoding, Connection, Retry-After) and the
// body. closeAfter says the connection cannot be reused.
func (c *rawConn) readResponse() (resp rawResponse, closeAfter bool, err error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if len(line) == 0 {
			return resp, true, fmt.Errorf("%w: %v", errNoAnswer, err)
		}
		return resp, true, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return resp, true, fmt.Errorf("bad status line %q", line)
	}
	resp.status = atoi3(line[9:12])
	if resp.status < 100 {
		return resp, true, fmt.Errorf("bad status line %q", line)
	}
	closeAfter = line[7] == '0' // HTTP/1.0
	length, chunked := -1, false
	for {
		h, err := c.br.ReadSlice('\n')
		if err != nil {
			return resp, true, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte{':'})
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.Atoi(string(value)) // no allocation: the conversion is only read
			if err != nil || n < 0 {
				return resp, true, fmt.Errorf("bad Content-Length %q", value)
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				closeAfter = true
			}
		case bytes.EqualFold(name, []byte("Retry-After")):
			resp.retryAfter = true
		}
	}
	c.body = c.body[:0]
	switch {
	case resp.status == 204 || resp.status == 304 || resp.status < 200:
	case chunked:
		err = c.readChunked()
	case length >= 0:
		if cap(c.body) < length {
			c.body = make([]byte, length)
		}
		c.body = c.body[:length]
		_, err = io.ReadFull(c.br, c.body)
	default: // until the server closes
		closeAfter = true
		var b bytes.Buffer
		_, err = b.ReadFrom(io.LimitReader(c.br, 1<<20))
		c.body = append(c.body, b.Bytes()...)
	}
	resp.body = c.body
	return resp, closeAfter, err
}

// readChunked reads a chunked body into c.body (trailers are skipped).
func (c *rawConn) readChunked() error {
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 32)
		if err != nil || n < 0 || len(c.body)+int(n) > 1<<20 {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			for { // trailers, up to the empty line
				t, err := c.br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(t, "\r\n")) == 0 {
					return nil
				}
			}
		}
		start := len(c.body)
		c.body = append(c.body, make([]byte, n)...)
		if _, err := io.ReadFull(c.br, c.body[start:]); err != nil {
			return err
		}
		if _, err := c.br.Discard(2); err != nil { // CRLF
			return err
		}
	}
}

// atoi3 parses three ASCII digits, or returns -1.
func atoi3(b []byte) int {
	n := 0
	for _, d := range b[:3] {
		if d < '0' || d > '9' {
			return -1
		}
		n = n*10 + int(d-'0')
	}
	return n
}

// jsonField returns the value of the first string field named key in a
// compact JSON text (`"key":"value"`, spaces allowed around the colon), or
// nil. The values the server uses here (statuses, error codes) have no
// escapes, so this scan is enough and allocates nothing.
func jsonField(body []byte, quotedKey []byte) []byte {
	for {
		i := bytes.Index(body, quotedKey)
		if i < 0 {
			return nil
		}
		rest := bytes.TrimLeft(body[i+len(quotedKey):], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			rest = bytes.TrimLeft(rest[1:], " \t\r\n")
			if len(rest) > 0 && rest[0] == '"' {
				if j := bytes.IndexByte(rest[1:], '"'); j >= 0 {
					return rest[1 : 1+j]
				}
			}
			return nil
		}
		body = body[i+len(quotedKey):]
	}
}

var (
	keyStatus = []byte(`"status"`)
	keyCode   = []byte(`"code"`)
)
