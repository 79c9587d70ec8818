package crypto

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for new hashes. This is the only place they are set.
//
// OWASP's baseline for Argon2id is m=19 MiB, t=2, p=1, and OWASP lists
// lower-memory/more-passes variants as equivalent. We keep the memory at
// 19 MiB and use t=5 (2.5x the baseline work per guess) instead of raising
// memory, because memory is the scarce resource: the server has 2 cores
// and a 150 MB resident-memory target (DESIGN §8), and with the default
// bound of 2 concurrent hashes Argon2 then holds at most ~38 MiB at once
// (64 MiB blocks would mean 128 MiB live plus GC headroom). One hash takes
// ~60 ms on the 2-core benchmark machine (BENCH.md), inside the 50-150 ms
// window that keeps login usable while making guessing expensive. p=1
// because a second lane would only let one login occupy both cores.
//
// Raising any of these later is safe: stored hashes keep their own
// parameters, and Verify reports needsRehash so they upgrade on next login.
const (
	argonMemoryKiB uint32 = 19456
	argonTime      uint32 = 5
	argonThreads   uint8  = 1
	argonKeyLen    uint32 = 32
	argonSaltLen          = 16
)

// Bounds on parameters accepted from a stored hash. A corrupted or planted
// row asking for gigabytes or thousands of passes must not take the server
// down; these leave headroom to raise the parameters above ~4x before they
// need raising too. The lower bounds are Argon2's own (RFC 9106).
const (
	maxVerifyMemoryKiB = 128 * 1024
	maxVerifyTime      = 16
	maxVerifyThreads   = 8
	minSaltLen         = 8
	maxSaltLen         = 64
	minHashLen         = 16
	maxHashLen         = 64
	maxPHCLen          = 256
)

// MaxPasswordBytes bounds password length: Argon2 first hashes the whole
// password, so an unbounded one is free CPU for an attacker. 1024 bytes is
// far above any passphrase a person types.
const MaxPasswordBytes = 1024

// DefaultHashConcurrency is used when NewPasswordHasher gets n < 1: one
// hash per core on the 2-core target machine.
const DefaultHashConcurrency = 2

var (
	// ErrMalformedHash: the stored string is not an Argon2id PHC string we
	// accept. The string itself is not echoed.
	ErrMalformedHash = errors.New("crypto: malformed or unsupported password hash")
	// ErrPasswordLength: Hash refuses empty passwords and ones longer than
	// MaxPasswordBytes.
	ErrPasswordLength = errors.New("crypto: password must be 1 to 1024 bytes")
	// ErrHasherBusy wraps the context error when waiting for a hashing slot
	// was abandoned.
	ErrHasherBusy = errors.New("crypto: password hashing busy")
)

// PasswordHasher hashes and verifies passwords with Argon2id, running at
// most maxConcurrent hashes at once. Create it with NewPasswordHasher and
// share one per process: the bound only works if everyone uses it.
type PasswordHasher struct {
	sem chan struct{}
}

// NewPasswordHasher returns a hasher allowing maxConcurrent simultaneous
// hashes (DefaultHashConcurrency if maxConcurrent < 1).
func NewPasswordHasher(maxConcurrent int) *PasswordHasher {
	if maxConcurrent < 1 {
		maxConcurrent = DefaultHashConcurrency
	}
	return &PasswordHasher{sem: make(chan struct{}, maxConcurrent)}
}

// acquire waits for a slot until ctx ends. An already-ended ctx fails even if
// a slot is free, so a request whose client has gone costs nothing.
func (h *PasswordHasher) acquire(ctx context.Context) (release func(), err error) {
	if h == nil || h.sem == nil {
		return nil, errors.New("crypto: PasswordHasher not initialised (use NewPasswordHasher)")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHasherBusy, err)
	}
	select {
	case h.sem <- struct{}{}:
		return func() { <-h.sem }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrHasherBusy, ctx.Err())
	}
}

