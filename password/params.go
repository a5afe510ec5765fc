package password

import (
	"fmt"
)

// Params are the argon2id parameters of new hashes. A zero field takes its
// default (DefaultParams).
type Params struct {
	MemoryKiB uint32 // memory per hash in KiB; default 19456 (19 MiB, OWASP's minimum)
	Time      uint32 // passes over memory; default 2
	Threads   uint8  // lanes; default 1
	SaltLen   uint32 // salt bytes; default 16
	KeyLen    uint32 // hash bytes; default 32
}

// DefaultParams returns the defaults: m=19456 KiB, t=2, p=1, 16-byte salt,
// 32-byte key (OWASP Password Storage Cheat Sheet).
func DefaultParams() Params {
	return Params{MemoryKiB: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// withDefaults fills zero fields from DefaultParams.
func (p Params) withDefaults() Params {
	d := DefaultParams()
	if p.MemoryKiB == 0 {
		p.MemoryKiB = d.MemoryKiB
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	return p
}

// Validate reports parameters outside the range this package verifies
// (after defaults are applied): memory 8*threads KiB to 4 GiB, time 1 to
// 64, salt 8 to 64 bytes, key 16 to 128 bytes. The same limits bound the
// parameters of stored hashes, so that a corrupt or hostile hash cannot
// make a verification arbitrarily expensive.
func (p Params) Validate() error {
	return p.withDefaults().validate()
}

// validate checks p as it is, without defaults (parsed hashes have none).
func (p Params) validate() error {
	switch {
	case p.Threads < 1:
		return fmt.Errorf("password: argon2id threads must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("password: argon2id memory %d KiB out of range %d..%d", p.MemoryKiB, 8*uint32(p.Threads), maxMemoryKiB)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("password: argon2id time %d out of range 1..%d", p.Time, maxTime)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("password: salt length %d out of range %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("password: key length %d out of range %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// Limits on the parameters of hashes this package creates or verifies.
const (
	maxMemoryKiB = 4 << 20 // 4 GiB
	maxTime      = 64
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 128

	maxBcryptCost       = 16
	maxPBKDF2Iterations = 10_000_000
)
