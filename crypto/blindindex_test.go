package crypto

import (
	"bytes"
	"testing"
)

func TestBlindIndexKeysAndPurposes(t *testing.T) {
	k1, _ := newTestKeyring(t)
	k2, _ := newTestKeyring(t)
	const n = "+51987654321"
	if bytes.Equal(k1.BlindIndex().Current(n), k2.BlindIndex().Current(n)) {
		t.Fatal("different index keys give the same index")
	}
	bi := k1.BlindIndex()
	if !bytes.Equal(bi.Current(n), bi.Token(PurposePhone, n)) {
		t.Fatal("Current is not Token(PurposePhone)")
	}
	if bytes.Equal(bi.Token("code_word", n), bi.Current(n)) {
		t.Fatal("purposes are not domain separated")
	}
	// Length prefixes: moving the boundary between purpose and value changes the token.
	if bytes.Equal(bi.Token("ab", "c"), bi.Token("a", "bc")) {
		t.Fatal("purpose/value boundary is ambiguous")
	}
	// The index key is not the KEK: HMAC under a KEK must not match.
	if bytes.Equal(token(k1.keks[0].key, PurposePhone, n), bi.Current(n)) {
		t.Fatal("index uses the KEK")
	}
}

func TestBlindIndexRotation(t *testing.T) {
	kOld, data := newTestKeyring(t)
	const n = "+51987654321"
	stored := kOld.BlindIndex().Current(n) // written before rotation

	rotated, err := RotateIndexKey(data, testNow)
	if err != nil {
		t.Fatal(err)
	}
	kNew, err := ParseKeyring(rotated)
	if err != nil {
		t.Fatal(err)
	}
	bi := kNew.BlindIndex()
	ids := bi.KeyIDs()
	if len(ids) != 2 || ids[1] != kOld.BlindIndex().CurrentKeyID() || bi.CurrentKeyID() != ids[0] {
		t.Fatalf("index key ids after rotation: %v", ids)
	}
	if bytes.Equal(bi.Current(n), stored) {
		t.Fatal("new current key gives the old index")
	}
	cands := bi.Candidates(n)
	if len(cands) != 2 || !bytes.Equal(cands[0], bi.Current(n)) {
		t.Fatal("Candidates must start with the current index")
	}
	found := false
	for _, c := range cands {
		found = found || bytes.Equal(c, stored)
	}
	if !found {
		t.Fatal("Candidates does not find a value stored under the old key")
	}
	if kNew.CurrentKEKID() != kOld.CurrentKEKID() {
		t.Fatal("index rotation changed the KEK")
	}
	// A lookup for another number must not match the stored value.
	for _, c := range bi.Candidates("+51987654322") {
		if bytes.Equal(c, stored) {
			t.Fatal("other number matched")
		}
	}
}
