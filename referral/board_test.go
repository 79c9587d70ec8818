package referral

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestBoardStatesAreTheOpenStates ties the board's states to Status.Open
// and to the WHERE of referral_board_idx, whose plan the board relies on.
func TestBoardStatesAreTheOpenStates(t *testing.T) {
	t.Parallel()
	for _, st := range Statuses {
		if st.Open() != slices.Contains(BoardStates, st) {
			t.Errorf("%s: open=%v, on the board=%v", st, st.Open(), slices.Contains(BoardStates, st))
		}
	}
	raw, err := os.ReadFile("../migrations/sql/00210_sla_board.sql")
	if err != nil {
		t.Fatal(err)
	}
	if want := "WHERE " + boardOpen + ";"; !strings.Contains(string(raw), want) {
		t.Errorf("referral_board_idx is not partial on %q", want)
	}
}
