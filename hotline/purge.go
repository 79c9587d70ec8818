package hotline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/jobs"
)

// Twilio keeps a log of every message (numbers and body) and every call
// (numbers, times) until the account deletes it. When her data is erased,
// and when a message or call passes its retention, the hotline asks Twilio
// to forget it too: a message's body is redacted, then the message is
// deleted; a call record is deleted. Each is a River job of its own, so a
// Twilio outage is retried (River's backoff, for days) without holding up
// the erasure; a job carries the Twilio sid alone, never a number or body.

// PurgeTwilioArgs is the hotline.twilio_purge job: exactly one of the sids.
type PurgeTwilioArgs struct {
	MessageSID string `json:"message_sid,omitempty"`
	CallSID    string `json:"call_sid,omitempty"`
}

// Kind implements river.JobArgs.
func (PurgeTwilioArgs) Kind() string { return "hotline.twilio_purge" }

// InsertOpts makes asking twice for one sid (her erasure, then retention)
// one job while it waits, runs or is done.
func (PurgeTwilioArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStateCompleted,
	}}}
}

// purgeDelay leaves a message or call that is still in flight at Twilio
// (the BORRAR that erased her, its TwiML reply) time to finish: Twilio
// refuses to delete one that is not.
const purgeDelay = time.Minute

type purgeWorker struct {
	river.WorkerDefaults[PurgeTwilioArgs]
	h *Hotline
}

func (w *purgeWorker) Work(ctx context.Context, job *river.Job[PurgeTwilioArgs]) error {
	return w.h.purgeTwilio(job.Args)
}

// purgeTwilio redacts and deletes a message, or deletes a call. It is
// idempotent: a record Twilio no longer has is done.
func (h *Hotline) purgeTwilio(a PurgeTwilioArgs) error {
	switch {
	case sidPattern.MatchString(a.MessageSID):
		_, err := h.sms.rest.Api.UpdateMessage(a.MessageSID, (&api.UpdateMessageParams{}).SetBody(""))
		if err == nil {
			err = h.sms.rest.Api.DeleteMessage(a.MessageSID, nil)
		}
		return purgeResult(err)
	case sidPattern.MatchString(a.CallSID):
		return purgeResult(h.sms.rest.Api.DeleteCall(a.CallSID, nil))
	default:
		return river.JobCancel(errors.New("hotline: twilio purge without a valid sid"))
	}
}

// purgeResult maps Twilio's answer: not found is done; anything else is
// retried, with Twilio's code only, since its text may quote a number.
func purgeResult(err error) error {
	var te *client.TwilioRestError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te) && te.Status == http.StatusNotFound:
		return nil
	case errors.As(err, &te):
		return fmt.Errorf("hotline: twilio purge: status %d, code %d", te.Status, te.Code)
	default:
		return errors.New("hotline: twilio purge: no answer")
	}
}

// EraseHook returns the casefile.EraseHook that forgets the calls of cases
// being erased, in the erasure's transaction: the rows that link a CallSid
// to the case (and the TwiML that named it) are deleted, and Twilio is asked
// to delete the call records, which tie the case's caller to her number.
// Pass it to casefile.WithEraseHook, after referral's.
func EraseHook(ins jobs.Inserter, clk clock.Clock) casefile.EraseHook {
	return func(ctx context.Context, tx pgx.Tx, cases []casefile.ErasedCase, at time.Time) error {
		ids := make([]uuid.UUID, len(cases))
		for i, c := range cases {
			ids[i] = c.ID
		}
		calls, err := collectSIDs(ctx, tx, `DELETE FROM voice_call WHERE case_id = ANY($1) RETURNING call_sid`, ids)
		if err != nil {
			return fmt.Errorf("hotline: erase calls: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM voice_event WHERE call_sid = ANY($1)`, calls); err != nil {
			return fmt.Errorf("hotline: erase calls: %w", err)
		}
		return enqueuePurges(ctx, tx, ins, clk.Now().Add(purgeDelay), nil, calls)
	}
}

// enqueuePurges queues, in tx, one purge job per message sid and per call
// sid, to run at at.
func enqueuePurges(ctx context.Context, tx pgx.Tx, ins jobs.Inserter, at time.Time, messageSIDs, callSIDs []string) error {
	opts := &river.InsertOpts{ScheduledAt: at}
	var args []PurgeTwilioArgs
	for _, s := range messageSIDs {
		args = append(args, PurgeTwilioArgs{MessageSID: s})
	}
	for _, s := range callSIDs {
		args = append(args, PurgeTwilioArgs{CallSID: s})
	}
	for _, a := range args {
		if _, err := ins.InsertTx(ctx, tx, a, opts); err != nil {
			return fmt.Errorf("hotline: queue twilio purge: %w", err)
		}
	}
	return nil
}
