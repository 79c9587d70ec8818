package crypto

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// draft-irtf-cfrg-xchacha-03 §A.3.1: proves NewX is the construction we
// think it is (and that our test harness reads hex the way we think).
func TestKAT_XChaCha20Poly1305(t *testing.T) {
	key := seq(0x80, 32)
	nonce := seq(0x40, 24)
	aad := mustHex(t, "50515253c0c1c2c3c4c5c6c7")
	pt := []byte("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
	wantCT := mustHex(t, "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e")
	wantTag := mustHex(t, "c0875924c1c7987947deafd8780acf49")

	a, err := chacha20poly1305.NewX(key)
	if err != nil {
		t.Fatal(err)
	}
	got := a.Seal(nil, nonce, pt, aad)
	want := append(append([]byte(nil), wantCT...), wantTag...)
	if !bytes.Equal(got, want) {
		t.Fatalf("XChaCha20-Poly1305 vector mismatch:\n got %x\nwant %x", got, want)
	}
	back, err := a.Open(nil, nonce, want, aad)
	if err != nil || !bytes.Equal(back, pt) {
		t.Fatalf("open of vector: err=%v", err)
	}
	want[len(want)-1] ^= 1
	if _, err := a.Open(nil, nonce, want, aad); err == nil {
		t.Fatal("tampered tag accepted")
	}
}

// RFC 4231 test case 2.
func TestKAT_HMACSHA256(t *testing.T) {
	m := hmac.New(sha256.New, []byte("Jefe"))
	m.Write([]byte("what do ya want for nothing?"))
	want := "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got := hex.EncodeToString(m.Sum(nil)); got != want {
		t.Fatalf("HMAC-SHA256 RFC 4231 #2: got %s want %s", got, want)
	}
}

// Reference vectors of the Argon2 reference implementation (phc-winner-argon2
// src/test.c, Argon2id, version 0x13), reused verbatim by libar2's tests.
var argon2idReference = []struct{ password, phc, hexHash string }{
	{"password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7"},
	{"password", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", ""},
	{"password", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc", ""},
	{"differentpassword", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$C4TWUs9rDEvq7w3+J4umqA32aWKB1+DSiRuBfYxFj94", ""},
}

// The raw KDF output and our PHC encoder both match the reference.
func TestKAT_Argon2idEncoding(t *testing.T) {
	v := argon2idReference[0]
	h := argon2.IDKey([]byte(v.password), []byte("somesalt"), 2, 65536, 1, 32)
	if got := hex.EncodeToString(h); got != v.hexHash {
		t.Fatalf("argon2id raw output: got %s want %s", got, v.hexHash)
	}
	p := phcParams{memory: 65536, time: 2, threads: 1, salt: []byte("somesalt"), hash: h}
	if got := p.encode(); got != v.phc {
		t.Fatalf("PHC encoding:\n got %s\nwant %s", got, v.phc)
	}
	back, err := parsePHC(v.phc)
	if err != nil || back.memory != 65536 || back.time != 2 || back.threads != 1 ||
		string(back.salt) != "somesalt" || !bytes.Equal(back.hash, h) {
		t.Fatalf("parsePHC(reference) = %+v, %v", back, err)
	}
}

func lp(s string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...)
}

// Pins the on-disk format independently of the code that writes it: if
// someone changes the AAD layout, every stored row would stop opening.
func TestFormatPinned_FieldSeal(t *testing.T) {
	key := seq(0, 32)
	dk, err := DataKeyFromBytes(key)
	if err != nil {
		t.Fatal(err)
	}
	b := Binding{Table: "case_file", Column: "narrative", RowID: "7d0c6f5e-0000-4000-8000-000000000001"}
	sealed, err := dk.Seal([]byte("hola"), b)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != 1+24+4+16 || sealed[0] != 0x01 {
		t.Fatalf("layout: len=%d first=%#x", len(sealed), sealed[0])
	}
	ad := []byte{0x01}
	for _, s := range []string{"amparo.field.v1", b.Table, b.Column, b.RowID} {
		ad = append(ad, lp(s)...)
	}
	a, _ := chacha20poly1305.NewX(key)
	pt, err := a.Open(nil, sealed[1:25], sealed[25:], ad)
	if err != nil || string(pt) != "hola" {
		t.Fatalf("hand-built AAD does not open our seal: %v", err)
	}
}

// Stored blind indexes must never change for the same key and number.
func TestFormatPinned_BlindIndex(t *testing.T) {
	bi := &BlindIndex{keys: []namedKey{{id: "idx-test", key: seq(0x20, 32)}}}
	msg := append(append(lp("amparo.blind-index.v1"), lp("phone.e164")...), lp("+51987654321")...)
	m := hmac.New(sha256.New, seq(0x20, 32))
	m.Write(msg)
	want := m.Sum(nil)
	got := bi.Current("+51987654321")
	if !bytes.Equal(got, want) {
		t.Fatalf("blind index layout changed: got %x want %x", got, want)
	}
	const golden = "18c117dfe0b464c78a085fb42129b4cca61646d605d6012372a348600b76c230"
	if hex.EncodeToString(got) != golden {
		t.Fatalf("blind index golden value changed: got %x", got)
	}
}
