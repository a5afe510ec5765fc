package captcha

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
)

// Protocol constants of the ALTCHA v1 format.
const (
	// Algorithm is the only hash PoW issues and accepts, for the
	// challenge and its HMAC signature alike.
	Algorithm = "SHA-256"
	// FieldName is the form field of the answer, as the ALTCHA widget
	// and SolverJS name it.
	FieldName = "altcha"
	// MaxPayloadBytes bounds the answer Verify reads; a real one is
	// about 400 bytes.
	MaxPayloadBytes = 2048
	// MinKeyBytes is the shortest HMAC key NewPoW accepts.
	MinKeyBytes = 32
)

// Defaults of PoWConfig.
const (
	DefaultMaxNumberLow    = 20_000
	DefaultMaxNumberMedium = 100_000
	DefaultMaxNumberHigh   = 1_000_000
	DefaultExpiry          = 10 * time.Minute
	DefaultChallengeURL    = "/captcha/challenge"
	DefaultScriptURL       = "/captcha/altcha-solver.js"
)

// maxMaxNumber keeps numbers exact in JavaScript (below 2^53) with room
// to spare; past a billion hashes no browser finishes anyway.
const maxMaxNumber = 1_000_000_000

// clockSkew is how far the clocks of two instances may disagree: a
// challenge may expire up to this much later than Expiry says, and its
// use is remembered this much longer than it lives.
const clockSkew = time.Minute

// saltBytes is the number of random bytes in a salt (as altcha-lib).
const saltBytes = 12

// Level is how much work a challenge asks of the browser. Each level
// doubles as a minimum that VerifyLevel can demand.
type Level int

// The levels, in increasing order of work.
const (
	Low Level = iota + 1
	Medium
	High
)

var levelNames = map[Level]string{Low: "low", Medium: "medium", High: "high"}

// String returns "low", "medium" or "high".
func (l Level) String() string {
	if s, ok := levelNames[l]; ok {
		return s
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// ParseLevel parses "low", "medium" or "high".
func ParseLevel(s string) (Level, error) {
	for l, name := range levelNames {
		if s == name {
			return l, nil
		}
	}
	return 0, fmt.Errorf("captcha: unknown level %q (want low, medium or high)", s)
}

// PoWConfig configures PoW. Zero fields take the defaults.
type PoWConfig struct {
	// MaxNumberLow, MaxNumberMedium and MaxNumberHigh are the search
	// spaces of the levels: the secret number is drawn uniformly from
	// 1..MaxNumber, so a browser computes MaxNumber/2 hashes on average
	// and MaxNumber at worst. They must not decrease from Low to High.
	MaxNumberLow, MaxNumberMedium, MaxNumberHigh int
	// Expiry is how long a challenge can be solved and submitted.
	Expiry time.Duration
	// ChallengeURL is where the page's script GETs a challenge (served
	// by package web with Challenge), and ScriptURL where it loads the
	// solver (SolverJS). They only fill the Widget.
	ChallengeURL, ScriptURL string
}

func (c PoWConfig) withDefaults() PoWConfig {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxNumberLow, DefaultMaxNumberLow)
	def(&c.MaxNumberMedium, DefaultMaxNumberMedium)
	def(&c.MaxNumberHigh, DefaultMaxNumberHigh)
	if c.Expiry == 0 {
		c.Expiry = DefaultExpiry
	}
	if c.ChallengeURL == "" {
		c.ChallengeURL = DefaultChallengeURL
	}
	if c.ScriptURL == "" {
		c.ScriptURL = DefaultScriptURL
	}
	return c
}

// Validate reports every problem of c (after defaults), joined.
func (c PoWConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{{"max_number_low", c.MaxNumberLow}, {"max_number_medium", c.MaxNumberMedium}, {"max_number_high", c.MaxNumberHigh}} {
		if f.v < 1 || f.v > maxMaxNumber {
			errs = append(errs, fmt.Errorf("captcha: %s is %d; want 1 to %d", f.name, f.v, maxMaxNumber))
		}
	}
	if c.MaxNumberLow > c.MaxNumberMedium || c.MaxNumberMedium > c.MaxNumberHigh {
		errs = append(errs, fmt.Errorf("captcha: the max numbers must not decrease from low to high (%d, %d, %d)",
			c.MaxNumberLow, c.MaxNumberMedium, c.MaxNumberHigh))
	}
	if c.Expiry < 10*time.Second || c.Expiry > 24*time.Hour {
		errs = append(errs, fmt.Errorf("captcha: expiry is %s; want 10s to 24h", c.Expiry))
	}
	return errors.Join(errs...)
}

// Challenge is what the page's script fetches, in the JSON of ALTCHA v1.
type Challenge struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"` // hex(sha256(Salt + decimal number))
	MaxNumber int    `json:"maxnumber"`
	Salt      string `json:"salt"`      // hex random bytes "?expires=UNIX&level=NAME&"
	Signature string `json:"signature"` // hex(hmac_sha256(key, Challenge))

	// Expires is when the challenge stops being accepted; a handler may
	// use it for Cache-Control. It is in Salt too.
	Expires time.Time `json:"-"`
}

