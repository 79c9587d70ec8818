package crypto

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func newTestKeyring(t testing.TB) (*Keyring, []byte) {
	t.Helper()
	data, err := GenerateKeyring(testNow)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKeyring(data)
	if err != nil {
		t.Fatal(err)
	}
	return k, data
}

func newTestDataKey(t testing.TB) *DataKey {
	t.Helper()
	dk, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	return dk
}

var caseBinding = Binding{Table: "case_file", Column: "narrative", RowID: "0b6f7c1e-3c1a-4f7e-9b0a-5f1f2d3c4b5a"}

func TestSealOpenRoundTrip(t *testing.T) {
	dk := newTestDataKey(t)
	for _, n := range []int{0, 1, 15, 16, 17, 1024, 64 << 10} {
		pt := bytes.Repeat([]byte{'x'}, n)
		sealed, err := dk.Seal(pt, caseBinding)
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != n+Overhead {
			t.Fatalf("len %d: sealed len %d, want %d", n, len(sealed), n+Overhead)
		}
		if n >= 16 && bytes.Contains(sealed, pt) { // short runs can occur by chance
			t.Fatalf("len %d: plaintext visible in sealed value", n)
		}
		got, err := dk.Open(sealed, caseBinding)
		if err != nil {
			t.Fatalf("len %d: %v", n, err)
		}
		if got == nil || !bytes.Equal(got, pt) {
			t.Fatalf("len %d: round trip mismatch", n)
		}
	}
}

func TestSealIsRandomised(t *testing.T) {
	dk := newTestDataKey(t)
	a, _ := dk.Seal([]byte("same"), caseBinding)
	b, _ := dk.Seal([]byte("same"), caseBinding)
	if bytes.Equal(a, b) || bytes.Equal(a[1:25], b[1:25]) {
		t.Fatal("two seals of the same plaintext share bytes or nonce")
	}
}

func TestOpenTamperEveryBit(t *testing.T) {
	dk := newTestDataKey(t)
	sealed, err := dk.Seal([]byte("she said he threatened her"), caseBinding)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sealed {
		for bit := range 8 {
			c := bytes.Clone(sealed)
			c[i] ^= 1 << bit
			pt, err := dk.Open(c, caseBinding)
			if pt != nil {
				t.Fatalf("byte %d bit %d: plaintext returned", i, bit)
			}
			want := ErrDecrypt
			if i == 0 {
				want = ErrUnknownVersion
			}
			if !errors.Is(err, want) {
				t.Fatalf("byte %d bit %d: err %v, want %v", i, bit, err, want)
			}
		}
	}
}

func TestOpenTruncated(t *testing.T) {
	dk := newTestDataKey(t)
	sealed, _ := dk.Seal([]byte("hello"), caseBinding)
	for n := 0; n < Overhead; n++ {
		pt, err := dk.Open(sealed[:n], caseBinding)
		if pt != nil || !errors.Is(err, ErrTruncated) {
			t.Fatalf("len %d: pt=%v err=%v, want ErrTruncated", n, pt != nil, err)
		}
	}
	// Long enough to parse but missing tail bytes: authentication fails.
	for n := Overhead; n < len(sealed); n++ {
		pt, err := dk.Open(sealed[:n], caseBinding)
		if pt != nil || !errors.Is(err, ErrDecrypt) {
			t.Fatalf("len %d: pt=%v err=%v, want ErrDecrypt", n, pt != nil, err)
		}
	}
	// Extra trailing bytes are tampering too.
	if pt, err := dk.Open(append(bytes.Clone(sealed), 0), caseBinding); pt != nil || !errors.Is(err, ErrDecrypt) {
		t.Fatalf("appended byte: err=%v", err)
	}
}

func TestOpenUnknownVersion(t *testing.T) {
	dk := newTestDataKey(t)
	sealed, _ := dk.Seal([]byte("hello"), caseBinding)
	for _, v := range []byte{0x00, 0x02, 0xff} {
		c := bytes.Clone(sealed)
		c[0] = v
		if pt, err := dk.Open(c, caseBinding); pt != nil || !errors.Is(err, ErrUnknownVersion) {
			t.Fatalf("version %#x: err=%v", v, err)
		}
	}
}

