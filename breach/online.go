package breach

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
)

// DefaultBaseURL is the Pwned Passwords range API of Have I Been Pwned.
const DefaultBaseURL = "https://api.pwnedpasswords.com"

// OnlineConfig configures an Online checker. The zero value asks
// DefaultBaseURL with the defaults below.
type OnlineConfig struct {
	// BaseURL is the API's address without "/range"; default
	// DefaultBaseURL. A mirror of the range API works too.
	BaseURL string
	// Timeout bounds one lookup, answer included; default 3 seconds.
	// The context given to a lookup may end it sooner.
	Timeout time.Duration
	// HTTPClient sends the requests; default a client of its own that
	// does not follow redirects to another host.
	HTTPClient *http.Client
	// MaxResponseBytes caps an answer, after decompression; default
	// 1 MiB. Real answers, padded, are 30 to 45 KB.
	MaxResponseBytes int64
	// UserAgent is sent with every request; default "mamoru".
	UserAgent string
	// CacheSize is the number of hash prefixes whose answers are kept
	// (about 25 KB each); 0 keeps none. Only the public answers are kept,
	// never a password or a whole hash.
	CacheSize int
	// CacheTTL is how long a kept answer is used; default one hour.
	CacheTTL time.Duration
	// Now is the clock of the cache; default time.Now.
	Now func() time.Time
}

// Online asks the Pwned Passwords range API whether a password is
// breached, with k-anonymity: only the first 5 hex digits of the
// password's SHA-1 hash leave the server (one of 16^5 = 1,048,576
// prefixes, each shared by hundreds of breached hashes), the answer lists
// every known suffix of that prefix, and the match is made locally. The
// request asks for padding (Add-Padding: true), so that the size of the
// answer does not tell an observer of the encrypted traffic which prefix
// was asked. It is safe for concurrent use.
type Online struct {
	base      string
	timeout   time.Duration
	client    *http.Client
	maxBytes  int64
	userAgent string
	cache     *rangeCache // nil: no cache
}

// NewOnline returns an Online checker for cfg. It sends nothing until
// the first lookup. An invalid BaseURL gives an error with code
// mamoru.EInvalidRequest.
func NewOnline(cfg OnlineConfig) (*Online, error) {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, mamoru.Errorf(mamoru.EInvalidRequest, "breach: base URL %q is not an http(s) URL without query", base)
	}
	o := &Online{
		base:      strings.TrimSuffix(base, "/"),
		timeout:   cfg.Timeout,
		client:    cfg.HTTPClient,
		maxBytes:  cfg.MaxResponseBytes,
		userAgent: cfg.UserAgent,
	}
	if o.timeout <= 0 {
		o.timeout = 3 * time.Second
	}
	if o.client == nil {
		o.client = &http.Client{CheckRedirect: sameHostRedirects}
	}
	if o.maxBytes <= 0 {
		o.maxBytes = 1 << 20
	}
	if o.userAgent == "" {
		o.userAgent = "mamoru"
	}
	if cfg.CacheSize < 0 {
		return nil, mamoru.Errorf(mamoru.EInvalidRequest, "breach: negative cache size %d", cfg.CacheSize)
	}
	if cfg.CacheSize > 0 {
		ttl, now := cfg.CacheTTL, cfg.Now
		if ttl <= 0 {
			ttl = time.Hour
		}
		if now == nil {
			now = time.Now
		}
		o.cache = newRangeCache(cfg.CacheSize, ttl, now)
	}
	return o, nil
}

// sameHostRedirects follows at most 3 redirects, all to the first host.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 {
		return errors.New("too many redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		return fmt.Errorf("redirected to another host, %s", req.URL.Host)
	}
	return nil
}

// Count returns how many times the API says password was seen in
// breaches; 0 means it is not known. Like Filter.Contains, it hashes the
// password's bytes as given. Any failure (network, timeout, a status
// other than 200, an answer too large or malformed) gives an error with
// code mamoru.EUnavailable, or the context's error when ctx ended.
func (o *Online) Count(ctx context.Context, password string) (int64, error) {
	return o.CountSHA1(ctx, sha1.Sum([]byte(password)))
}

