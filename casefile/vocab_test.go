package casefile_test

import (
	"testing"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/internal/pgtest"
)

// Each word casefile writes is spelled in Go as its table's CHECK spells it
// (pgtest.MatchesCheck says why that matters).
func TestVocabularyMatchesTheSchema(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	pgtest.MatchesCheck(t, db, "case_file", "status", casefile.Statuses)
	pgtest.MatchesCheck(t, db, "case_file", "needs", casefile.Needs)
	pgtest.MatchesCheck(t, db, "case_file", "lang", casefile.Langs)
	pgtest.MatchesCheck(t, db, "case_file", "incident_type", casefile.IncidentTypes)
	pgtest.MatchesCheck(t, db, "follow_up", "status", casefile.FollowUpStatuses)
	// follow_up.kind is checked by a pattern, not a list: every kind Go
	// files must pass it.
	for _, k := range casefile.FollowUpKinds {
		if !pgtest.Allows(t, db, "follow_up", "kind", string(k)) {
			t.Errorf("follow_up.kind refuses %q", k)
		}
	}
	if pgtest.Allows(t, db, "follow_up", "kind", "Call her at 5") {
		t.Error("follow_up.kind allows free text; Allows does not read the CHECK")
	}
}
