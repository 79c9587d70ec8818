package hotline

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/amparo/amparo/hotline/internal/hotlinedb"
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

// A sweep shreds, or deletes, one batch of the rows past their time (each
// query says why its rows go) and returns how many it changed, with the
// Twilio sids that Twilio's log keeps of them. SKIP LOCKED leaves a row that
// a webhook or the sender is using to the next sweep.
type sweep struct {
	run func(ctx context.Context, q *hotlinedb.Queries, cutoff time.Time) (swept, error)
	// before is how long a row is kept: it is swept once older.
	before func(h *Hotline) time.Duration
	// outbox, instead of run, sweeps sms's outbound texts through sms.
	outbox bool
}

// swept is what one batch of a sweep changed.
type swept struct {
	n        int
	messages []string // sids of texts, for Twilio to forget
	calls    []string // sids of calls, likewise; may repeat
}

func keptForRetention(*Hotline) time.Duration { return messageRetention }

// sweeps run in order. The week of messageRetention is far past Twilio's
// retries of a webhook (within its 15 s timeout) and its status callbacks
// (hours at most), so by then no sid is needed to recognise a duplicate.
var sweeps = []sweep{
	// Her texts.
	{run: func(ctx context.Context, q *hotlinedb.Queries, cutoff time.Time) (swept, error) {
		sids, err := q.ShredOldInbound(ctx, cutoff, shredBatch)
		return swept{n: len(sids), messages: setSIDs(sids)}, err
	}, before: keptForRetention},
	// Ours (sms.Outbox.Shred).
	{outbox: true, before: keptForRetention},
	// A call's steps, and the link between the call and her case.
	{run: func(ctx context.Context, q *hotlinedb.Queries, cutoff time.Time) (swept, error) {
		sids, err := q.DeleteOldVoiceEvents(ctx, cutoff, shredBatch)
		return swept{n: len(sids), calls: sids}, err
	}, before: keptForRetention},
	{run: func(ctx context.Context, q *hotlinedb.Queries, cutoff time.Time) (swept, error) {
		sids, err := q.DeleteOldVoiceCalls(ctx, cutoff, shredBatch)
		return swept{n: len(sids), calls: sids}, err
	}, before: keptForRetention},
	// Rate counters whose window has passed.
	{run: func(ctx context.Context, q *hotlinedb.Queries, cutoff time.Time) (swept, error) {
		n, err := q.DeleteOldRateCounters(ctx, cutoff, shredBatch)
		return swept{n: int(n)}, err
	}, before: func(h *Hotline) time.Duration { return h.cfg.RateWindow }},
	// Blocks that are over.
	{run: func(ctx context.Context, q *hotlinedb.Queries, cutoff time.Time) (swept, error) {
		n, err := q.UnlinkEndedBlocks(ctx, cutoff, shredBatch)
		return swept{n: int(n)}, err
	}, before: func(*Hotline) time.Duration { return 0 }},
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
	done, err := sw.run(ctx, hotlinedb.New(tx), cutoff)
	if err != nil {
		return 0, err
	}
	if err := enqueuePurges(ctx, tx, h.jobs, h.clk.Now(), done.messages, slices.Compact(slices.Sorted(slices.Values(done.calls)))); err != nil {
		return 0, err
	}
	return done.n, tx.Commit(ctx)
}
