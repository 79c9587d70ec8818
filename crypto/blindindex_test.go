package crypto

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	cases := []struct{ raw, region, want string }{
		{"+51 987 654 321", "PE", "+51987654321"},
		{"+51987654321", "PE", "+51987654321"},
		{"987654321", "PE", "+51987654321"},
		{"987 654 321", "", "+51987654321"}, // empty region means PE
		{"987-654-321", "pe", "+51987654321"},
		{"0051987654321", "PE", "+51987654321"},
		{"00 51 987 654 321", "PE", "+51987654321"},
		{"(044) 123456", "PE", "+5144123456"}, // Trujillo landline
		{"044-123456", "PE", "+5144123456"},
		{"+51 44 123456", "PE", "+5144123456"},
		{"+1 202 456 1111", "PE", "+12024561111"},
		{"2024561111", "US", "+12024561111"},
	}
	for _, c := range cases {
		got, err := NormalizePhone(c.raw, c.region)
		if err != nil || got != c.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", c.raw, c.region, got, err, c.want)
		}
	}
}

func TestNormalizePhoneRejects(t *testing.T) {
	bad := []string{
		"", "   ", "abc", "hola", "12", "105", "987", "+51 12",
		"98765432",              // one digit short of a Peruvian mobile
		"9876543210",            // one digit too many
		"+999 123 456 789",      // no such country code
		"+51 987 654 321 999 9", // junk tail
		strings.Repeat("9", 65), // over the input bound
		"+51 987\x00654321",
	}
	for _, raw := range bad {
		got, err := NormalizePhone(raw, "PE")
		if err == nil || got != "" {
			t.Errorf("NormalizePhone(%q) = %q, %v; want ErrInvalidPhone", raw, got, err)
			continue
		}
		if !errors.Is(err, ErrInvalidPhone) {
			t.Errorf("NormalizePhone(%q): %v is not ErrInvalidPhone", raw, err)
		}
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, raw)
		if len(digits) >= 3 && strings.Contains(err.Error(), digits) || (strings.TrimSpace(raw) != "" && strings.Contains(err.Error(), raw)) {
			t.Errorf("error %q contains the input", err)
		}
	}
}

// nyaruka/phonenumbers keeps global caches; the hotline normalises from
// many goroutines at once, so run this under -race.
func TestNormalizePhoneConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				raw := []string{"987654321", "(044) 123456", "+1 202 456 1111", "garbage"}[i%4]
				_, _ = NormalizePhone(raw, "PE")
			}
		}()
	}
	wg.Wait()
}

func TestBlindIndexSameNumberDifferentFormats(t *testing.T) {
	k, _ := newTestKeyring(t)
	bi := k.BlindIndex()
	var first []byte
	for _, raw := range []string{"+51 987 654 321", "987654321", "0051987654321", "987-654-321"} {
		e, err := NormalizePhone(raw, "PE")
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
