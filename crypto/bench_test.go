package crypto

import (
	"context"
	"testing"
)

func benchSeal(b *testing.B, n int) {
	dk := newTestDataKey(b)
	pt := make([]byte, n)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dk.Seal(pt, caseBinding); err != nil {
			b.Fatal(err)
		}
	}
}

func benchOpen(b *testing.B, n int) {
	dk := newTestDataKey(b)
	sealed, err := dk.Seal(make([]byte, n), caseBinding)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dk.Open(sealed, caseBinding); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal1KiB(b *testing.B)  { benchSeal(b, 1<<10) }
func BenchmarkSeal64KiB(b *testing.B) { benchSeal(b, 64<<10) }
func BenchmarkOpen1KiB(b *testing.B)  { benchOpen(b, 1<<10) }
func BenchmarkOpen64KiB(b *testing.B) { benchOpen(b, 64<<10) }

func BenchmarkUnwrapDataKey(b *testing.B) {
	k, _ := newTestKeyring(b)
	dk := newTestDataKey(b)
	id, w, err := WrapDataKey(k, dk, "case_file|x")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := UnwrapDataKey(k, id, w, "case_file|x"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBlindIndexCurrent(b *testing.B) {
	k, _ := newTestKeyring(b)
	bi := k.BlindIndex()
	b.ReportAllocs()
	for b.Loop() {
		_ = bi.Current("+51987654321")
	}
}

func BenchmarkArgon2idHash(b *testing.B) {
	h := NewPasswordHasher(1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// Two logins in parallel on 2 cores: the throughput ceiling for login.
func BenchmarkArgon2idHashParallel(b *testing.B) {
	h := NewPasswordHasher(DefaultHashConcurrency)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
