package hotline

import (
	"context"
	"fmt"
	"time"

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
// she wrote, or was written to.
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

// shredQueries shred one batch each of the rows older than $1. SKIP LOCKED
// leaves a row that a webhook or the sender is using to the next sweep.
var shredQueries = []string{
	`UPDATE inbound_message SET phone_index = NULL, kek_id = NULL, wrapped_dek = NULL, body_sealed = NULL, reply_sealed = NULL
	WHERE id IN (SELECT id FROM inbound_message WHERE wrapped_dek IS NOT NULL AND received_at < $1
		ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	`UPDATE outbound_message SET to_index = NULL, kek_id = NULL, wrapped_dek = NULL, to_sealed = NULL, body_sealed = NULL
	WHERE id IN (SELECT id FROM outbound_message WHERE wrapped_dek IS NOT NULL AND created_at < $1
		ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
}

// ShredOldMessages shreds every message text older than messageRetention
// and returns how many rows it shredded.
func (h *Hotline) ShredOldMessages(ctx context.Context) (int, error) {
	cutoff := h.clk.Now().Add(-messageRetention)
	total := 0
	for _, q := range shredQueries {
		for {
			tag, err := h.pool.Exec(ctx, q, cutoff, shredBatch)
			if err != nil {
				return total, fmt.Errorf("hotline: shred messages: %w", err)
			}
			total += int(tag.RowsAffected())
			if tag.RowsAffected() < shredBatch {
				break
			}
		}
	}
	if total > 0 {
		h.log.Info("hotline: message texts shredded", "rows", total)
	}
	return total, nil
}