func TestOpenSwappedBinding(t *testing.T) {
	dk := newTestDataKey(t)
	sealed, _ := dk.Seal([]byte("hello"), caseBinding)
	others := map[string]Binding{
		"other row":    {caseBinding.Table, caseBinding.Column, "0b6f7c1e-3c1a-4f7e-9b0a-5f1f2d3c4b5b"},
		"other column": {caseBinding.Table, "summary", caseBinding.RowID},
		"other table":  {"contact", caseBinding.Column, caseBinding.RowID},
		// Boundary shifts: a separator-joined AAD would make these equal.
		"shifted 1": {"case_filen", "arrative", caseBinding.RowID},
		"shifted 2": {"case_file", "narrative" + caseBinding.RowID[:1], caseBinding.RowID[1:]},
	}
	for name, b := range others {
		pt, err := dk.Open(sealed, b)
		if pt != nil || !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: pt=%v err=%v, want ErrDecrypt", name, pt != nil, err)
		}
	}
}

func TestBindingFieldsAreLengthPrefixed(t *testing.T) {
	a := Binding{"a|b", "c", "d"}.ad()
	b := Binding{"a", "b|c", "d"}.ad()
	c := Binding{"ab", "c", "d"}.ad()
	if bytes.Equal(a, b) || bytes.Equal(a, c) || bytes.Equal(b, c) {
		t.Fatal("distinct bindings encode to equal AAD")
	}
}

func TestSealRejectsEmptyBinding(t *testing.T) {
	dk := newTestDataKey(t)
	for _, b := range []Binding{{}, {"t", "c", ""}, {"t", "", "r"}, {"", "c", "r"}} {
		if out, err := dk.Seal([]byte("x"), b); out != nil || !errors.Is(err, ErrInvalidBinding) {
			t.Errorf("Seal(%+v): err=%v", b, err)
		}
		if out, err := dk.Open(make([]byte, 64), b); out != nil || !errors.Is(err, ErrInvalidBinding) {
			t.Errorf("Open(%+v): err=%v", b, err)
		}
	}
}

func TestOpenWrongKey(t *testing.T) {
	a, b := newTestDataKey(t), newTestDataKey(t)
	sealed, _ := a.Seal([]byte("hello"), caseBinding)
	if pt, err := b.Open(sealed, caseBinding); pt != nil || !errors.Is(err, ErrDecrypt) {
		t.Fatalf("wrong key: err=%v", err)
	}
}

func TestZeroDataKeyDoesNotPanic(t *testing.T) {
	var zero DataKey
	var nilKey *DataKey
	for _, dk := range []*DataKey{&zero, nilKey} {
		if _, err := dk.Seal([]byte("x"), caseBinding); err == nil {
			t.Error("Seal with uninitialised key succeeded")
		}
		if pt, err := dk.Open(make([]byte, 64), caseBinding); pt != nil || err == nil {
			t.Error("Open with uninitialised key succeeded")
		}
	}
}

func TestDataKeyFromBytes(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := DataKeyFromBytes(make([]byte, n)); err == nil {
			t.Errorf("accepted %d-byte key", n)
		}
	}
	raw := seq(1, 32)
	dk, err := DataKeyFromBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	raw[0] ^= 0xff // caller reusing its buffer must not change the key
	if b := dk.Bytes(); b[0] != 1 {
		t.Fatal("DataKeyFromBytes did not copy")
	}
	b := dk.Bytes()
	b[1] = 0
	if dk.Bytes()[1] != 2 {
		t.Fatal("Bytes returned internal slice")
	}
}

