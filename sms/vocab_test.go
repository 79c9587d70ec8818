package sms

import (
	"slices"
	"testing"

	"github.com/amparo/amparo/internal/pgtest"
)

// Each purpose the outbox writes is spelled in Go as outbound_message's
// CHECK spells it: a constant the schema refuses would fail only when a
// text hits it, and a value the schema allows but Go cannot name is a text
// no code handles.
func TestPurposesMatchTheSchema(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	got, want := pgtest.CheckValues(t, db, "outbound_message", "purpose"), pgtest.Sorted(Purposes)
	if !slices.Equal(got, want) {
		t.Errorf("outbound_message.purpose: schema allows %q, Go names %q", got, want)
	}
}

// outbound_message.status has no CHECK yet (the migrations never listed
// Twilio's words): statusRank is the list, so every Status has a rank and
// every rank a Status, and a callback word outside them is ignored rather
// than written. Once a migration adds the CHECK, it must list Statuses.
func TestStatusesMatchTheSchema(t *testing.T) {
	t.Parallel()
	ranked := make([]Status, 0, len(statusRank))
	for s := range statusRank {
		ranked = append(ranked, s)
	}
	want := pgtest.Sorted(Statuses)
	if got := pgtest.Sorted(ranked); !slices.Equal(got, want) {
		t.Errorf("statusRank ranks %q, Statuses names %q", got, want)
	}
	db := pgtest.New(t)
	if pgtest.Allows(t, db, "outbound_message", "status", "no such status") {
		return // no CHECK to compare with
	}
	if got := pgtest.CheckValues(t, db, "outbound_message", "status"); !slices.Equal(got, want) {
		t.Errorf("outbound_message.status: schema allows %q, Go names %q", got, want)
	}
}