// Hash returns a PHC string for password with the current parameters and a
// fresh random salt.
func (h *PasswordHasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) == 0 || len(password) > MaxPasswordBytes {
		return "", ErrPasswordLength
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("crypto: reading random salt: %w", err)
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	p := phcParams{memory: argonMemoryKiB, time: argonTime, threads: argonThreads, salt: salt}
	p.hash = argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, argonKeyLen)
	return p.encode(), nil
}

// Verify reports whether password matches the PHC string. needsRehash is
// true only when ok is true and the stored parameters are weaker than the
// current ones; the caller should then Hash the password again and store it.
// A malformed PHC string is an error (ErrMalformedHash); a wrong password is
// ok=false with a nil error.
func (h *PasswordHasher) Verify(ctx context.Context, phc, password string) (ok bool, needsRehash bool, err error) {
	p, err := parsePHC(phc)
	if err != nil {
		return false, false, err
	}
	if len(password) == 0 || len(password) > MaxPasswordBytes {
		// No stored password can match, so skip the expensive hash.
		return false, false, nil
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	got := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.hash)))
	if subtle.ConstantTimeCompare(got, p.hash) != 1 {
		return false, false, nil
	}
	return true, p.weakerThanCurrent(), nil
}

type phcParams struct {
	memory, time uint32
	threads      uint8
	salt, hash   []byte
}

// PHC strings use unpadded standard base64; Strict rejects non-zero
// trailing bits so each hash has exactly one accepted spelling.
var phcB64 = base64.RawStdEncoding.Strict()

func (p phcParams) encode() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, phcB64.EncodeToString(p.salt), phcB64.EncodeToString(p.hash))
}

// weakerThanCurrent: any cost dimension below today's. More lanes with the
// same memory is not weaker, so p is not compared.
func (p phcParams) weakerThanCurrent() bool {
	return p.memory < argonMemoryKiB || p.time < argonTime ||
		len(p.salt) < argonSaltLen || len(p.hash) < int(argonKeyLen)
}

// parsePHC accepts exactly $argon2id$v=19$m=M,t=T,p=P$salt$hash with
// canonical decimal numbers, within the bounds above.
func parsePHC(s string) (phcParams, error) {
	var p phcParams
	if len(s) > maxPHCLen {
		return p, ErrMalformedHash
	}
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v=19" {
		return p, ErrMalformedHash
	}
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return p, ErrMalformedHash
	}
	m, okM := phcUint(kv[0], "m=")
	t, okT := phcUint(kv[1], "t=")
	par, okP := phcUint(kv[2], "p=")
	if !okM || !okT || !okP {
		return p, ErrMalformedHash
	}
	if par < 1 || par > maxVerifyThreads || t < 1 || t > maxVerifyTime ||
		m < 8*par || m > maxVerifyMemoryKiB {
		return p, ErrMalformedHash
	}
	salt, ok := phcDecode(f[4], minSaltLen, maxSaltLen)
	if !ok {
		return p, ErrMalformedHash
	}
	hash, ok := phcDecode(f[5], minHashLen, maxHashLen)
	if !ok {
		return p, ErrMalformedHash
	}
	return phcParams{memory: uint32(m), time: uint32(t), threads: uint8(par), salt: salt, hash: hash}, nil
}

// phcDecode decodes unpadded base64 and insists on the canonical spelling:
// the decoder silently skips '\r' and '\n', which would let many strings
// stand for one hash.
func phcDecode(s string, minLen, maxLen int) ([]byte, bool) {
	b, err := phcB64.DecodeString(s)
	if err != nil || len(b) < minLen || len(b) > maxLen || phcB64.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}

// phcUint parses prefix+digits, rejecting signs, spaces and leading zeros.
func phcUint(s, prefix string) (uint64, bool) {
	d, ok := strings.CutPrefix(s, prefix)
	if !ok || d == "" || len(d) > 10 || (len(d) > 1 && d[0] == '0') {
		return 0, false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(d, 10, 32)
	return n, err == nil
}
