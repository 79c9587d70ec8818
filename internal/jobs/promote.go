package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver"
)

// PromoteInterval is how often PromoteDue looks for scheduled jobs whose
// time has come. SLA timers must fire within seconds of their deadline.
const PromoteInterval = time.Second

// PromoteDue makes scheduled jobs whose time has passed available to work,
// every PromoteInterval, until ctx ends.
//
// River does this only on its elected leader, every 5 s. When the leader is
// killed, the survivors wait out its lease (about 15 s, not configurable)
// before anyone schedules again, and an SLA deadline that falls in that
// window fires 15-25 s late (cmd/amparo fault test). Running River's own
// scheduling query from every process closes the gap: it locks with SKIP
// LOCKED and resolves unique-job conflicts itself, so copies running at
// once do not interfere, and workers pick the jobs up on their next poll.
func PromoteDue(ctx context.Context, driver riverdriver.Driver[pgx.Tx], log *slog.Logger) {
	t := time.NewTicker(PromoteInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := promoteOnce(ctx, driver); err != nil && ctx.Err() == nil {
			// The database may be away; the next tick tries again.
			log.Debug("jobs: promote due jobs", "err", err)
		}
	}
}

func promoteOnce(ctx context.Context, driver riverdriver.Driver[pgx.Tx]) error {
	tx, err := driver.GetExecutor().Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	now := time.Now()
	if _, err := tx.JobSchedule(ctx, &riverdriver.JobScheduleParams{Max: 1000, Now: &now}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
