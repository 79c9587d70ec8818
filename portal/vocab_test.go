package portal

import (
	"slices"
	"testing"

	"github.com/amparo/amparo/internal/pgtest"
)

// Staff roles are spelled in Go as staff_user's CHECK spells them (see
// casefile's TestVocabularyMatchesTheSchema).
func TestVocabularyMatchesTheSchema(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	if got, want := pgtest.CheckValues(t, db, "staff_user", "role"), pgtest.Sorted(Roles); !slices.Equal(got, want) {
		t.Errorf("staff_user.role: schema allows %q, Go names %q", got, want)
	}
}