// CountSHA1 is Count for the SHA-1 hash of a password.
func (o *Online) CountSHA1(ctx context.Context, sum [20]byte) (int64, error) {
	var h [40]byte
	hex.Encode(h[:], sum[:])
	hexSum := bytes.ToUpper(h[:])
	prefix, suffix := string(hexSum[:5]), hexSum[5:]
	entries, err := o.lookup(ctx, prefix)
	if err != nil {
		return 0, err
	}
	return entries.count(suffix), nil
}

// lookup returns the answer for a prefix, from the cache or the API.
func (o *Online) lookup(ctx context.Context, prefix string) (rangeEntries, error) {
	if e, ok := o.cache.get(prefix); ok {
		return e, nil
	}
	e, err := o.fetch(ctx, prefix)
	if err != nil {
		return nil, err
	}
	o.cache.put(prefix, e)
	return e, nil
}

// fetch asks the API for the suffixes of prefix.
func (o *Online) fetch(parent context.Context, prefix string) (rangeEntries, error) {
	ctx, cancel := context.WithTimeout(parent, o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.base+"/range/"+prefix, nil)
	if err != nil {
		return nil, mamoru.WrapError(mamoru.EInternal, err, "breach: range request")
	}
	req.Header.Set("Add-Padding", "true")
	req.Header.Set("User-Agent", o.userAgent)
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, o.failed(parent, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // lets the connection be reused
		return nil, mamoru.Errorf(mamoru.EUnavailable, "breach: range API answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, o.maxBytes+1))
	if err != nil {
		return nil, o.failed(parent, err)
	}
	if int64(len(body)) > o.maxBytes {
		return nil, mamoru.Errorf(mamoru.EUnavailable, "breach: range API answer larger than %d bytes", o.maxBytes)
	}
	e, err := parseRange(body)
	if err != nil {
		return nil, mamoru.WrapError(mamoru.EUnavailable, err, "breach: range API answer")
	}
	return e, nil
}

// failed is the error of a request that got no complete answer: the
// error of the caller's context if it ended, else an unavailable error.
func (o *Online) failed(parent context.Context, err error) error {
	if perr := parent.Err(); perr != nil {
		return perr
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return mamoru.WrapError(mamoru.EUnavailable, err, fmt.Sprintf("breach: range API: no answer within %s", o.timeout))
	}
	return mamoru.WrapError(mamoru.EUnavailable, err, "breach: range API")
}

// rangeEntry is a line of an answer: the 35 hex digits of a suffix, as 18
// bytes (the last nibble zero), and its count.
type rangeEntry struct {
	suffix [18]byte
	count  int64
}

// rangeEntries is an answer without its padding lines.
type rangeEntries []rangeEntry

// count returns the count of the 35-hex-digit suffix hexSuffix, 0 when it
// is not in the answer.
func (es rangeEntries) count(hexSuffix []byte) int64 {
	want, ok := decodeSuffix(hexSuffix)
	if !ok {
		return 0
	}
	for _, e := range es {
		if e.suffix == want {
			return e.count
		}
	}
	return 0
}

// decodeSuffix decodes 35 hex digits, either case.
func decodeSuffix(s []byte) (out [18]byte, ok bool) {
	if len(s) != 35 {
		return out, false
	}
	for i, c := range s {
		v := hexValue[c]
		if v > 0xf {
			return out, false
		}
		out[i/2] |= v << (4 * (1 - i%2))
	}
	return out, true
}

// parseRange parses an answer: "SUFFIX:COUNT" lines, LF or CRLF, where
// SUFFIX is 35 hex digits. Padding lines (count 0) are dropped. Any other
// line makes the whole answer malformed.
func parseRange(body []byte) (rangeEntries, error) {
	var es rangeEntries
	for n := 1; len(body) > 0; n++ {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 && len(body) == 0 {
			break // a final line end
		}
		hexSuffix, digits, found := bytes.Cut(line, []byte(":"))
		suffix, ok := decodeSuffix(hexSuffix)
		if !found || !ok || len(digits) == 0 || len(digits) > 19 || digits[0] == '+' || digits[0] == '-' {
			return nil, fmt.Errorf("line %d is not SUFFIX:COUNT", n)
		}
		count, err := strconv.ParseInt(string(digits), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d is not SUFFIX:COUNT", n)
		}
		if count > 0 {
			es = append(es, rangeEntry{suffix: suffix, count: count})
		}
	}
	return es, nil
}
