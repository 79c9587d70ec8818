package casefile_test

import (
	"slices"
	"testing"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/internal/pgtest"
)

// Each word casefile writes is spelled in Go as its table's CHECK spells
// it: a constant the schema refuses would fail only when a survivor's
// write hits it, and a value the schema allows but Go cannot name is a
// state no code handles.
func TestVocabularyMatchesTheSchema(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	for _, c := range []struct {
		table, column string
		want          []string
	}{
		{"case_file", "status", pgtest.Sorted(casefile.Statuses)},
		{"case_file", "needs", pgtest.Sorted(casefile.Needs)},
		{"case_file", "lang", pgtest.Sorted(casefile.Langs)},
		{"case_file", "incident_type", pgtest.Sorted(casefile.IncidentTypes)},
		{"follow_up", "status", pgtest.Sorted(casefile.FollowUpStatuses)},
	} {
		if got := pgtest.CheckValues(t, db, c.table, c.column); !slices.Equal(got, c.want) {
			t.Errorf("%s.%s: schema allows %q, Go names %q", c.table, c.column, got, c.want)
		}
	}
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
