package main

import "fmt"

// class is what an answer to a sign-in said.
type class uint8

// The classes of answers. Everything else is "other", kept by its text.
const (
	cSignedIn      class = iota // 200 "status":"signed_in"
	cInvalid                    // "status":"invalid_credentials"
	cChallenge                  // "status":"challenge_required": the password was right, a code is asked
	cApproval                   // "status":"approval_required"
	cResetRequired              // "status":"password_reset_required"
	cLocked                     // "status":"locked", or the error code locked
	cRestricted                 // "status":"restricted"
	cCaptcha                    // 429 with the error code captcha_required
	cRateLimited                // 429 with the error code rate_limited
	cOther                      // any other answer: "http NNN CODE"
	cTransport                  // no answer: connection error or timeout
	nClasses
)

var classNames = [nClasses]string{
	"signed_in", "invalid_credentials", "challenge_required", "approval_required",
	"password_reset_required", "locked", "restricted", "captcha_required", "rate_limited",
	"other", "transport error",
}

func (c class) String() string { return classNames[c] }

// classify reads an answer to POST /api/v1/signin: its "status" field
// (sign-in outcomes) or else its error "code". It is tolerant: a status or
// code it does not know, or an unexpected HTTP status, is cOther with a
// description such as "http 400 invalid_json".
func classify(status int, body []byte) (class, string) {
	v := jsonField(body, keyStatus)
	if v == nil {
		v = jsonField(body, keyCode)
	}
	switch string(v) {
	case "signed_in":
		if status == 200 {
			return cSignedIn, ""
		}
	case "invalid_credentials":
		return cInvalid, ""
	case "challenge_required":
		return cChallenge, ""
	case "approval_required":
		return cApproval, ""
	case "password_reset_required":
		return cResetRequired, ""
	case "locked":
		return cLocked, ""
	case "restricted":
		return cRestricted, ""
	case "captcha_required":
		return cCaptcha, ""
	case "rate_limited":
		return cRateLimited, ""
	}
	if v == nil {
		return cOther, fmt.Sprintf("http %d", status)
	}
	return cOther, fmt.Sprintf("http %d %s", status, v)
}

// rejected reports whether an answer of class c with HTTP status refused
// the attempt: every answer but a sign-in, a step after a right password,
// a server error other than 503 (shedding load is a refusal) and no
// answer at all.
func rejected(c class, status int) bool {
	switch c {
	case cSignedIn, cChallenge, cApproval, cResetRequired, cTransport:
		return false
	case cOther:
		return status >= 400 && status < 500 || status == 503
	}
	return true
}

// reachesHash reports whether a legitimate sign-in answered with class c
// has verified a password hash on the server: the outcomes of the
// password step (for a right password, and invalid_credentials, which a
// legitimate user gets only after the hash). Throttles, CAPTCHA and
// lockouts answer before it.
func reachesHash(c class) bool {
	switch c {
	case cSignedIn, cInvalid, cChallenge, cApproval, cResetRequired:
		return true
	}
	return false
}

// counts is answers by class, with the text of "other" answers.
type counts struct {
	n             [nClasses]int64
	other         map[string]int64
	rejected      int64
	noRetryAfter  int64 // rate_limited answers without Retry-After
	sent          int64
	reachedHashes int64 // legitimate only: answers for which reachesHash
}

func (c *counts) add(o *counts) {
	for i := range c.n {
		c.n[i] += o.n[i]
	}
	for k, v := range o.other {
		if c.other == nil {
			c.other = map[string]int64{}
		}
		c.other[k] += v
	}
	c.rejected += o.rejected
	c.noRetryAfter += o.noRetryAfter
	c.sent += o.sent
	c.reachedHashes += o.reachedHashes
}

// record counts one answer.
func (c *counts) record(cl class, other string, status int) {
	c.n[cl]++
	if cl == cOther {
		if c.other == nil {
			c.other = map[string]int64{}
		}
		c.other[other]++
	}
	if rejected(cl, status) {
		c.rejected++
	}
}

// byName returns the non-zero classes by name, "other" replaced by its
// texts.
func (c *counts) byName() map[string]int64 {
	m := map[string]int64{}
	for i, n := range c.n {
		if n > 0 && class(i) != cOther {
			m[classNames[i]] = n
		}
	}
	for k, v := range c.other {
		m[k] += v
	}
	return m
}
