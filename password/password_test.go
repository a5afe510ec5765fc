package password

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/mamoru-id/mamoru"
)

// fastParams keeps tests quick; the benchmarks use the defaults.
var fastParams = Params{MemoryKiB: 64, Time: 1, Threads: 1}

func newFast(t testing.TB) *Hasher {
	t.Helper()
	h, err := NewHasher(fastParams, 4)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"password", "password"},
		{"ｐａｓｓｗｏｒｄ", "password"},       // full-width
		{"e\u0301", "\u00e9"},          // decomposed é composes
		{" Pass Word ", " Pass Word "}, // no trimming, no case change
		{"ｶﾀｶﾅ", "カタカナ"},               // half-width katakana
		{"\u2460", "1"},                // circled digit
		{"\u3000x", " x"},              // ideographic space becomes a space, kept
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPolicyCheck(t *testing.T) {
	common := func(s string) bool { return s == "password" }
	var p Policy
	tests := []struct {
		pw   string
		want string
	}{
		{"", mamoru.EPasswordTooShort},
		{"1234567", mamoru.EPasswordTooShort},
		{"12345678", ""},
		{"ｐａｓｓｗｏｒｄ", mamoru.EPasswordCommon}, // normalized before the list
		{"password", mamoru.EPasswordCommon},
		{"パスワードパスワ", ""},                                           // 8 code points, 24 bytes
		{"パスワード", mamoru.EPasswordTooShort},                        // 5 code points, 15 bytes
		{"e\u0301e\u0301e\u0301e\u0301", mamoru.EPasswordTooShort}, // 8 runes typed, 4 after NFKC
		{strings.Repeat("a", 128), ""},
		{strings.Repeat("a", 129), mamoru.EPasswordTooLong},
		{strings.Repeat("あ", 128), ""},
		{"correct horse battery staple", ""},
	}
	for _, tt := range tests {
		err := p.Check(tt.pw, common)
		if got := mamoru.ErrorCode(err); got != tt.want {
			t.Errorf("Check(%q) = %v, want code %q", tt.pw, err, tt.want)
		}
	}
	if err := p.Check("password", nil); err != nil {
		t.Errorf("nil common: %v", err)
	}
}

func TestPolicyLimits(t *testing.T) {
	p := Policy{MinLength: 12, MaxLength: 32} // max below the floor is raised to 64
	if err := p.Validate(); err == nil {
		t.Error("Validate accepted MaxLength 32")
	}
	if err := p.Check(strings.Repeat("x", 64), nil); err != nil {
		t.Errorf("64 characters rejected: %v", err)
	}
	if code := mamoru.ErrorCode(p.Check(strings.Repeat("x", 11), nil)); code != mamoru.EPasswordTooShort {
		t.Errorf("11 characters: %q", code)
	}
	for _, bad := range []Policy{{MinLength: -1}, {MinLength: 100, MaxLength: 80}} {
		if bad.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", bad)
		}
	}
	if err := (Policy{}).Validate(); err != nil {
		t.Errorf("zero policy: %v", err)
	}
}

