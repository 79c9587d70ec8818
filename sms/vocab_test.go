package sms

import (
	"slices"
	"testing"

	"github.com/amparo/amparo/internal/pgtest"
)

// Each purpose and status the outbox writes is spelled in Go as
// outbound_message's CHECKs spell it (pgtest.MatchesCheck says why).
func TestVocabularyMatchesTheSchema(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	pgtest.MatchesCheck(t, db, "outbound_message", "purpose", Purposes)
	pgtest.MatchesCheck(t, db, "outbound_message", "status", Statuses)
}

// statusRank ranks every Status, and nothing else: a callback word outside
// them is ignored rather than written.
func TestEveryStatusHasARank(t *testing.T) {
	ranked := make([]Status, 0, len(statusRank))
	for s := range statusRank {
		ranked = append(ranked, s)
	}
	if got, want := pgtest.Sorted(ranked), pgtest.Sorted(Statuses); !slices.Equal(got, want) {
		t.Errorf("statusRank ranks %q, Statuses names %q", got, want)
	}
}
