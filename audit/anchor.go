package audit

import (
	"context"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/amparo/amparo/internal/jobs"
)

// anchorEvery is how often the chain's head is written to the log. Logs are
// shipped off the database host, so each line is an anchor that nobody with
// only database access can change (`amparo audit -anchor` checks one).
const anchorEvery = time.Hour

// AnchorArgs is the periodic job that logs the chain's head.
type AnchorArgs struct{}

// Kind implements river.JobArgs.
func (AnchorArgs) Kind() string { return "audit.anchor" }

type anchorWorker struct {
	river.WorkerDefaults[AnchorArgs]
	db  DB
	log *slog.Logger
}

func (w *anchorWorker) Work(ctx context.Context, _ *river.Job[AnchorArgs]) error {
	head, ok, err := Latest(ctx, w.db)
	if err != nil || !ok {
		return err
	}
	// Row and hash apart: the log's redaction masks long digit runs in
	// text, and a row id can grow to one.
	w.log.InfoContext(ctx, "audit: chain head", "row", head.ID, "hash", hex.EncodeToString(head.Hash))
	return nil
}

// AddWorkers registers the anchor job's worker, reading the chain from db.
func AddWorkers(w *river.Workers, db DB, log *slog.Logger) {
	river.AddWorker(w, &anchorWorker{db: db, log: log})
}

// PeriodicJobs are the audit log's scheduled jobs.
func PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{jobs.Periodic(anchorEvery, AnchorArgs{})}
}