func TestHashFormat(t *testing.T) {
	h, err := NewHasher(Params{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if h.Params() != DefaultParams() {
		t.Errorf("Params() = %+v", h.Params())
	}
	enc, err := h.Hash(context.Background(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q", enc)
	}
	parts := strings.Split(enc, "$")
	if len(parts[4]) != 22 || len(parts[5]) != 43 { // 16 and 32 bytes, unpadded
		t.Errorf("salt %q key %q", parts[4], parts[5])
	}
	ok, rehash, err := h.Verify(context.Background(), "correct horse", enc)
	if !ok || rehash || err != nil {
		t.Errorf("Verify = %v %v %v", ok, rehash, err)
	}
}

func TestHashVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := newFast(t)
	a, _ := h.Hash(ctx, "secret")
	b, _ := h.Hash(ctx, "secret")
	if a == b {
		t.Error("two hashes share a salt")
	}
	for _, tt := range []struct {
		pw   string
		want bool
	}{{"secret", true}, {"Secret", false}, {"secret ", false}, {"", false}} {
		ok, rehash, err := h.Verify(ctx, tt.pw, a)
		if ok != tt.want || rehash || err != nil {
			t.Errorf("Verify(%q) = %v %v %v", tt.pw, ok, rehash, err)
		}
	}
	// Normalized on both sides.
	enc, _ := h.Hash(ctx, "ｐäss") // full-width p, composed ä
	if ok, _, _ := h.Verify(ctx, "pa\u0308ss", enc); !ok {
		t.Error("decomposed, half-width form did not verify")
	}
}

// Vectors made with the reference implementation (the argon2 command of
// Debian's argon2 package): echo -n PW | argon2 SALT -id -m .. -t .. -p .. -l .. -e
func TestVerifyArgon2idReference(t *testing.T) {
	h := newFast(t)
	ctx := context.Background()
	vectors := []struct{ pw, enc string }{
		{"correct horse", "$argon2id$v=19$m=4096,t=2,p=1$c29tZXNhbHQwMTIz$dEXbYI3b9RkiGt/jt1N4bxatsW3XXKoPYPaqDcWXuUY"},
		{"pässword", "$argon2id$v=19$m=1024,t=3,p=2$c2FsdHNhbHRzYWx0$RTk4kyEEi8O2l0WNLtiQu0zWApIc3r0r"},
	}
	for _, v := range vectors {
		ok, rehash, err := h.Verify(ctx, v.pw, v.enc)
		if !ok || !rehash || err != nil {
			t.Errorf("Verify(%q, %q) = %v %v %v, want true true nil", v.pw, v.enc, ok, rehash, err)
		}
		if ok, _, _ := h.Verify(ctx, v.pw+"x", v.enc); ok {
			t.Errorf("wrong password verified against %q", v.enc)
		}
	}
}

func TestRecognize(t *testing.T) {
	h := newFast(t)
	enc, _ := h.Hash(context.Background(), "pw")
	b, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	for _, s := range []string{
		enc,
		string(b),
		"$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		"$pbkdf2-sha256$1000$yMnKy8zNzs/Q0dLT1NXW1w$FRJYWDuWh/bkNDYXlygbdoQZWksT7C/XRDLmgWtrRZI",
		"pbkdf2_sha256$1200$DjangoSalt12$R0VjnC+g/jAGZWHvXVBYJOCXOs6WlfK+BcN9UtbAGwE=",
	} {
		if err := Recognize(s); err != nil {
			t.Errorf("Recognize(%q) = %v", s, err)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	ctx := context.Background()
	old := newFast(t)
	enc, _ := old.Hash(ctx, "pw")
	for _, p := range []Params{
		{MemoryKiB: 128, Time: 1, Threads: 1},
		{MemoryKiB: 64, Time: 2, Threads: 1},
		{MemoryKiB: 64, Time: 1, Threads: 2},
		{MemoryKiB: 64, Time: 1, Threads: 1, KeyLen: 64},
		{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 32},
	} {
		h, err := NewHasher(p, 1)
		if err != nil {
			t.Fatal(err)
		}
		ok, rehash, err := h.Verify(ctx, "pw", enc)
		if !ok || !rehash || err != nil {
			t.Errorf("params %+v: Verify = %v %v %v", p, ok, rehash, err)
		}
	}
}

func TestVerifyBcrypt(t *testing.T) {
	ctx := context.Background()
	h := newFast(t)
	enc, err := bcrypt.GenerateFromPassword([]byte("hunter2"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	s := string(enc) // $2a$
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		e := prefix + s[4:]
		ok, rehash, err := h.Verify(ctx, "hunter2", e)
		if !ok || !rehash || err != nil {
			t.Errorf("%s: Verify = %v %v %v", prefix, ok, rehash, err)
		}
		ok, rehash, err = h.Verify(ctx, "hunter3", e)
		if ok || rehash || err != nil {
			t.Errorf("%s wrong password: Verify = %v %v %v", prefix, ok, rehash, err)
		}
	}
	// A well-known vector (OpenBSD test suite): "U*U" at cost 5.
	ok, _, err := h.Verify(ctx, "U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW")
	if !ok || err != nil {
		t.Errorf("OpenBSD vector: %v %v", ok, err)
	}
	// Passwords over 72 bytes: bcrypt used only the first 72.
	long := strings.Repeat("a", 72)
	enc, _ = bcrypt.GenerateFromPassword([]byte(long), bcrypt.MinCost)
	if ok, _, _ := h.Verify(ctx, long+"tail", string(enc)); !ok {
		t.Error("bcrypt: password over 72 bytes did not verify as its first 72")
	}
	// Too costly: refused before any work.
	costly := "$2a$17$" + s[7:]
	if _, _, err := h.Verify(ctx, "hunter2", costly); !errors.Is(err, ErrMalformedHash) {
		t.Errorf("cost 17: %v", err)
	}
}

// Vectors made with Python's hashlib.pbkdf2_hmac; the passlib-style salt
// is bytes 200..215, the password "pässwörd" (NFC); the Django salt is the
// text "DjangoSalt12", the password "hunter2".
func TestVerifyPBKDF2(t *testing.T) {
	ctx := context.Background()
	h := newFast(t)
	vectors := []struct{ pw, enc string }{
		{"pässwörd", "$pbkdf2$1000$yMnKy8zNzs/Q0dLT1NXW1w$/4GAbZCC/Yr/BbsuLLllZ7Ym2Ow"},
		{"pässwörd", "$pbkdf2-sha256$1000$yMnKy8zNzs/Q0dLT1NXW1w$FRJYWDuWh/bkNDYXlygbdoQZWksT7C/XRDLmgWtrRZI"},
		{"pässwörd", "$pbkdf2-sha256$i=1000$yMnKy8zNzs/Q0dLT1NXW1w$FRJYWDuWh/bkNDYXlygbdoQZWksT7C/XRDLmgWtrRZI"},
		{"pässwörd", "$pbkdf2-sha512$1000$yMnKy8zNzs/Q0dLT1NXW1w$FIutkgQA22DyzdRwbZGYvRR.EYHuSv32/U1z7EVBZttD81sAQfvO18DR1zBY4xO3K0.cz3OLEomcFQprVmSnnw"},
		{"hunter2", "pbkdf2_sha1$1200$DjangoSalt12$0uPfJnIdxKiOypLR6qw6IY/Of9k="},
		{"hunter2", "pbkdf2_sha256$1200$DjangoSalt12$R0VjnC+g/jAGZWHvXVBYJOCXOs6WlfK+BcN9UtbAGwE="},
		{"hunter2", "pbkdf2_sha512$1200$DjangoSalt12$FY6vNKdfhROs5Wmbo1deOJKAxmAmCkoNno3HhS0FNqpZWnire0MKLD2SbahBw1ZAUmLTgNNhlE6ClMzmZPTg9A=="},
	}
	for _, v := range vectors {
		ok, rehash, err := h.Verify(ctx, v.pw, v.enc)
		if !ok || !rehash || err != nil {
			t.Errorf("Verify(%q) = %v %v %v", v.enc, ok, rehash, err)
		}
		ok, rehash, err = h.Verify(ctx, v.pw+"!", v.enc)
		if ok || rehash || err != nil {
			t.Errorf("wrong password against %q = %v %v %v", v.enc, ok, rehash, err)
		}
	}
	// Typed decomposed: the as-typed attempt fails, the normalized one matches.
	if ok, _, _ := h.Verify(ctx, "pa\u0308sswo\u0308rd", vectors[1].enc); !ok {
		t.Error("decomposed input did not verify against an NFC PBKDF2 hash")
	}
}

func TestVerifyMalformed(t *testing.T) {
	ctx := context.Background()
	h := newFast(t)
	good, _ := h.Hash(ctx, "pw")
	parts := strings.Split(good, "$")
	malformedHashes := []string{
		"",
		"$argon2id$",
		"$argon2id$v=16$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$t=1,m=64,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=0,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=0$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=064,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=-64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=99999999999,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=8388608,t=1,p=1$" + parts[4] + "$" + parts[5], // 8 GiB
		"$argon2id$v=19$m=64,t=1000,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$!!!$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$",
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "==$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5] + "$extra",
		"$2a$",
		"$2b$10$short",
		"$pbkdf2-sha256$0$yMnKy8zNzs/Q0dLT1NXW1w$FRJYWDuWh/bkNDYXlygbdoQZWksT7C/XRDLmgWtrRZI",
		"$pbkdf2-sha256$99999999$yMnKy8zNzs/Q0dLT1NXW1w$FRJYWDuWh/bkNDYXlygbdoQZWksT7C/XRDLmgWtrRZI",
		"$pbkdf2-sha256$1000$$FRJYWDuWh/bkNDYXlygbdoQZWksT7C/XRDLmgWtrRZI",
		"$pbkdf2-sha256$1000$yMnKy8zNzs/Q0dLT1NXW1w$AAAA",
		"$pbkdf2-sha256$1000$yMnKy8zNzs/Q0dLT1NXW1w",
		"pbkdf2_sha256$1200$DjangoSalt12$not base64",
		"pbkdf2_sha256$abc$DjangoSalt12$R0VjnC+g/jAGZWHvXVBYJOCXOs6WlfK+BcN9UtbAGwE=",
		"pbkdf2_sha256$1200$$R0VjnC+g/jAGZWHvXVBYJOCXOs6WlfK+BcN9UtbAGwE=",
	}
	for _, enc := range malformedHashes {
		ok, rehash, err := h.Verify(ctx, "pw", enc)
		if ok || rehash || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) = %v %v %v, want ErrMalformedHash", enc, ok, rehash, err)
		}
		if err2 := Recognize(enc); !errors.Is(err2, ErrMalformedHash) {
			t.Errorf("Recognize(%q) = %v, want ErrMalformedHash", enc, err2)
		}
		if code := mamoru.ErrorCode(err); code != mamoru.EInternal {
			t.Errorf("Verify(%q) code %q", enc, code)
		}
	}
	for _, enc := range []string{"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$1$abc$def", "plaintext", "$scrypt$ln=4,r=8,p=1$c2FsdA$aGFzaA", "pbkdf2_md5$1$a$b"} {
		if _, _, err := h.Verify(ctx, "pw", enc); !errors.Is(err, ErrUnsupportedHash) {
			t.Errorf("Verify(%q) = %v, want ErrUnsupportedHash", enc, err)
		}
		if err := Recognize(enc); !errors.Is(err, ErrUnsupportedHash) {
			t.Errorf("Recognize(%q) = %v, want ErrUnsupportedHash", enc, err)
		}
	}
}

func TestNewHasherRejectsBadParams(t *testing.T) {
	for _, p := range []Params{
		{MemoryKiB: 4, Threads: 1},
		{MemoryKiB: 8 << 20},
		{Time: 65},
		{SaltLen: 4},
		{KeyLen: 8},
		{KeyLen: 1024},
	} {
		if _, err := NewHasher(p, 1); err == nil {
			t.Errorf("NewHasher(%+v) accepted", p)
		}
	}
	h, err := NewHasher(fastParams, 0)
	if err != nil {
		t.Fatal(err)
	}
	if h.MaxConcurrent() < 1 {
		t.Errorf("MaxConcurrent = %d", h.MaxConcurrent())
	}
}

func TestDummyVerify(t *testing.T) {
	h := newFast(t)
	if err := h.DummyVerify(context.Background(), "anything"); err != nil {
		t.Fatal(err)
	}
	// The dummy hash has the current parameters and matches nothing.
	if ok, rehash, err := h.Verify(context.Background(), "", h.dummy.encode()); ok || rehash || err != nil {
		t.Errorf("dummy hash: %v %v %v", ok, rehash, err)
	}
	if h.dummy.params != h.params {
		t.Errorf("dummy params %+v", h.dummy.params)
	}
}

// TestDummyVerifyTiming checks that DummyVerify costs about what a real
// verification costs, at the default parameters.
func TestDummyVerifyTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	h, _ := NewHasher(Params{}, 1)
	ctx := context.Background()
	enc, _ := h.Hash(ctx, "pw")
	measure := func(f func()) time.Duration {
		best := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			f()
			best = min(best, time.Since(start))
		}
		return best
	}
	real := measure(func() { h.Verify(ctx, "wrong", enc) })
	dummy := measure(func() { h.DummyVerify(ctx, "wrong") })
	if ratio := float64(dummy) / float64(real); ratio < 0.5 || ratio > 2 {
		t.Errorf("dummy %v vs real %v", dummy, real)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	const limit = 2
	h, err := NewHasher(Params{MemoryKiB: 1024, Time: 1, Threads: 1}, limit)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	enc, _ := h.Hash(ctx, "pw")
	var running, peak atomic.Int32
	// Observe the semaphore's fill level while many goroutines hash.
	stop := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Add(1)
	go func() {
		defer watcher.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			n := int32(len(h.sem))
			running.Store(n)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				h.Hash(ctx, "pw")
			} else {
				h.Verify(ctx, "pw", enc)
			}
		}()
	}
	wg.Wait()
	close(stop)
	watcher.Wait()
	if p := peak.Load(); p > limit || p < 1 {
		t.Errorf("peak concurrency %d, limit %d", p, limit)
	}
}

