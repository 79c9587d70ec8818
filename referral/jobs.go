package referral

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral/internal/referraldb"
	"github.com/amparo/amparo/roster"
)

// Job args carry ids and a stage only: River keeps args as plain JSON.

// DispatchArgs sends a new referral's notice to its provider.
type DispatchArgs struct {
	ReferralID uuid.UUID `json:"referral_id"`
}

// Kind names the job for River.
func (DispatchArgs) Kind() string { return "referral.dispatch" }

// AckDeadlineArgs fires at the referral's acknowledge-by time.
type AckDeadlineArgs struct {
	ReferralID uuid.UUID `json:"referral_id"`
}

// Kind names the job for River.
func (AckDeadlineArgs) Kind() string { return "referral.ack_deadline" }

// ServeDeadlineArgs fires as serve-by nears (Stage "near") and when it
// passes (Stage "missed").
type ServeDeadlineArgs struct {
	ReferralID uuid.UUID `json:"referral_id"`
	Stage      string    `json:"stage"`
}

// Kind names the job for River.
func (ServeDeadlineArgs) Kind() string { return "referral.serve_deadline" }

// AddWorkers registers the referral workers.
func AddWorkers(w *river.Workers, s *Service) {
	river.AddWorker(w, &dispatchWorker{s: s})
	river.AddWorker(w, &ackDeadlineWorker{s: s})
	river.AddWorker(w, &serveDeadlineWorker{s: s})
}

// Every worker locks its referral and does nothing if the referral has
// moved on: River runs a job at least once, and a reply, the portal or a
// second copy of the job may have acted first.

type dispatchWorker struct {
	river.WorkerDefaults[DispatchArgs]
	s *Service
}

func (w *dispatchWorker) Work(ctx context.Context, job *river.Job[DispatchArgs]) error {
	return pgx.BeginFunc(ctx, w.s.pool, func(tx pgx.Tx) error { return w.s.dispatch(ctx, tx, job.Args.ReferralID) })
}

type ackDeadlineWorker struct {
	river.WorkerDefaults[AckDeadlineArgs]
	s *Service
}

func (w *ackDeadlineWorker) Work(ctx context.Context, job *river.Job[AckDeadlineArgs]) error {
	return pgx.BeginFunc(ctx, w.s.pool, func(tx pgx.Tx) error { return w.s.ackDeadline(ctx, tx, job.Args.ReferralID) })
}

type serveDeadlineWorker struct {
	river.WorkerDefaults[ServeDeadlineArgs]
	s *Service
}

func (w *serveDeadlineWorker) Work(ctx context.Context, job *river.Job[ServeDeadlineArgs]) error {
	return pgx.BeginFunc(ctx, w.s.pool, func(tx pgx.Tx) error {
		return w.s.serveDeadline(ctx, tx, job.Args.ReferralID, job.Args.Stage)
	})
}

func (s *Service) dispatch(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	r, err := s.lock(ctx, tx, id)
	if err != nil || r.Status != Pending {
		return ignoreGone(err)
	}
	c, err := s.cases.CaseFacts(ctx, tx, r.CaseID)
	if errors.Is(err, casefile.ErrErased) {
		return s.move(ctx, tx, &r, Revoked, actorSystem, "case_erased")
	}
	if err != nil {
		return fmt.Errorf("referral: dispatch %s: %w", id, err)
	}
	n, err := s.notice(ctx, tx, &r, c.Reference)
	if err != nil {
		return err
	}
	if err := s.notifier.NotifyProvider(ctx, tx, n); err != nil {
		return fmt.Errorf("referral: notify provider for %s: %w", id, err)
	}
	return s.move(ctx, tx, &r, Notified, actorSystem, "dispatched")
}

func (s *Service) ackDeadline(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	r, err := s.lock(ctx, tx, id)
	if err != nil || (r.Status != Pending && r.Status != Notified) {
		return ignoreGone(err)
	}
	// River may run a scheduled job a little early (its scheduler looks
	// ahead); the deadline is ours, read from the injected clock.
	if wait := r.AckBy.Sub(s.now()); wait > 0 {
		return river.JobSnooze(wait)
	}
	return s.escalate(ctx, tx, &r, actorSystem, "ack_deadline_missed")
}

// NoticeFailed escalates a referral whose notice could not be delivered
// (the hotline calls it on a permanent carrier failure): waiting for the
// acknowledge-by deadline would only waste the time she has.
func (s *Service) NoticeFailed(ctx context.Context, tx pgx.Tx, referralID uuid.UUID) error {
	r, err := s.lock(ctx, tx, referralID)
	if err != nil || (r.Status != Pending && r.Status != Notified) {
		return err
	}
	return s.escalate(ctx, tx, &r, actorSystem, "notice_failed")
}

// Reasons on the events that mark serve-by milestones; such events keep the
// status (from = to) and make each milestone act once.
const (
	reasonServeNear     = "serve_deadline_near"
	reasonServeBreached = "serve_deadline_breached"
)

func (s *Service) serveDeadline(ctx context.Context, tx pgx.Tx, id uuid.UUID, stage string) error {
	r, err := s.lock(ctx, tx, id)
	if err != nil || !r.Status.Open() || r.ServeBy == nil {
		return ignoreGone(err)
	}
	at, reason := *r.ServeBy, reasonServeBreached
	switch stage {
	case stageNear:
		at, reason = nearAt(r.CreatedAt, *r.ServeBy), reasonServeNear
	case stageMissed:
	default:
		return river.JobCancel(fmt.Errorf("referral: unknown serve-deadline stage"))
	}
	now := s.now()
	if wait := at.Sub(now); wait > 0 {
		return river.JobSnooze(wait)
	} else if wait == 0 && stage == stageMissed {
		// serve-by is met up to and including its instant (serveBy,
		// Packet, Overdue): it is missed only once that instant is past.
		// A microsecond is PostgreSQL's precision.
		return river.JobSnooze(time.Microsecond)
	}
	done, err := referraldb.New(tx).MilestoneDone(ctx, r.ID, reason)
	if err != nil || done {
		return err
	}
	if err := s.event(ctx, tx, r.ID, r.Status, r.Status, actorSystem, reason, now); err != nil {
		return err
	}
	if stage == stageMissed {
		s.log.WarnContext(ctx, "referral: serve-by breached", "referral_id", r.ID, "case_id", r.CaseID)
		if err := referraldb.New(tx).MarkBreached(ctx, now, r.ID); err != nil {
			return err
		}
	}
	c, err := s.cases.CaseFacts(ctx, tx, r.CaseID)
	if err != nil {
		return s.caseGone(ctx, err, &r)
	}
	if stage == stageMissed {
		// The breach shows on the SLA board; the supervisor on call is told
		// too (once: the event above marks it done), or, with none on call,
		// the counsellor, or the fallback duty phones.
		_, _, err := s.roster.Alert(ctx, tx, s.notifier, roster.AlertServeDeadlineMissed, c.ID, c.Reference)
		return err
	}
	if err := s.followUp(ctx, tx, c.ID, casefile.FollowUpServeDeadline, r.Need); err != nil {
		return err
	}
	_, _, err = s.roster.Alert(ctx, tx, s.notifier, roster.AlertServeDeadlineNear, c.ID, c.Reference)
	return err
}

// ignoreGone treats a referral that no longer exists (its case was deleted)
// as done: there is nothing left to act on.
func ignoreGone(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
