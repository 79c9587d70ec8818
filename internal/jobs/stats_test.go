package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/amparo/amparo/internal/jobs"
	"github.com/amparo/amparo/internal/pgtest"
)

// With no worker running, jobs that are due pile up and the oldest one's
// wait grows: what alerting on a stopped queue watches.
func TestStatsShowAQueueThatDoesNotDrain(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	workers := river.NewWorkers()
	river.AddWorker(workers, leakWorker{})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers, Logger: pgtest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, at := range []time.Time{now.Add(-90 * time.Second), now.Add(-10 * time.Second), now.Add(time.Hour)} {
		if _, err := client.Insert(ctx, leakArgs{Mode: "ok"}, &river.InsertOpts{ScheduledAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := jobs.Stats(ctx, pool, now)
	if err != nil {
		t.Fatal(err)
	}
	if waiting := st.ByState["available"] + st.ByState["scheduled"]; waiting != 3 || st.ByState["running"] != 0 {
		t.Fatalf("by state %v; want 3 waiting, none running", st.ByState)
	}
	if st.OldestDue < 89*time.Second || st.OldestDue > 91*time.Second {
		t.Fatalf("oldest due job waited %v, want 90 s", st.OldestDue)
	}
}
