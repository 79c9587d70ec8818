package crypto

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

func TestVerifyReferenceVectors(t *testing.T) {
	h := NewPasswordHasher(2)
	ctx := context.Background()
	for _, v := range argon2idReference {
		ok, rehash, err := h.Verify(ctx, v.phc, v.password)
		if err != nil || !ok {
			t.Fatalf("reference %s: ok=%v err=%v", v.phc, ok, err)
		}
		// All reference vectors use t=2 and an 8-byte salt, weaker than ours.
		if !rehash {
			t.Errorf("reference %s: needsRehash=false", v.phc)
		}
		ok, rehash, err = h.Verify(ctx, v.phc, v.password+"x")
		if err != nil || ok || rehash {
			t.Fatalf("reference %s with wrong password: ok=%v rehash=%v err=%v", v.phc, ok, rehash, err)
		}
	}
	// The "differentpassword" vector must not accept "password".
	if ok, _, _ := h.Verify(ctx, argon2idReference[3].phc, "password"); ok {
		t.Fatal("vector for differentpassword accepted password")
	}
}

func TestHashVerifyRoundTrip(t *testing.T) {
	h := NewPasswordHasher(2)
	ctx := context.Background()
	phc, err := h.Hash(ctx, "correct horse battery staple ñandú")
	if err != nil {
		t.Fatal(err)
	}
	p, err := parsePHC(phc)
	if err != nil {
		t.Fatalf("own hash does not parse: %v", err)
	}
	if p.memory != argonMemoryKiB || p.time != argonTime || p.threads != argonThreads ||
		len(p.salt) != argonSaltLen || len(p.hash) != int(argonKeyLen) {
		t.Fatalf("params %+v do not match the current constants", p)
	}
	if argonMemoryKiB < 19456 || argonTime < 2 {
		t.Fatal("parameters below the OWASP minimum (m=19456 KiB, t=2)")
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=5,p=1$") {
		t.Fatalf("unexpected PHC prefix: %s", phc)
	}
	ok, rehash, err := h.Verify(ctx, phc, "correct horse battery staple ñandú")
	if err != nil || !ok || rehash {
		t.Fatalf("verify own hash: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	if ok, _, err := h.Verify(ctx, phc, "correct horse battery staple nandu"); ok || err != nil {
		t.Fatalf("wrong password: ok=%v err=%v", ok, err)
	}
	phc2, _ := h.Hash(ctx, "correct horse battery staple ñandú")
	if phc2 == phc {
		t.Fatal("two hashes of one password are equal (salt not random)")
	}
}

func TestNeedsRehash(t *testing.T) {
	h := NewPasswordHasher(2)
	salt16 := []byte("0123456789abcdef")
	mk := func(m, tc uint32, threads uint8, salt []byte, keyLen uint32) string {
		p := phcParams{memory: m, time: tc, threads: threads, salt: salt}
		p.hash = argon2.IDKey([]byte("pw"), salt, tc, m, threads, keyLen)
		return p.encode()
	}
	cases := []struct {
		name   string
		phc    string
		rehash bool
	}{
		{"weaker memory", mk(1024, argonTime, 1, salt16, 32), true},
		{"weaker time", mk(argonMemoryKiB, 1, 1, salt16, 32), true},
		{"short salt", mk(argonMemoryKiB, argonTime, 1, []byte("8bytes!!"), 32), true},
		{"short hash", mk(argonMemoryKiB, argonTime, 1, salt16, 16), true},
		{"current", mk(argonMemoryKiB, argonTime, 1, salt16, 32), false},
		{"stronger", mk(argonMemoryKiB+1024, argonTime+1, 2, salt16, 32), false},
	}
	for _, c := range cases {
		ok, rehash, err := h.Verify(context.Background(), c.phc, "pw")
		if err != nil || !ok || rehash != c.rehash {
			t.Errorf("%s: ok=%v rehash=%v err=%v, want rehash=%v", c.name, ok, rehash, err, c.rehash)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := NewPasswordHasher(1)
	good := argon2idReference[1].phc // m=256,t=2,p=1
	bad := []string{
		"", "$", "$$$$$", "password", "plain:text",
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "argon2id", "argon2d", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "$v=19", "", 1),
		strings.Replace(good, "m=256", "m=0256", 1),
		strings.Replace(good, "m=256", "m=+256", 1),
		strings.Replace(good, "m=256", "m= 256", 1),
		strings.Replace(good, "m=256", "m=-256", 1),
		strings.Replace(good, "m=256", "m=4", 1),           // below 8*p
		strings.Replace(good, "m=256", "m=4194304", 1),     // 4 GiB: refused, not attempted
		strings.Replace(good, "m=256", "m=99999999999", 1), // overflows uint32
		strings.Replace(good, "t=2", "t=0", 1),
		strings.Replace(good, "t=2", "t=1000", 1),
		strings.Replace(good, "p=1", "p=0", 1),
		strings.Replace(good, "p=1", "p=255", 1),
		strings.Replace(good, "m=256,t=2,p=1", "t=2,m=256,p=1", 1),
		strings.Replace(good, "p=1", "p=1,keyid=abc", 1),
		strings.Replace(good, "m=256,t=2,p=1", "m=256,t=2", 1),
		strings.Replace(good, "c29tZXNhbHQ", "", 1),             // empty salt
		strings.Replace(good, "c29tZXNhbHQ", "c29tZQ", 1),       // 5-byte salt
		strings.Replace(good, "c29tZXNhbHQ", "c29tZXNhbHR", 1),  // non-canonical trailing bits
		strings.Replace(good, "c29tZXNhbHQ", "c29tZXNhbHQ=", 1), // padding
		strings.Replace(good, "c29tZXNhbHQ", "c29t*XNhbHQ", 1),
		strings.Replace(good, "c29tZXNhbHQ", "c29tZX\r\nNhbHQ", 1), // decoder would skip CR/LF
		good + "$",
		good + "=",
		good[:len(good)-30], // 16 chars of hash is < 16 bytes
		"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$" + strings.Repeat("A", 200),
		" " + good,
	}
	for _, s := range bad {
		ok, rehash, err := h.Verify(context.Background(), s, "password")
		if ok || rehash || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) = %v, %v, %v; want ErrMalformedHash", s, ok, rehash, err)
		}
		if err != nil && len(s) > 20 && strings.Contains(err.Error(), s) {
			t.Errorf("error echoes the stored hash")
		}
	}
	// And the unmodified string really is fine, so the cases above test what they claim.
	if ok, _, err := h.Verify(context.Background(), good, "password"); !ok || err != nil {
		t.Fatalf("control case failed: %v", err)
	}
}

