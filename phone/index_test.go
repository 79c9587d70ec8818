package phone_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/phone"
)

func newKeyring(t *testing.T) *crypto.Keyring {
	t.Helper()
	data, err := crypto.GenerateKeyring(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	k, err := crypto.ParseKeyring(data)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Normalize and the blind index together give one person one index.
func TestBlindIndexSameNumberDifferentFormats(t *testing.T) {
	k := newKeyring(t)
	bi := k.BlindIndex()
	var first []byte
	for _, raw := range []string{"+51 987 654 321", "987654321", "0051987654321", "987-654-321"} {
		e, err := phone.Normalize(raw, "PE")
		if err != nil {
			t.Fatal(err)
		}
		idx := bi.Current(e)
		if len(idx) != 32 {
			t.Fatalf("index length %d", len(idx))
		}
		if first == nil {
			first = idx
		} else if !bytes.Equal(first, idx) {
			t.Fatalf("%q indexes differently", raw)
		}
	}
	if bytes.Equal(first, bi.Current("+51987654322")) {
		t.Fatal("different numbers share an index")
	}
	if bytes.Contains(first, []byte("987654321")) {
		t.Fatal("index contains the number")
	}
}
