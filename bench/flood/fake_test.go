package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// fakeGuarded is a stand-in for a server with the attack protection of
// the contract the tool is written against: after failFrom failed sign-ins
// it is in attack mode and asks every sign-in for an ALTCHA CAPTCHA
// (429 captcha_required), an address gets 429 rate_limited with
// Retry-After after perIP attempts, and GET /metrics has the counters.
// It tests the tool, not mamoru.
type fakeGuarded struct {
	key      []byte
	failFrom int64
	perIP    int64

	mu       sync.Mutex
	accounts map[string]string
	perAddr  map[string]int64
	devices  map[string]bool

	failures      atomic.Int64
	verifications atomic.Int64
	captchaOK     atomic.Int64
	knownDevice   atomic.Int64 // sign-ins that came back with their device cookie
	guard         sync.Map     // reason -> *atomic.Int64
}

func newFakeGuarded() *fakeGuarded {
	return &fakeGuarded{key: []byte("0123456789abcdef0123456789abcdef"), failFrom: 20, perIP: 1 << 62,
		accounts: map[string]string{}, perAddr: map[string]int64{}, devices: map[string]bool{}}
}

func (f *fakeGuarded) reject(w http.ResponseWriter, reason string, status int, body string) {
	v, _ := f.guard.LoadOrStore(reason, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	w.Header().Set("Content-Type", "application/json")
	if reason == "ip" {
		w.Header().Set("Retry-After", "60")
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (f *fakeGuarded) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		return
	case "/metrics":
		var b strings.Builder
		fmt.Fprintf(&b, "# HELP %s Password verifications.\n# TYPE %s counter\n%s %d\n", metricVerifications, metricVerifications, metricVerifications, f.verifications.Load())
		fmt.Fprintf(&b, "# TYPE %s counter\n", metricGuard)
		f.guard.Range(func(k, v any) bool {
			fmt.Fprintf(&b, "%s{reason=%q} %d\n", metricGuard, k, v.(*atomic.Int64).Load())
			return true
		})
		io.WriteString(w, b.String())
		return
	case "/api/v1/captcha/challenge":
		salt := fmt.Sprintf("%x?expires=1&", rand.Uint64())
		n := rand.IntN(2000)
		sum := sha256.Sum256([]byte(salt + strconv.Itoa(n)))
		ch := hex.EncodeToString(sum[:])
		json.NewEncoder(w).Encode(altchaChallenge{Algorithm: "SHA-256", Challenge: ch, MaxNumber: 2000, Salt: salt, Signature: f.sign(ch)})
		return
	case "/api/v1/signup", "/api/v1/signin":
	default:
		http.NotFound(w, r)
		return
	}
	var in struct{ Email, Password, Language, Captcha string }
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if r.Header.Get("Content-Type") != "application/json" || dec.Decode(&in) != nil || r.Header.Get("X-Forwarded-For") == "" {
		f.reject(w, "bad", http.StatusBadRequest, `{"error":{"code":"invalid_json","message":"x"}}`)
		return
	}
	if r.URL.Path == "/api/v1/signup" {
		f.mu.Lock()
		if _, ok := f.accounts[in.Email]; !ok {
			f.accounts[in.Email] = in.Password
		}
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"verification_sent"}`)
		return
	}
	ip := r.Header.Get("X-Forwarded-For")
	f.mu.Lock()
	f.perAddr[ip]++
	n := f.perAddr[ip]
	dev, _ := r.Cookie("__Host-mamoru_device")
	known := dev != nil && f.devices[dev.Value]
	f.mu.Unlock()
	if n > f.perIP {
		f.reject(w, "ip", http.StatusTooManyRequests, `{"error":{"code":"rate_limited","message":"x"}}`)
		return
	}
	if f.failures.Load() >= f.failFrom {
		if in.Captcha == "" {
			f.reject(w, "captcha", http.StatusTooManyRequests,
				`{"error":{"code":"captcha_required","message":"x","captcha":{"type":"altcha","challenge_url":"/api/v1/captcha/challenge","field":"altcha"}}}`)
			return
		}
		if !f.verifyCaptcha(in.Captcha) {
			f.reject(w, "bad captcha", http.StatusBadRequest, `{"error":{"code":"invalid_request","message":"x"}}`)
			return
		}
		f.captchaOK.Add(1)
	}
	f.verifications.Add(1)
	f.mu.Lock()
	pw, ok := f.accounts[in.Email]
	f.mu.Unlock()
	if !ok || pw != in.Password {
		f.failures.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"status":"invalid_credentials"}`)
		return
	}
	if known {
		f.knownDevice.Add(1)
	} else {
		id := fmt.Sprintf("dev%d", rand.Uint64())
		f.mu.Lock()
		f.devices[id] = true
		f.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "__Host-mamoru_device", Value: id, Path: "/", Secure: true, HttpOnly: true})
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"status":"signed_in","token":"t","session":{"id":"s"}}`)
}

func (f *fakeGuarded) sign(challenge string) string {
	m := hmac.New(sha256.New, f.key)
	m.Write([]byte(challenge))
	return hex.EncodeToString(m.Sum(nil))
}

// verifyCaptcha checks an answer as captcha.PoW does (less expiry and
// single use).
func (f *fakeGuarded) verifyCaptcha(token string) bool {
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return false
	}
	var a struct {
		Algorithm, Challenge, Salt, Signature string
		Number                                json.Number
	}
	if json.Unmarshal(raw, &a) != nil || a.Algorithm != "SHA-256" || !hmac.Equal([]byte(a.Signature), []byte(f.sign(a.Challenge))) {
		return false
	}
	sum := sha256.Sum256([]byte(a.Salt + a.Number.String()))
	return hex.EncodeToString(sum[:]) == a.Challenge
}