// PoW issues proof-of-work challenges and verifies their answers. Every
// instance of a deployment must share its key and its Counters. It is
// safe for concurrent use.
type PoW struct {
	key   []byte
	clock mamoru.Clock
	used  mamoru.Counters
	cfg   PoWConfig
}

var _ Provider = (*PoW)(nil)

// NewPoW returns a PoW that signs with key (at least MinKeyBytes secret
// bytes), tells the time with clock (nil: the system clock) and marks
// answers as used in used.
func NewPoW(key []byte, clock mamoru.Clock, used mamoru.Counters, cfg PoWConfig) (*PoW, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("captcha: the HMAC key has %d bytes; want at least %d", len(key), MinKeyBytes)
	}
	if used == nil {
		return nil, errors.New("captcha: no Counters to remember used answers")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if clock == nil {
		clock = mamoru.SystemClock{}
	}
	return &PoW{key: append([]byte(nil), key...), clock: clock, used: used, cfg: cfg.withDefaults()}, nil
}

// Widget describes the page's part: our solver script and where it gets
// challenges.
func (p *PoW) Widget() Widget {
	return Widget{Kind: KindPoW, FieldName: FieldName, ScriptURL: p.cfg.ScriptURL, ChallengeURL: p.cfg.ChallengeURL}
}

// MaxNumber returns the search space of level, or an error for an unknown
// level.
func (p *PoW) MaxNumber(level Level) (int, error) {
	switch level {
	case Low:
		return p.cfg.MaxNumberLow, nil
	case Medium:
		return p.cfg.MaxNumberMedium, nil
	case High:
		return p.cfg.MaxNumberHigh, nil
	}
	return 0, fmt.Errorf("captcha: unknown level %d", int(level))
}

// Challenge returns a new challenge of the given level, valid for the
// configured Expiry.
func (p *PoW) Challenge(level Level) (*Challenge, error) {
	maxNum, err := p.MaxNumber(level)
	if err != nil {
		return nil, err
	}
	return p.challenge(level, maxNum, 1+randomBelow(uint64(maxNum))), nil
}

// challenge builds the challenge whose answer is number.
func (p *PoW) challenge(level Level, maxNum, number int) *Challenge {
	expires := time.Unix(p.clock.Now().Add(p.cfg.Expiry).Unix(), 0)
	salt := hex.EncodeToString(mamoru.RandomBytes(saltBytes)) +
		"?expires=" + strconv.FormatInt(expires.Unix(), 10) + "&level=" + level.String() + "&"
	ch := hashHex(salt, strconv.Itoa(number))
	return &Challenge{
		Algorithm: Algorithm,
		Challenge: ch,
		MaxNumber: maxNum,
		Salt:      salt,
		Signature: hex.EncodeToString(p.sign(ch)),
		Expires:   expires,
	}
}

func (p *PoW) sign(challenge string) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(challenge))
	return m.Sum(nil)
}

func hashHex(salt, number string) string {
	h := sha256.New()
	h.Write([]byte(salt))
	h.Write([]byte(number))
	return hex.EncodeToString(h.Sum(nil))
}

// randomBelow returns a uniform random number in [0, n), n > 0.
func randomBelow(n uint64) int {
	limit := math.MaxUint64 - math.MaxUint64%n // multiples of n fit below limit
	for {
		v := binary.BigEndian.Uint64(mamoru.RandomBytes(8))
		if v < limit {
			return int(v % n)
		}
	}
}

// Verify checks an answer (the base64 JSON that the form field carries)
// of any level; remoteIP is ignored. See Verifier for the errors.
func (p *PoW) Verify(ctx context.Context, token, _ string) error {
	return p.VerifyLevel(ctx, token, 0)
}

