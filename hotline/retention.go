package hotline

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// Message texts are kept only while they serve. An inbound text's stored
// reply answers Twilio's retries of its webhook, which come within minutes;
// what she said lives on in her conversation and case. An outbound text's
// body is needed until it is handed over and its fate known, and no message
// lives longer than withdrawalTTL. Past that, a sealed copy only multiplies
// her words, her number and what staff were told about her: copies sealed
// under each row's own key, which erasing a case (whose key seals only the
// case) does not reach. So they are shredded: key and ciphertexts are
// dropped, the row keeps its id, outcome or status and times for the
// statistics. The phone indexes go too: they tied her number to the times
// she wrote, or was written to; and so do the Twilio sids, which Twilio's
// log ties to her number: Twilio is asked to forget them too (purge.go).
const messageRetention = 7 * 24 * time.Hour

// shredEvery is how often the retention sweep runs.
const shredEvery = time.Hour

// shredBatch bounds one statement of the sweep.
const shredBatch = 500

// ShredMessagesArgs is the periodic retention sweep.
type ShredMessagesArgs struct{}

// Kind implements river.JobArgs.
func (ShredMessagesArgs) Kind() string { return "hotline.shred_messages" }

type shredWorker struct {
	river.WorkerDefaults[ShredMessagesArgs]
	h *Hotline
}

// Timeout leaves room for the first sweep after an upgrade, which works
// through the whole backlog; each batch commits on its own anyway.
func (w *shredWorker) Timeout(*river.Job[ShredMessagesArgs]) time.Duration { return 10 * time.Minute }

func (w *shredWorker) Work(ctx context.Context, _ *river.Job[ShredMessagesArgs]) error {
	_, err := w.h.ShredOldMessages(ctx)
	return err
}

// A sweep shreds, or deletes, one batch of the rows past their time ($1)
// and returns one row per row it changed: the Twilio sid that Twilio's log
// keeps of it (kind "message" or "call"), or NULL. SKIP LOCKED leaves a row
// that a webhook or the sender is using to the next sweep.
type sweep struct {
	sql string
	// before is how long a row is kept: it is swept once older.
	before func(h *Hotline) time.Duration
	// outbox, instead of sql, sweeps sms's outbound texts through sms.
	outbox bool
}

func keptForRetention(*Hotline) time.Duration { return messageRetention }

// sweeps run in order. The week of messageRetention is far past Twilio's
// retries of a webhook (within its 15 s timeout) and its status callbacks
// (hours at most), so by then no sid is needed to recognise a duplicate.
var sweeps = []sweep{
	// Her texts: body, reply, key, index, and the sid.
	{`WITH old AS (SELECT id, message_sid FROM inbound_message WHERE message_sid IS NOT NULL AND received_at < $1
			ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED),
		done AS (UPDATE inbound_message i SET phone_index = NULL, index_key_id = NULL, kek_id = NULL, wrapped_dek = NULL,
			body_sealed = NULL, reply_sealed = NULL, message_sid = NULL FROM old WHERE i.id = old.id)
		SELECT 'message', message_sid FROM old`, keptForRetention, false},
	// Ours (sms.Outbox.Shred).
	{outbox: true, before: keptForRetention},
	// A call's steps, and the link between the call and her case.
	{`DELETE FROM voice_event WHERE id IN (SELECT id FROM voice_event WHERE at < $1 ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING 'call', call_sid`, keptForRetention, false},
	{`DELETE FROM voice_call WHERE call_sid IN (SELECT call_sid FROM voice_call WHERE at < $1 ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING 'call', call_sid`, keptForRetention, false},
	// A rate counter whose window has passed counts nothing any more, but
	// still says when her number last wrote.
	{`DELETE FROM caller_rate WHERE phone_index IN (SELECT phone_index FROM caller_rate WHERE window_start < $1
		LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING '', NULL::text`, func(h *Hotline) time.Duration { return h.cfg.RateWindow }, false},
	// A block that is over blocks nothing: its reason and times stay, for
	// the record, but not whom it was about.
	{`UPDATE caller_block SET phone_index = NULL, index_key_id = NULL WHERE id IN (SELECT id FROM caller_block
		WHERE phone_index IS NOT NULL AND (lifted_at IS NOT NULL OR until < $1) LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING '', NULL::text`, func(*Hotline) time.Duration { return 0 }, false},
}

// ShredOldMessages runs every sweep until it finds nothing more, asks
// Twilio to forget what it swept, and returns how many rows it changed.
func (h *Hotline) ShredOldMessages(ctx context.Context) (int, error) {
	total := 0
	for _, sw := range sweeps {
		cutoff := h.clk.Now().Add(-sw.before(h))
		for {
			n, err := h.sweepBatch(ctx, sw, cutoff)
			total += n
			if err != nil {
				return total, fmt.Errorf("hotline: retention sweep: %w", err)
			}
			if n < shredBatch {
				break
			}
		}
	}
	if total > 0 {
		h.log.Info("hotline: retention sweep", "rows", total)
	}
	return total, nil
}

// sweepBatch runs one batch of a sweep and queues the Twilio purges of what
// it swept, in one transaction: a sid is dropped here only together with
// the job that has Twilio drop it.
func (h *Hotline) sweepBatch(ctx context.Context, sw sweep, cutoff time.Time) (int, error) {
	tx, err := h.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	if sw.outbox {
		sids, n, err := h.out.Shred(ctx, tx, cutoff, shredBatch)
		if err != nil {
			return 0, err
		}
		if err := enqueuePurges(ctx, tx, h.jobs, h.clk.Now(), sids, nil); err != nil {
			return 0, err
		}
		return n, tx.Commit(ctx)
	}
	rows, err := tx.Query(ctx, sw.sql, cutoff, shredBatch)
	if err != nil {
		return 0, err
	}
	var (
		kind     string
		sid      *string
		n        int
		messages []string
		calls    []string
	)
	_, err = pgx.ForEachRow(rows, []any{&kind, &sid}, func() error {
		n++
		switch {
		case sid == nil:
		case kind == "message":
			messages = append(messages, *sid)
		case kind == "call":
			calls = append(calls, *sid)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := enqueuePurges(ctx, tx, h.jobs, h.clk.Now(), messages, slices.Compact(slices.Sorted(slices.Values(calls)))); err != nil {
		return 0, err
	}
	return n, tx.Commit(ctx)
}
