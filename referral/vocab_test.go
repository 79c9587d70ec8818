package referral

import (
	"slices"
	"testing"

	"github.com/amparo/amparo/internal/pgtest"
)

// Referral statuses and provider kinds are spelled in Go as the schema's
// CHECKs spell them (see casefile's TestVocabularyMatchesTheSchema).
func TestVocabularyMatchesTheSchema(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	for _, c := range []struct {
		table, column string
		want          []string
	}{
		{"referral", "status", pgtest.Sorted(Statuses)},
		{"service", "kind", pgtest.Sorted(kinds)},
	} {
		if got := pgtest.CheckValues(t, db, c.table, c.column); !slices.Equal(got, c.want) {
			t.Errorf("%s.%s: schema allows %q, Go names %q", c.table, c.column, got, c.want)
		}
	}
}
