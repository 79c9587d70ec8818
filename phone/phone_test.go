package phone

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestNormalize(t *testing.T) {
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
		got, err := Normalize(c.raw, c.region)
		if err != nil || got != c.want {
			t.Errorf("Normalize(%q, %q) = %q, %v; want %q", c.raw, c.region, got, err, c.want)
		}
	}
}

func TestNormalizeRejects(t *testing.T) {
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
		got, err := Normalize(raw, "PE")
		if err == nil || got != "" {
			t.Errorf("Normalize(%q) = %q, %v; want ErrInvalid", raw, got, err)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Normalize(%q): %v is not ErrInvalid", raw, err)
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
func TestNormalizeConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				raw := []string{"987654321", "(044) 123456", "+1 202 456 1111", "garbage"}[i%4]
				_, _ = Normalize(raw, "PE")
			}
		}()
	}
	wg.Wait()
}

func BenchmarkNormalize(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Normalize("+51 987 654 321", "PE"); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzNormalize: SMS senders control this input. Never panic; any
// accepted number is "+" and digits (libphonenumber allows some national
// numbers, e.g. German, beyond 15 digits) and normalises to itself.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+51 987 654 321", "987654321", "0051987654321", "(044) 123456", "abc", "", "+", "00", "+1 202 456 1111 ext. 5"} {
		f.Add(s, "PE")
	}
	f.Add("2024561111", "US")
	f.Add("987654321", "ZZ")
	f.Fuzz(func(t *testing.T, raw, region string) {
		e, err := Normalize(raw, region)
		if err != nil {
			if e != "" || !errors.Is(err, ErrInvalid) {
				t.Fatalf("bad failure: %q %v", e, err)
			}
			return
		}
		if len(e) < 3 || e[0] != '+' || strings.Trim(e[1:], "0123456789") != "" || len(e) > 20 {
			t.Fatalf("not E.164: %q", e)
		}
		again, err := Normalize(e, "PE")
		if err != nil || again != e {
			t.Fatalf("not idempotent: %q -> %q, %v", e, again, err)
		}
	})
}