func TestDataKeyNeverPrints(t *testing.T) {
	dk := newTestDataKey(t)
	raw := dk.Bytes()
	secrets := []string{
		hex.EncodeToString(raw), strings.ToUpper(hex.EncodeToString(raw)),
		base64.StdEncoding.EncodeToString(raw), string(raw),
		fmt.Sprint(raw), fmt.Sprintf("%d", raw[:4]),
	}
	check := func(what, out string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Fatalf("%s leaked key material: %q", what, out)
			}
		}
	}
	type holder struct{ Key *DataKey }
	type valueHolder struct{ Key DataKey }
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d", "%T"} {
		for name, v := range map[string]any{"ptr": dk, "value": *dk} {
			out := fmt.Sprintf(verb, v)
			if verb != "%T" && out != "DataKey(redacted)" {
				t.Errorf("%s %s printed %q", name, verb, out)
			}
			check(name+" "+verb, out)
		}
		check("holder "+verb, fmt.Sprintf(verb, holder{dk}))
		out := fmt.Sprintf(verb, valueHolder{*dk})
		check("valueHolder "+verb, out)
	}
	check("Sprint", fmt.Sprint(dk, *dk))
	check("Sprintln", fmt.Sprintln(dk))
	check("Errorf", fmt.Errorf("ctx: %v", dk).Error())
}

func TestWrapUnwrapDataKey(t *testing.T) {
	k, _ := newTestKeyring(t)
	dk := newTestDataKey(t)
	owner := "case_file|0b6f7c1e-3c1a-4f7e-9b0a-5f1f2d3c4b5a"
	kekID, wrapped, err := WrapDataKey(k, dk, owner)
	if err != nil {
		t.Fatal(err)
	}
	if kekID != k.CurrentKEKID() {
		t.Fatalf("wrapped with %q, want current %q", kekID, k.CurrentKEKID())
	}
	if bytes.Contains(wrapped, dk.Bytes()) {
		t.Fatal("raw DEK visible in wrapped form")
	}
	back, err := UnwrapDataKey(k, kekID, wrapped, owner)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Bytes(), dk.Bytes()) {
		t.Fatal("unwrapped key differs")
	}
	// Sealed under the original, opened under the unwrapped copy.
	s, _ := dk.Seal([]byte("x"), caseBinding)
	if _, err := back.Open(s, caseBinding); err != nil {
		t.Fatal(err)
	}

	if got, err := UnwrapDataKey(k, kekID, wrapped, "case_file|0b6f7c1e-3c1a-4f7e-9b0a-5f1f2d3c4b5b"); got != nil || !errors.Is(err, ErrDecrypt) {
		t.Fatalf("moved to another owner: err=%v", err)
	}
	if got, err := UnwrapDataKey(k, kekID, wrapped, "contact|0b6f7c1e-3c1a-4f7e-9b0a-5f1f2d3c4b5a"); got != nil || !errors.Is(err, ErrDecrypt) {
		t.Fatalf("moved to another table: err=%v", err)
	}
	if got, err := UnwrapDataKey(k, "kek-19990101-dead", wrapped, owner); got != nil || !errors.Is(err, ErrUnknownKEK) {
		t.Fatalf("unknown KEK: err=%v", err)
	}
	if got, err := UnwrapDataKey(k, kekID, wrapped[:10], owner); got != nil || !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated wrap: err=%v", err)
	}
	if _, _, err := WrapDataKey(k, dk, ""); err == nil {
		t.Fatal("wrap with empty owner accepted")
	}
	if _, err := UnwrapDataKey(k, kekID, wrapped, ""); err == nil {
		t.Fatal("unwrap with empty owner accepted")
	}
}

// A wrapped key cannot be relabelled with another KEK id of the same
// keyring: the id is part of the associated data.
func TestUnwrapWithOtherKEKIDFails(t *testing.T) {
	_, data := newTestKeyring(t)
	rotated, err := RotateKeyring(data, testNow)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKeyring(rotated)
	if err != nil {
		t.Fatal(err)
	}
	ids := k.KEKIDs()
	_, wrapped, err := k.WrapKey(seq(0, 32), []byte("dek|x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.UnwrapKey(ids[1], wrapped, []byte("dek|x")); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("relabelled KEK id: err=%v", err)
	}
}
