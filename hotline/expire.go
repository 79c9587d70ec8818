package hotline

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/hotline/internal/hotlinedb"
	"github.com/amparo/amparo/roster"
)

// ExpireArgs is the periodic sweep for abandoned conversations.
type ExpireArgs struct{}

// Kind implements river.JobArgs.
func (ExpireArgs) Kind() string { return "hotline.expire_conversations" }

// expireEvery is how often the sweep runs; a danger callback waits at most
// IdleAfter plus this.
const expireEvery = 5 * time.Minute

type expireWorker struct {
	river.WorkerDefaults[ExpireArgs]
	h *Hotline
}

func (w *expireWorker) Work(ctx context.Context, _ *river.Job[ExpireArgs]) error {
	_, err := w.h.ExpireIdle(ctx)
	return err
}

// expireBatch bounds one transaction of the sweep.
const expireBatch = 100

// ExpireIdle closes every conversation idle for longer than IdleAfter and
// returns how many it closed. SKIP LOCKED leaves a conversation that is
// being answered right now to that message.
func (h *Hotline) ExpireIdle(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := h.expireBatch(ctx)
		total += n
		if err != nil || n < expireBatch {
			return total, err
		}
	}
}

func (h *Hotline) expireBatch(ctx context.Context) (int, error) {
	tx, err := h.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	batch, err := hotlinedb.New(tx).IdleConversations(ctx, h.clk.Now().Add(-h.cfg.IdleAfter), expireBatch)
	if err != nil {
		return 0, err
	}
	for _, c := range batch {
		if err := h.abandon(ctx, tx, c.ID, c.CaseID, c.Danger); err != nil {
			return 0, err
		}
	}
	return len(batch), tx.Commit(ctx)
}

// abandon expires a conversation. One that still owes a callback (she said
// she was in danger and her answers never went into a case) becomes an
// urgent callback for a counsellor: the silence may be the danger.
func (h *Hotline) abandon(ctx context.Context, tx pgx.Tx, id uuid.UUID, caseID *uuid.UUID, danger bool) error {
	if err := h.closeConversation(ctx, tx, id, "expired"); err != nil {
		return err
	}
	h.log.Info("hotline: conversation expired", "conversation_id", id, "danger", danger)
	if !danger || caseID == nil {
		return nil
	}
	return h.callBack(ctx, tx, *caseID)
}

// callBack files an urgent callback for a counsellor on the case and alerts
// whoever is on call.
func (h *Hotline) callBack(ctx context.Context, tx pgx.Tx, caseID uuid.UUID) error {
	err := h.cases.AddFollowUp(ctx, tx, caseID, casefile.FollowUp{Kind: casefile.FollowUpCallback, DueAt: h.clk.Now(), Urgent: true})
	if caseGone(err) {
		// Erased meanwhile (at her request, or by staff): there is nobody
		// to call back, and failing here would jam her next text and the
		// whole expiry sweep on this one row.
		h.log.Info("hotline: no callback for an erased case", "case_id", caseID)
		return nil
	}
	if err != nil {
		return err
	}
	ref, err := h.cases.Reference(ctx, tx, caseID)
	if err != nil {
		return err
	}
	return h.alertOnCall(ctx, tx, roster.AlertCallback, caseID, ref)
}

// alertOnCall sends a staff alert of kind about the case (its id and
// reference) to whoever answers for kind now.
func (h *Hotline) alertOnCall(ctx context.Context, tx pgx.Tx, kind roster.AlertKind, caseID uuid.UUID, ref string) error {
	n, _, err := h.roster.Alert(ctx, tx, h.out, kind, caseID, ref)
	if err == nil && n == 0 {
		h.log.Warn("hotline: nobody on call to alert", "case_id", caseID, "kind", kind)
	}
	return err
}

// caseGone reports an error that means the case no longer exists to act on.
func caseGone(err error) bool {
	return errors.Is(err, casefile.ErrErased) || errors.Is(err, casefile.ErrNotFound)
}
