package hotline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

type sendWorker struct {
	river.WorkerDefaults[SendSMSArgs]
	h *Hotline
}

// NextRetry backs off 10 s, 20 s, 40 s … capped at 10 minutes: River's
// default (attempt^4 seconds) would wait hours, past every message's use.
func (w *sendWorker) NextRetry(job *river.Job[SendSMSArgs]) time.Time {
	return time.Now().Add(retryDelay(job.Attempt))
}

// retryDelay is the wait after the given failed attempt.
func retryDelay(attempt int) time.Duration {
	return min(10*time.Second<<min(attempt-1, 6), 10*time.Minute)
}

// sendAttempts is how many tries, spaced by retryDelay, fit in a message's
// life (ttl): a temporary failure is retried for as long as the message is
// worth sending, and the last try is the one that gives up and raises the
// alarm.
func sendAttempts(ttl time.Duration) int {
	n, spent := 1, time.Duration(0)
	for spent+retryDelay(n) < ttl {
		spent += retryDelay(n)
		n++
	}
	return n
}

// lostAnswerWait is how long a send that got no answer waits for Twilio's
// status callback before it is tried again; callbacks come within seconds.
const lostAnswerWait = 2 * time.Minute

// sendTimeout bounds one send job, and so how long it holds its row: room
// for twilio-go's 10 s HTTP timeout and the commit.
const sendTimeout = 30 * time.Second

func (w *sendWorker) Timeout(*river.Job[SendSMSArgs]) time.Duration { return sendTimeout }

func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendSMSArgs]) error {
	return w.h.sendOutbound(ctx, job.Args.OutboundID, job.Attempt >= job.MaxAttempts)
}

// sendOutbound hands one row to Twilio. The row stays locked across the call
// so two deliveries of the job (River is at-least-once) cannot both send, and
// the status callback waits for the sid to be recorded. finalAttempt turns a
// temporary failure into a permanent one.
func (h *Hotline) sendOutbound(ctx context.Context, id uuid.UUID, finalAttempt bool) error {
	tx, err := h.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	r := outboundRow{id: id}
	err = tx.QueryRow(ctx, `SELECT purpose, referral_id, case_id, to_index, kek_id, wrapped_dek, to_sealed, body_sealed,
			status, not_before, expires_at
		FROM outbound_message WHERE id = $1 FOR UPDATE`, id).Scan(
		&r.purpose, &r.referralID, &r.caseID, &r.toIndex, &r.kekID, &r.wrapped, &r.toS, &r.bodyS,
		&r.status, &r.notBefore, &r.expiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.status != "pending" {
		return nil // already handed over, or stopped: at-least-once delivery of the job
	}
	now := h.clk.Now()
	if !now.Before(r.expiresAt) {
		return h.finish(ctx, tx, r, "expired", nil)
	}
	if r.purpose == purposeProvider && r.referralID != nil {
		// A retry of a notice whose request has since been withdrawn,
		// escalated or answered would ask the provider for what is no
		// longer wanted, perhaps after its withdrawal.
		open, err := h.referrals.StillOpen(ctx, tx, *r.referralID)
		if err != nil {
			return err
		}
		if !open {
			return h.finish(ctx, tx, r, "canceled", nil)
		}
	}
	to, body, err := h.openOutbound(r)
	if errors.Is(err, errGone) {
		return h.finish(ctx, tx, r, "canceled", nil)
	}
	if err != nil {
		// Its KEK left the keyring (retired before the re-wrap reached
		// it) or the row is damaged: no retry can open it, so it fails
		// now and raises the alarm, instead of retrying unseen until it
		// expires.
		h.log.Error("hotline: outbound message cannot be opened; not sent", "outbound_id", id, "purpose", r.purpose, "err", err)
		return h.finish(ctx, tx, r, "failed", nil)
	}
	due := r.notBefore
	if r.purpose == purposeSurvivor {
		// What she allows now, not when it was queued: she may have said
		// SALIR, been erased or changed her hours since.
		at, ok, err := h.survivorDue(ctx, tx, r.caseID, to, now)
		if err != nil {
			return err
		}
		if !ok {
			return h.finish(ctx, tx, r, "canceled", nil)
		}
		due = maxTime(due, at)
	}
	if due.After(now) {
		// Clocks moved, or a retry slid out of her hours: wait for them,
		// unless they open only after the message has lost its use.
		if !due.Before(r.expiresAt) {
			return h.finish(ctx, tx, r, "expired", nil)
		}
		if _, err := tx.Exec(ctx, `UPDATE outbound_message SET not_before = $2, updated_at = $3 WHERE id = $1`, id, due, now); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		return river.JobSnooze(due.Sub(now))
	}

	sid, status, err := h.sms.send(to, body, h.cfg.PublicURL+"/twilio/status?m="+id.String())
	var se *sendError
	switch {
	case err == nil:
		_, err = tx.Exec(ctx, `UPDATE outbound_message
			SET status = $2, status_rank = $3, twilio_sid = $4, attempts = attempts + 1, updated_at = $5
			WHERE id = $1`, id, status, max(statusRank[status], statusRank["queued"]), sid, h.clk.Now())
		if err != nil {
			return err
		}
		return tx.Commit(ctx)
	case errors.As(err, &se) && (se.permanent || finalAttempt):
		h.log.Warn("hotline: send failed permanently", "outbound_id", id, "error_code", se.code)
		return h.finish(ctx, tx, r, "failed", &se.code)
	case errors.As(err, &se):
		now := h.clk.Now()
		var wait time.Duration
		if se.lost {
			// Twilio may have taken it: if so its status callback adopts
			// this row (applyStatus) and the next run finds it handed
			// over. Retrying sooner would send the text twice.
			wait = lostAnswerWait
		}
		if _, err := tx.Exec(ctx, `UPDATE outbound_message SET attempts = attempts + 1, error_code = NULLIF($2, 0),
			not_before = $3, updated_at = $4 WHERE id = $1`, id, se.code, now.Add(wait), now); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		if wait > 0 {
			return river.JobSnooze(wait)
		}
		return se // content-free by construction: River stores it
	default:
		return fmt.Errorf("hotline: send: %w", err)
	}
}

// finish moves a pending row to a terminal state, shreds its content (it
// will never be read again) and raises the alarm when it did not go out for
// a reason other than her own STOP.
func (h *Hotline) finish(ctx context.Context, tx pgx.Tx, r outboundRow, status string, code *int) error {
	_, err := tx.Exec(ctx, `UPDATE outbound_message
		SET status = $2, status_rank = $3, error_code = $4, attempts = attempts + CASE WHEN $2 = 'failed' THEN 1 ELSE 0 END,
		    wrapped_dek = NULL, to_sealed = NULL, body_sealed = NULL, updated_at = $5
		WHERE id = $1`, r.id, status, statusRank[status], code, h.clk.Now())
	if err != nil {
		return err
	}
	if status != "canceled" {
		if err := h.deliveryFailed(ctx, tx, r); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
