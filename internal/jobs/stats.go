package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Querier is what QueueStats needs of a pool or transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// QueueStats are River's unfinished jobs, which alerting watches: timers and
// texts are jobs, so a queue that stops draining means escalations and
// notices that never happen.
type QueueStats struct {
	ByState map[string]int // available, retryable, scheduled and running jobs
	// OldestDue is how long the oldest job that may run now has waited
	// (zero when none waits): it grows without bound when no worker runs.
	OldestDue time.Duration
}

// unfinishedStates are the states a job passes through before it ends.
var unfinishedStates = []string{"available", "retryable", "scheduled", "running"}

// Stats reads the queue's state at now.
func Stats(ctx context.Context, db Querier, now time.Time) (QueueStats, error) {
	// River owns river_job and its migrations, so this query stays in Go.
	rows, err := db.Query(ctx, `
		SELECT state::text, count(*), min(scheduled_at) FILTER (WHERE state <> 'running' AND scheduled_at <= $2)
		FROM river_job WHERE state = ANY($1::river_job_state[]) GROUP BY state`, unfinishedStates, now)
	if err != nil {
		return QueueStats{}, fmt.Errorf("jobs: stats: %w", err)
	}
	st := QueueStats{ByState: make(map[string]int, len(unfinishedStates))}
	for _, s := range unfinishedStates {
		st.ByState[s] = 0
	}
	var (
		state string
		n     int
		due   *time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&state, &n, &due}, func() error {
		st.ByState[state] = n
		if due != nil {
			st.OldestDue = max(st.OldestDue, now.Sub(*due))
		}
		return nil
	})
	if err != nil {
		return QueueStats{}, fmt.Errorf("jobs: stats: %w", err)
	}
	return st, nil
}
