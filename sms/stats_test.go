package sms

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/pgtest"
)

// OutboxStats counts pending texts, says how long the oldest one due has
// waited (not one waiting for her hours), and counts the last hour's
// failures; an empty outbox has waited for nothing.
func TestOutboxStatsCountsPendingAndOldestDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	s := &Sender{pool: db, clk: clock.NewFake(now)}
	st, err := s.OutboxStats(ctx)
	if err != nil || st != (OutboxStats{}) {
		t.Fatalf("empty outbox: %+v, %v", st, err)
	}
	put := func(status Status, notBefore, updated time.Time) {
		t.Helper()
		if _, err := db.Exec(ctx, `INSERT INTO outbound_message (id, purpose, status, not_before, expires_at, created_at, updated_at)
			VALUES ($1, 'staff_alert', $2, $3, $4, $5, $5)`, uuid.New(), status, notBefore, now.Add(time.Hour), updated); err != nil {
			t.Fatal(err)
		}
	}
	put(StatusPending, now.Add(-90*time.Second), now)
	put(StatusPending, now.Add(-10*time.Second), now)
	put(StatusPending, now.Add(time.Hour), now) // waiting for her hours
	put(StatusFailed, now, now.Add(-30*time.Minute))
	put(StatusUndelivered, now, now.Add(-2*time.Hour)) // before the last hour
	st, err = s.OutboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (OutboxStats{Pending: 3, OldestDue: 90 * time.Second, FailedLastHour: 1}); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
}
