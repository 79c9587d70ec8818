package referral

import (
	"testing"

	"github.com/amparo/amparo/internal/pgtest"
)

// Referral statuses and provider kinds are spelled in Go as the schema's
// CHECKs spell them (see casefile's TestVocabularyMatchesTheSchema).
func TestVocabularyMatchesTheSchema(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	pgtest.MatchesCheck(t, db, "referral", "status", Statuses)
	pgtest.MatchesCheck(t, db, "service", "kind", kinds)
}
