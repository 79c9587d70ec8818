package hotline

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/hotline/internal/hotlinedb"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/jobs"
	"github.com/amparo/amparo/sms"
)

// purgeDelay leaves a message or call that is still in flight at Twilio
// (the BORRAR that erased her, its TwiML reply) time to finish: Twilio
// refuses to delete one that is not.
const purgeDelay = time.Minute

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
		q := hotlinedb.New(tx)
		calls, err := q.EraseCalls(ctx, ids)
		if err != nil {
			return fmt.Errorf("hotline: erase calls: %w", err)
		}
		if err := q.EraseCallEvents(ctx, calls); err != nil {
			return fmt.Errorf("hotline: erase calls: %w", err)
		}
		return enqueuePurges(ctx, tx, ins, clk.Now().Add(purgeDelay), nil, calls)
	}
}

// enqueuePurges queues, in tx, one sms purge job per message sid and per
// call sid, to run at at: sms is who talks to Twilio's REST API.
func enqueuePurges(ctx context.Context, tx pgx.Tx, ins jobs.Inserter, at time.Time, messageSIDs, callSIDs []string) error {
	opts := &river.InsertOpts{ScheduledAt: at}
	var args []sms.PurgeArgs
	for _, s := range messageSIDs {
		args = append(args, sms.PurgeArgs{MessageSID: s})
	}
	for _, s := range callSIDs {
		args = append(args, sms.PurgeArgs{CallSID: s})
	}
	for _, a := range args {
		if _, err := ins.InsertTx(ctx, tx, a, opts); err != nil {
			return fmt.Errorf("hotline: queue twilio purge: %w", err)
		}
	}
	return nil
}