func TestContextCancelWhileWaiting(t *testing.T) {
	h, _ := NewHasher(fastParams, 1)
	h.sem <- struct{}{} // take the only slot
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash: %v", err)
	}
	enc := "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQwMTIz$dEXbYI3b9RkiGt/jt1N4bxatsW3XXKoPYPaqDcWXuUY"
	if _, _, err := h.Verify(ctx, "pw", enc); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Verify: %v", err)
	}
	if err := h.DummyVerify(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("DummyVerify: %v", err)
	}
	<-h.sem
	// An already-cancelled context fails even when a slot is free.
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if _, err := h.Hash(cctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with cancelled ctx: %v", err)
	}
	if len(h.sem) != 0 {
		t.Error("slot leaked")
	}
}

func TestSaltFromRandom(t *testing.T) {
	old := mamoru.Random
	defer func() { mamoru.Random = old }()
	mamoru.Random = strings.NewReader("") // exhausted source
	h := newFast(t)
	if _, err := h.Hash(context.Background(), "pw"); mamoru.ErrorCode(err) != mamoru.EInternal {
		t.Errorf("Hash with failing random: %v", err)
	}
}

func BenchmarkHash(b *testing.B) {
	h, _ := NewHasher(Params{}, 0)
	ctx := context.Background()
	b.ReportMetric(float64(h.Params().MemoryKiB), "KiB/hash")
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHashParallel(b *testing.B) {
	h, _ := NewHasher(Params{}, 0)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkVerifyDefault(b *testing.B) {
	h, _ := NewHasher(Params{}, 0)
	ctx := context.Background()
	enc, _ := h.Hash(ctx, "pw")
	for b.Loop() {
		h.Verify(ctx, "pw", enc)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "password", "ｐａｓｓ", "e\u0301", "\ufdfa", "\xff\xfe", "ｶﾞ", "\u1e9b\u0323"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if Normalize(n) != n {
			t.Errorf("not idempotent: %q -> %q -> %q", s, n, Normalize(n))
		}
		if utf8.ValidString(s) && !utf8.ValidString(n) {
			t.Errorf("valid %q became invalid %q", s, n)
		}
	})
}

func FuzzPolicyCheck(f *testing.F) {
	for _, s := range []string{"", "password", strings.Repeat("x", 200), "\xff", "\ufdfa\ufdfa\ufdfa\ufdfa"} {
		f.Add(s, 0, 0)
	}
	f.Fuzz(func(t *testing.T, pw string, min, max int) {
		p := Policy{MinLength: min % 1000, MaxLength: max % 1000}
		err := p.Check(pw, func(s string) bool { return len(s)%7 == 0 })
		switch code := mamoru.ErrorCode(err); code {
		case "", mamoru.EPasswordTooShort, mamoru.EPasswordTooLong, mamoru.EPasswordCommon:
		default:
			t.Errorf("Check(%q) = %v", pw, err)
		}
		_ = fmt.Sprint(err)
	})
}

// TestPriorityKeepsASlot: callers without priority (strangers) hold at
// most all slots but one, so a known client's verification never waits
// behind a flood of them.
func TestPriorityKeepsASlot(t *testing.T) {
	h, _ := NewHasher(fastParams, 2)
	h.anon <- struct{}{} // a stranger's hash holds the strangers' share
	h.sem <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.DummyVerify(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second stranger got a slot: %v", err)
	}
	if err := h.DummyVerify(WithPriority(context.Background()), "pw"); err != nil {
		t.Fatalf("a known client waited: %v", err)
	}
	<-h.sem
	<-h.anon
	if len(h.sem) != 0 || len(h.anon) != 0 {
		t.Error("slot leaked")
	}
}
