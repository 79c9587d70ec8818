package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/amparo/amparo/internal/jobs"
	"github.com/amparo/amparo/internal/pgtest"
)

type leakArgs struct {
	Mode string `json:"mode"`
}

func (leakArgs) Kind() string { return "test.leak" }

type leakWorker struct{ river.WorkerDefaults[leakArgs] }

func (leakWorker) Work(_ context.Context, j *river.Job[leakArgs]) error {
	switch j.Args.Mode {
	case "panic":
		panic("narrative for +51987654321")
	case "error":
		return errors.New("send to +51 987 654 321 failed")
	case "snooze":
		return river.JobSnooze(time.Hour)
	}
	return nil
}

// TestConfidentialKeepsDataOutOfJobErrors runs real jobs through River and
// reads what River stored in river_job.errors.
func TestConfidentialKeepsDataOutOfJobErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	workers := river.NewWorkers()
	river.AddWorker(workers, leakWorker{})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:     pgtest.Logger(t),
		Queues:     map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 3}},
		Workers:    workers,
		Middleware: []rivertype.Middleware{&jobs.Confidential{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := client.Subscribe(river.EventKindJobFailed, river.EventKindJobSnoozed)
	defer cancel()
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	ids := map[string]int64{}
	for _, mode := range []string{"panic", "error", "snooze"} {
		res, err := client.Insert(ctx, leakArgs{Mode: mode}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids[mode] = res.Job.ID
	}
	for range 3 {
		select {
		case <-events:
		case <-time.After(20 * time.Second):
			t.Fatal("jobs were not worked")
		}
	}
	for mode, id := range ids {
		var state, errs string
		if err := pool.QueryRow(ctx, "SELECT state, coalesce(errors::text, '') FROM river_job WHERE id = $1", id).Scan(&state, &errs); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(errs, "987") || strings.Contains(errs, "narrative") {
			t.Errorf("%s: river_job.errors leaks: %s", mode, errs)
		}
		switch mode {
		case "panic":
			if !strings.Contains(errs, "panic (string)") || !strings.Contains(errs, "leakWorker") {
				t.Errorf("panic: errors should name the type and site: %s", errs)
			}
		case "snooze":
			if state != string(rivertype.JobStateScheduled) || errs != "" {
				t.Errorf("snooze must survive the middleware: state %s, errors %q", state, errs)
			}
		}
	}
}