// VerifyLevel is Verify that also demands a challenge of level least or
// above (0 demands nothing). A challenge that names no level (one made by
// another ALTCHA library) passes only least 0.
//
// The checks, in order: size and encoding; algorithm; the HMAC signature
// of the challenge (constant time); that the number hashes to the
// challenge, which binds the salt and its parameters; expiry; level; and
// last, single use: "captcha:"+challenge is marked in the Counters until
// the challenge has expired.
func (p *PoW) VerifyLevel(ctx context.Context, token string, least Level) error {
	if token == "" {
		return mamoru.WrapError(mamoru.EInvalidRequest, ErrRequired, "captcha answer missing")
	}
	a, err := decodeAnswer(token)
	if err != nil {
		return invalid(err.Error())
	}
	if a.Algorithm != Algorithm {
		return invalid("captcha algorithm not supported")
	}
	sig, err := hex.DecodeString(a.Signature)
	if err != nil || !hmac.Equal(sig, p.sign(a.Challenge)) {
		return invalid("captcha signature invalid")
	}
	if hashHex(a.Salt, a.Number) != a.Challenge {
		return invalid("captcha solution wrong")
	}
	params, err := saltParams(a.Salt)
	if err != nil {
		return invalid(err.Error())
	}
	now := p.clock.Now()
	switch {
	case now.After(params.expires):
		return invalid("captcha expired")
	case params.expires.After(now.Add(p.cfg.Expiry + clockSkew)):
		// Only a key holder can sign such a challenge; refuse it rather
		// than remember its use for longer than our own would live.
		return invalid("captcha expiry too far ahead")
	case params.level < least:
		return invalid("captcha level too low")
	}
	ok, err := p.used.Once(ctx, "captcha:"+a.Challenge, params.expires.Sub(now)+clockSkew)
	if err != nil {
		return mamoru.WrapError(mamoru.EUnavailable, err, "captcha: cannot record the answer's use")
	}
	if !ok {
		return invalid("captcha already used")
	}
	return nil
}

func invalid(message string) error {
	return mamoru.WrapError(mamoru.EInvalidRequest, ErrInvalid, message)
}

// answer is the decoded payload of the form field.
type answer struct {
	Algorithm string
	Challenge string
	Number    string // decimal digits, as JavaScript's String(number)
	Salt      string
	Signature string
}

// decodeAnswer decodes base64(JSON{algorithm, challenge, number, salt,
// signature[, took]}). Other fields are ignored.
func decodeAnswer(token string) (*answer, error) {
	if len(token) > MaxPayloadBytes {
		return nil, errors.New("captcha answer too long")
	}
	// btoa pads; tolerate a client that does not.
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(token, "="))
	if err != nil {
		return nil, errors.New("captcha answer not base64")
	}
	var v struct {
		Algorithm string      `json:"algorithm"`
		Challenge string      `json:"challenge"`
		Number    json.Number `json:"number"`
		Salt      string      `json:"salt"`
		Signature string      `json:"signature"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, errors.New("captcha answer not JSON")
	}
	if !isDecimal(string(v.Number)) {
		return nil, errors.New("captcha number not a non-negative integer")
	}
	if v.Challenge == "" || v.Salt == "" || v.Signature == "" {
		return nil, errors.New("captcha answer incomplete")
	}
	return &answer{Algorithm: v.Algorithm, Challenge: v.Challenge, Number: string(v.Number), Salt: v.Salt, Signature: v.Signature}, nil
}

// isDecimal reports whether s is how JavaScript prints a safe
// non-negative integer: digits, no leading zero, at most 15 of them.
func isDecimal(s string) bool {
	if s == "" || len(s) > 15 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

type params struct {
	expires time.Time
	level   Level // 0 when the salt names none
}

// saltParams reads the parameters after the "?" of a salt. The salt must
// end with "&" (as ours and altcha-lib's do), so that digits moved from
// the number into the salt cannot change a parameter, and must carry an
// expiry.
func saltParams(salt string) (params, error) {
	_, query, ok := strings.Cut(salt, "?")
	if !ok || !strings.HasSuffix(salt, "&") {
		return params{}, errors.New("captcha challenge has no expiry")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return params{}, errors.New("captcha salt malformed")
	}
	exp := q.Get("expires")
	if exp == "" {
		exp = q.Get("expire")
	}
	if exp == "" {
		return params{}, errors.New("captcha challenge has no expiry")
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || unix <= 0 || unix > 1<<40 {
		return params{}, errors.New("captcha expiry malformed")
	}
	var level Level
	if name := q.Get("level"); name != "" {
		if level, err = ParseLevel(name); err != nil {
			return params{}, errors.New("captcha level malformed")
		}
	}
	return params{expires: time.Unix(unix, 0), level: level}, nil
}