func TestPasswordLengthLimits(t *testing.T) {
	h := NewPasswordHasher(1)
	ctx := context.Background()
	for _, pw := range []string{"", strings.Repeat("a", MaxPasswordBytes+1)} {
		if _, err := h.Hash(ctx, pw); !errors.Is(err, ErrPasswordLength) {
			t.Errorf("Hash(len %d): err=%v", len(pw), err)
		}
		ok, _, err := h.Verify(ctx, argon2idReference[1].phc, pw)
		if ok || err != nil {
			t.Errorf("Verify(len %d): ok=%v err=%v", len(pw), ok, err)
		}
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	h := NewPasswordHasher(1)
	h.sem <- struct{}{} // someone else is hashing

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := h.Hash(ctx, "pw")
	if !errors.Is(err, ErrHasherBusy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash while busy: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("did not give up at the deadline")
	}
	if _, _, err := h.Verify(ctx, argon2idReference[1].phc, "password"); !errors.Is(err, ErrHasherBusy) {
		t.Fatalf("Verify while busy: %v", err)
	}

	// A slot freed while waiting is taken.
	done := make(chan error, 1)
	go func() {
		_, _, err := h.Verify(context.Background(), argon2idReference[1].phc, "password")
		done <- err
	}()
	// It must be waiting, not hashing: every slot is still taken.
	select {
	case err := <-done:
		t.Fatalf("Verify ran while every slot was taken: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	<-h.sem
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiter never got the freed slot")
	}

	// An already-cancelled context fails even with a free slot.
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if _, err := h.Hash(cctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
	if len(h.sem) != 0 {
		t.Fatal("slot leaked")
	}
}

func TestZeroPasswordHasher(t *testing.T) {
	var h PasswordHasher
	if _, err := h.Hash(context.Background(), "pw"); err == nil {
		t.Fatal("zero hasher hashed (unbounded)")
	}
	if h := NewPasswordHasher(0); cap(h.sem) != DefaultHashConcurrency {
		t.Fatalf("default concurrency %d", cap(h.sem))
	}
}
