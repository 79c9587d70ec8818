package roster

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/pgtest"
)

const (
	phoneSup = "+51900000801"
	phoneCou = "+51900000802"
)

func TestOnCallShiftsAddListRemove(t *testing.T) {
	ctx, pool := context.Background(), pgtest.New(t)
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	r := New(clock.NewFake(now), nil)
	for name, sh := range map[string]Shift{
		"role":  {Role: "nurse", Phone: phoneCou, Starts: now, Ends: now.Add(time.Hour)},
		"phone": {Role: Counsellor, Phone: "12", Starts: now, Ends: now.Add(time.Hour)},
		"order": {Role: Counsellor, Phone: phoneCou, Starts: now, Ends: now},
	} {
		if _, err := AddShift(ctx, pool, sh, "cli", now); !errors.Is(err, ErrBadInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
	id, err := AddShift(ctx, pool, Shift{Role: Counsellor, Phone: "987 654 321", Name: "Rosa",
		Starts: now.Add(-time.Hour), Ends: now.Add(8 * time.Hour)}, "cli", now)
	if err != nil {
		t.Fatal(err)
	}
	later, err := AddShift(ctx, pool, Shift{Role: Supervisor, Phone: phoneSup,
		Starts: now.Add(24 * time.Hour), Ends: now.Add(32 * time.Hour)}, "cli", now)
	if err != nil {
		t.Fatal(err)
	}
	// The alert path (referral's and hotline's alerts) reads the roster
	// through Duty: the new counsellor is who it texts now.
	phones, rostered, err := r.Duty(ctx, pool, Counsellor, Supervisor)
	if err != nil || !rostered || !slices.Equal(phones, []string{"+51987654321"}) {
		t.Fatalf("duty phones: %v %v %v", phones, rostered, err)
	}
	shifts, err := Shifts(ctx, pool, now)
	if err != nil || len(shifts) != 2 || shifts[0].ID != id || shifts[0].Name != "Rosa" || shifts[1].ID != later {
		t.Fatalf("shifts: %+v %v", shifts, err)
	}
	if err := RemoveShift(ctx, pool, id, "cli", now); err != nil {
		t.Fatal(err)
	}
	if err := RemoveShift(ctx, pool, id, "cli", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
	if phones, _ := r.OnCall(ctx, pool, Counsellor); len(phones) != 0 {
		t.Fatalf("removed shift still on call: %v", phones)
	}
	rows, err := pool.Query(ctx, `SELECT actor || ' ' || action || ' ' || detail FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		log = append(log, s)
	}
	want := []string{
		"cli oncall.add shift " + strconv.FormatInt(id, 10) + " counsellor *********321",
		"cli oncall.add shift " + strconv.FormatInt(later, 10) + " supervisor *********801",
		"cli oncall.remove shift " + strconv.FormatInt(id, 10) + " counsellor *********321",
	}
	if !slices.Equal(log, want) {
		t.Fatalf("audit log:\n%s\nwant\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
}

// The roster's roles are spelled in Go as on_call's CHECK spells them.
func TestVocabularyMatchesTheSchema(t *testing.T) {
	t.Parallel()
	pgtest.MatchesCheck(t, pgtest.New(t), "on_call", "role", Roles)
}
