package portal

import (
	"testing"

	"github.com/amparo/amparo/internal/pgtest"
)

// Staff roles are spelled in Go as staff_user's CHECK spells them (see
// casefile's TestVocabularyMatchesTheSchema).
func TestVocabularyMatchesTheSchema(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	pgtest.MatchesCheck(t, db, "staff_user", "role", Roles)
}
