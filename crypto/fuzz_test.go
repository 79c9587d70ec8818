package crypto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// A fixed key, so inputs the fuzzer saves in testdata stay meaningful across
// runs.
var fuzzKey, _ = DataKeyFromBytes(seq(0x60, 32))

const fuzzPlaintext = "fuzz plaintext"

// FuzzOpen: arbitrary bytes and bindings never panic, never return partial
// plaintext, and only the one genuine (ciphertext, binding) pair opens.
func FuzzOpen(f *testing.F) {
	// Built with a fixed nonce: fuzz workers are separate processes and
	// must all agree on which single input is genuine.
	nonce := seq(0x10, nonceSize)
	valid := fuzzKey.aead.Seal(append([]byte{formatV1}, nonce...), nonce, []byte(fuzzPlaintext), caseBinding.ad())
	if pt, err := fuzzKey.Open(valid, caseBinding); err != nil || string(pt) != fuzzPlaintext {
		f.Fatalf("hand-built ciphertext does not open: %v", err)
	}
	f.Add(valid, caseBinding.Table, caseBinding.Column, caseBinding.RowID)
	f.Add(valid[:Overhead], caseBinding.Table, caseBinding.Column, caseBinding.RowID)
	f.Add([]byte{}, "t", "c", "r")
	f.Add([]byte{0x01}, "t", "c", "r")
	f.Add(bytes.Repeat([]byte{0x01}, Overhead), "t", "c", "r")
	f.Add(append([]byte{0x02}, valid[1:]...), caseBinding.Table, caseBinding.Column, caseBinding.RowID)
	f.Add(valid, caseBinding.Table, caseBinding.Column, "other")
	f.Add(valid, "", "", "")
	f.Fuzz(func(t *testing.T, sealed []byte, table, column, row string) {
		b := Binding{table, column, row}
		pt, err := fuzzKey.Open(sealed, b)
		if err != nil {
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrUnknownVersion) &&
				!errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrInvalidBinding) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if !bytes.Equal(sealed, valid) || b != caseBinding || string(pt) != fuzzPlaintext {
			t.Fatalf("forgery accepted: %x under %+v", sealed, b)
		}
	})
}

// FuzzParseKeyring: never panics; errors never quote a key value; anything
// accepted satisfies the keyring invariants and survives a rotation.
func FuzzParseKeyring(f *testing.F) {
	gen, _ := GenerateKeyring(testNow)
	f.Add(gen)
	f.Add([]byte(`{"version":1,"keks":[{"id":"kek-1","key":"` + keyA + `"}],"index_keys":[{"id":"idx-1","key":"` + keyI + `"}]}`))
	f.Add([]byte(`{"version":1,"keks":[{"id":"kek-1","key":"` + key16 + `"}],"index_keys":[{"id":"idx-1","key":"` + keyI + `"}]}`))
	f.Add([]byte(`{"version":1,"keks":[{"id":"` + keyA + `","key":"kek-1"}],"index_keys":[]}`))
	f.Add([]byte(`{"version":1,"` + keyA + `":[]}`))
	f.Add([]byte(`{`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseKeyring(data)
		if err != nil {
			if k != nil {
				t.Fatal("keyring returned with error")
			}
			// Any string in the input (value or field name) could be a key.
			var loose any
			_ = json.Unmarshal(data, &loose)
			for _, s := range jsonStrings(loose) {
				// Ids are quoted on purpose once valid; a 32-byte
				// base64 key always ends in '=', which no id may contain.
				if validKeyID(s, kekPrefix) || validKeyID(s, idxPrefix) {
					continue
				}
				if len(s) >= 12 && strings.Contains(err.Error(), s) {
					t.Fatalf("error quotes input text %q: %v", s, err)
				}
			}
			return
		}
		if len(k.KEKIDs()) == 0 || len(k.BlindIndex().KeyIDs()) == 0 {
			t.Fatal("accepted keyring without KEK or index key")
		}
		for _, e := range k.keks {
			if len(e.key) != 32 {
				t.Fatal("accepted KEK of wrong size")
			}
		}
		for _, e := range k.index.keys {
			if len(e.key) != 32 {
				t.Fatal("accepted index key of wrong size")
			}
		}
		rot, err := RotateKeyring(data, testNow)
		if err != nil {
			t.Fatalf("valid keyring did not rotate: %v", err)
		}
		k2, err := ParseKeyring(rot)
		if err != nil || len(k2.KEKIDs()) != len(k.KEKIDs())+1 {
			t.Fatalf("rotated keyring: %v", err)
		}
	})
}

func jsonStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, jsonStrings(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for k, e := range v {
			out = append(append(out, k), jsonStrings(e)...)
		}
		return out
	}
	return nil
}

// Verifying with large parameters is legitimately slow; the fuzzer still
// exercises the parser on those inputs but only runs Argon2 for cheap ones.
const fuzzMaxArgonCost = 256 * 4

// FuzzVerifyPHC: arbitrary stored strings never panic, and nothing but the
// genuine reference hash accepts the password.
func FuzzVerifyPHC(f *testing.F) {
	h := NewPasswordHasher(2)
	genuine := map[string]string{}
	for _, v := range argon2idReference {
		f.Add(v.phc, v.password)
		genuine[v.phc] = v.password
	}
	f.Add("", "")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", "x")
	f.Add("$argon2id$v=19$m=4294967295,t=4294967295,p=255$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", "x")
	f.Add("$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA", "password")
	f.Fuzz(func(t *testing.T, phc, password string) {
		p, perr := parsePHC(phc)
		if perr != nil {
			ok, rehash, err := h.Verify(context.Background(), phc, password)
			if ok || rehash || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("parse failed but Verify = %v %v %v", ok, rehash, err)
			}
			return
		}
		if p.encode() != phc {
			t.Fatalf("accepted a non-canonical spelling: %q re-encodes as %q", phc, p.encode())
		}
		if uint64(p.memory)*uint64(p.time) > fuzzMaxArgonCost {
			if _, ok := genuine[phc]; !ok {
				return
			}
		}
		ok, _, err := h.Verify(context.Background(), phc, password)
		if err != nil {
			t.Fatalf("parsed but Verify failed: %v", err)
		}
		if ok && genuine[phc] != password {
			t.Fatalf("Verify accepted %q for %q", password, phc)
		}
	})
}
