package password

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"

	"github.com/mamoru-id/mamoru"
)

// Errors about a stored hash. They are internal errors (mamoru.ErrorCode
// gives mamoru.EInternal): a stored hash is never the user's fault.
var (
	// ErrMalformedHash is wrapped by the error for a hash that cannot be
	// parsed or whose parameters are out of range.
	ErrMalformedHash = errors.New("password: malformed hash")
	// ErrUnsupportedHash is wrapped by the error for a hash in a format
	// this package does not verify.
	ErrUnsupportedHash = errors.New("password: unsupported hash format")
)

// malformed returns an error wrapping ErrMalformedHash.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformedHash}, args...)...)
}

// unsupported returns an error wrapping ErrUnsupportedHash.
func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupportedHash}, args...)...)
}

// Hasher hashes passwords with argon2id and verifies argon2id, bcrypt and
// PBKDF2 hashes. At most a fixed number of hashes run at once, which bounds
// memory to about that number times Params.MemoryKiB; callers beyond it
// wait, and give up when their context ends. A Hasher is safe for
// concurrent use.
type Hasher struct {
	params Params
	sem    chan struct{}
	// anon admits the hashes of callers without priority: one slot fewer
	// than sem (when there are two or more), so that under a flood of
	// strangers' attempts a known client always finds a slot free.
	anon  chan struct{}
	dummy *argon2Hash
	// verifications counts Verify and DummyVerify calls that hashed.
	verifications atomic.Uint64
}

// Verifications returns how many password verifications (dummy ones
// included) this Hasher has run: what reached the hash.
func (h *Hasher) Verifications() uint64 { return h.verifications.Load() }

// NewHasher returns a Hasher that makes hashes with params (zero fields
// take their defaults) and runs at most maxConcurrent hashes or
// verifications at once; maxConcurrent <= 0 means runtime.NumCPU().
func NewHasher(params Params, maxConcurrent int) (*Hasher, error) {
	params = params.withDefaults()
	if err := params.Validate(); err != nil {
		return nil, err
	}
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	// The dummy hash has the current parameters, a fixed salt and an
	// all-zero key: no password derives it, and verifying against it costs
	// what verifying a real hash costs.
	dummy := &argon2Hash{
		params: params,
		salt:   make([]byte, params.SaltLen),
		key:    make([]byte, params.KeyLen),
	}
	return &Hasher{params: params, sem: make(chan struct{}, maxConcurrent),
		anon: make(chan struct{}, max(1, maxConcurrent-1)), dummy: dummy}, nil
}

// Params returns the parameters of new hashes, defaults filled in.
func (h *Hasher) Params() Params { return h.params }

// MaxConcurrent returns how many hashes may run at once.
func (h *Hasher) MaxConcurrent() int { return cap(h.sem) }

type priorityKey struct{}

// WithPriority marks ctx's hashing as a known client's (a browser with a
// valid device cookie): it may use the slot that callers without priority
// leave free.
func WithPriority(ctx context.Context) context.Context {
	return context.WithValue(ctx, priorityKey{}, true)
}

// acquire waits for a hashing slot or for ctx to end, and returns the
// function that frees it.
func (h *Hasher) acquire(ctx context.Context) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h.verifications.Add(1)
	prio, _ := ctx.Value(priorityKey{}).(bool)
	if !prio {
		select {
		case h.anon <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	select {
	case h.sem <- struct{}{}:
		if prio {
			return func() { <-h.sem }, nil
		}
		return func() { <-h.sem; <-h.anon }, nil
	case <-ctx.Done():
		if !prio {
			<-h.anon
		}
		return nil, ctx.Err()
	}
}

// Hash normalizes pw (see Normalize) and returns its argon2id hash as a PHC
// string, $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, with a fresh salt
// from mamoru.Random. It returns ctx's error if ctx ends while waiting for
// a slot.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := io.ReadFull(mamoru.Random, salt); err != nil {
		return "", mamoru.WrapError(mamoru.EInternal, err, "password: reading salt")
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	p := h.params
	key := argon2.IDKey([]byte(Normalize(pw)), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	a := &argon2Hash{params: p, salt: salt, key: key}
	return a.encode(), nil
}

// Verify reports whether pw matches the stored hash encoded, and whether
// the hash should be replaced by Hash(pw) after a successful sign-in.
//
// encoded may be an argon2id PHC string with any parameters (needsRehash
// when they differ from the Hasher's), a bcrypt hash ($2a$, $2b$, $2y$) or
// a PBKDF2 hash (see parsePBKDF2 for the formats); an imported bcrypt or
// PBKDF2 hash always needs a rehash. argon2id hashes are checked against
// the normalized password; imported hashes against the password as typed
// and, if that differs, normalized. Comparisons are constant-time.
//
// A wrong password is (false, false, nil). A hash that cannot be verified
// returns an error wrapping ErrMalformedHash or ErrUnsupportedHash; a
// context that ends while waiting for a slot returns ctx's error.
func (h *Hasher) Verify(ctx context.Context, pw, encoded string) (ok, needsRehash bool, err error) {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		a, err := parseArgon2id(encoded)
		if err != nil {
			return false, false, err
		}
		release, err := h.acquire(ctx)
		if err != nil {
			return false, false, err
		}
		defer release()
		if !a.verify(Normalize(pw)) {
			return false, false, nil
		}
		return true, a.params != h.params, nil

	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		if err := checkBcrypt(encoded); err != nil {
			return false, false, err
		}
		ok, err := h.verifyImported(ctx, pw, func(pw string) (bool, error) { return verifyBcrypt(pw, encoded) })
		return ok, ok, err

	case strings.HasPrefix(encoded, "$pbkdf2"), strings.HasPrefix(encoded, "pbkdf2_"):
		p, err := parsePBKDF2(encoded)
		if err != nil {
			return false, false, err
		}
		ok, err := h.verifyImported(ctx, pw, p.verify)
		return ok, ok, err

	case encoded == "":
		return false, false, malformed("empty hash")
	default:
		return false, false, unsupported("unknown prefix")
	}
}

// verifyImported runs check on pw as typed and, if it differs, on its
// normalized form (the system that made the hash may not have normalized),
// holding a slot throughout.
func (h *Hasher) verifyImported(ctx context.Context, pw string, check func(string) (bool, error)) (bool, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	ok, err := check(pw)
	if ok || err != nil {
		return ok, err
	}
	if n := Normalize(pw); n != pw {
		return check(n)
	}
	return false, nil
}

// DummyVerify verifies pw against a fixed argon2id hash with the current
// parameters, which no password matches, so that a sign-in for an unknown
// account takes as long (and waits for a slot like) one for a known
// account. It returns only ctx's error.
func (h *Hasher) DummyVerify(ctx context.Context, pw string) error {
	release, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	h.dummy.verify(Normalize(pw))
	return nil
}
