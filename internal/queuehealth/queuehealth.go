// Package queuehealth reads the figures that say whether the service keeps
// up with the work it owes people: open and stalled referrals, caseworker
// tasks, texts waiting or failed, and River's queue, whose jobs are the
// timers. /metrics exports them and the portal's queue-health page shows
// them; both call Reader.Read, so a supervisor and the alerting never read
// two different counts.
package queuehealth

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/jobs"
	"github.com/amparo/amparo/referral"
)

// Outbox is the state of the texts waiting to be handed to Twilio.
type Outbox struct {
	Pending int // queued and not yet handed over, including those waiting for her hours
	// OldestDue is how long the oldest text that may be sent now has waited.
	OldestDue time.Duration
	// FailedLastHour counts texts the carrier failed or could not deliver
	// in the last hour.
	FailedLastHour int
}

// OutboxReader reads Outbox; the package that owns outbound texts
// implements it (cmd/amparo adapts it).
type OutboxReader interface {
	Outbox(ctx context.Context) (Outbox, error)
}

// Figures are one reading. A part that could not be read is named in
// Unread and its figures are zero.
type Figures struct {
	Referrals        referral.Stats
	FollowUpsUrgent  int
	FollowUpsRoutine int
	Outbox           Outbox
	Jobs             jobs.QueueStats
	Unread           []string // "referrals", "follow-ups", "outbox", "jobs"
}

// Reader reads Figures. Every field is required.
type Reader struct {
	Pool      *pgxpool.Pool
	Cases     *casefile.Store
	Referrals *referral.Service
	Outbox    OutboxReader
	Clock     clock.Clock
	Log       *slog.Logger
}

// Timeout bounds one reading: the queries are aggregates, so a slow
// database costs a scrape or a page, nothing else.
const Timeout = 2 * time.Second

// Read takes one reading. It does not fail as a whole: a part that cannot
// be read is logged (without content) and named in Unread, so the rest
// still shows.
func (r *Reader) Read(ctx context.Context) Figures {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	var f Figures
	failed := func(what string, err error) bool {
		if err != nil {
			r.Log.Warn("queue health: cannot read "+what, "err", err)
			f.Unread = append(f.Unread, what)
		}
		return err != nil
	}
	var err error
	if f.Referrals, err = r.Referrals.Stats(ctx, r.Pool); failed("referrals", err) {
		f.Referrals = referral.Stats{}
	}
	if f.FollowUpsUrgent, f.FollowUpsRoutine, err = r.Cases.OpenFollowUps(ctx, r.Pool); failed("follow-ups", err) {
		f.FollowUpsUrgent, f.FollowUpsRoutine = 0, 0
	}
	if f.Outbox, err = r.Outbox.Outbox(ctx); failed("outbox", err) {
		f.Outbox = Outbox{}
	}
	if f.Jobs, err = jobs.Stats(ctx, r.Pool, r.Clock.Now()); failed("jobs", err) {
		f.Jobs = jobs.QueueStats{}
	}
	return f
}

// Read reports whether part was read.
func (f Figures) Read(part string) bool { return !slices.Contains(f.Unread, part) }

// JobsWaiting counts the jobs that may run now and have not started: the
// queue a stopped worker leaves behind.
func (f Figures) JobsWaiting() int { return f.Jobs.ByState["available"] + f.Jobs.ByState["retryable"] }
