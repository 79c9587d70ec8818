package sms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/jobs"
)

// SendArgs is the sms.send job: the row id only, since River keeps args in
// plain JSON.
type SendArgs struct {
	OutboundID uuid.UUID `json:"outbound_id"`
}

// Kind implements river.JobArgs.
func (SendArgs) Kind() string { return "sms.send" }

// outboundTable names the outbox's rows to crypto.RowKey: its data keys and
// sealed columns are bound to it.
const outboundTable = "outbound_message"

// outboundOwner and outboundBinding are RowKey's bindings spelled out, for
// the key rotation, which re-wraps a key rather than sealing with it.
func outboundOwner(id uuid.UUID) string { return outboundTable + "|" + id.String() }

func outboundBinding(id uuid.UUID, column string) crypto.Binding {
	return crypto.Binding{Table: outboundTable, Column: column, RowID: id.String()}
}

// Outbox queues outbound SMS: provider notices and withdrawals and staff
// alerts; Notifier adds texts to a survivor. It needs no case store, so
// casefile's erase hooks may hold it (see the package comment).
type Outbox struct {
	keys  crypto.KeyWrapper
	index *crypto.BlindIndex
	jobs  jobs.Inserter
	clk   clock.Clock
}

// NewOutbox returns an Outbox that inserts sms.send jobs with jobs.
func NewOutbox(keys crypto.KeyWrapper, index *crypto.BlindIndex, jobs jobs.Inserter, clk clock.Clock) *Outbox {
	return &Outbox{keys: keys, index: index, jobs: jobs, clk: clk}
}

// Enqueue writes the sealed row and its send job in the caller's
// transaction: the message exists if and only if the act that caused it
// commits. Texts to a survivor go through Notifier.EnqueueToSurvivor
// instead, which applies what she allowed.
func (o *Outbox) Enqueue(ctx context.Context, tx pgx.Tx, m Message) (uuid.UUID, error) {
	id := uuid.New()
	key, err := crypto.NewRowKey(o.keys, outboundTable, id.String())
	if err != nil {
		return uuid.Nil, err
	}
	toSealed, err := key.Seal("to", []byte(m.To))
	if err != nil {
		return uuid.Nil, err
	}
	bodySealed, err := key.Seal("body", []byte(m.Body))
	if err != nil {
		return uuid.Nil, err
	}
	now := o.clk.Now()
	notBefore := now.Add(m.Delay)
	_, err = tx.Exec(ctx, `INSERT INTO outbound_message
		(id, purpose, referral_id, case_id, to_index, index_key_id, kek_id, wrapped_dek, to_sealed, body_sealed,
		 not_before, expires_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
		id, m.Purpose, m.ReferralID, m.CaseID, o.index.Current(m.To), o.index.CurrentKeyID(), key.KEKID, key.Wrapped, toSealed, bodySealed,
		notBefore, now.Add(m.TTL), now)
	if err != nil {
		return uuid.Nil, fmt.Errorf("sms: insert outbound: %w", err)
	}
	opts := &river.InsertOpts{MaxAttempts: sendAttempts(m.TTL)}
	if notBefore.After(now) {
		opts.ScheduledAt = notBefore
	}
	if _, err := o.jobs.InsertTx(ctx, tx, SendArgs{OutboundID: id}, opts); err != nil {
		return uuid.Nil, fmt.Errorf("sms: insert send job: %w", err)
	}
	return id, nil
}

// statusRank orders delivery states so a row only moves forward. Terminal
// states share the top rank: none replaces another.
var statusRank = map[string]int{
	"pending": 0, "accepted": 1, "scheduled": 1, "queued": 2, "sending": 3, "sent": 4,
	"delivered": 9, "undelivered": 9, "failed": 9, "canceled": 9, "expired": 9,
}

func isFailure(status string) bool { return status == "undelivered" || status == "failed" }

// outboundRow is what the sender and the status callback need of a row.
type outboundRow struct {
	id                   uuid.UUID
	purpose              Purpose
	referralID, caseID   *uuid.UUID
	toIndex              []byte
	kekID                string
	wrapped, toS, bodyS  []byte
	status               string
	notBefore, expiresAt time.Time
}

var errGone = errors.New("sms: outbound message erased")

// openOutbound returns the recipient and body of a row.
func openOutbound(keys crypto.KeyWrapper, r outboundRow) (to, body string, err error) {
	if r.wrapped == nil {
		return "", "", errGone
	}
	key, err := crypto.OpenRowKey(keys, outboundTable, r.id.String(), r.kekID, r.wrapped)
	if err != nil {
		return "", "", err
	}
	t, err := key.Open("to", r.toS)
	if err != nil {
		return "", "", err
	}
	b, err := key.Open("body", r.bodyS)
	if err != nil {
		return "", "", err
	}
	return string(t), string(b), nil
}

// Stop records, in tx, that her number (candidates: its phone index under
// every accepted index key, the current one first) said SALIR/STOP: nothing
// the system starts goes to her any more (see Notifier.EnqueueToSurvivor),
// and every text to her not yet handed to Twilio is dropped and shredded.
// Replies to her own messages are not affected: they answer her in the
// webhook's response, not through the outbox.
func (o *Outbox) Stop(ctx context.Context, tx pgx.Tx, candidates [][]byte) error {
	if _, err := tx.Exec(ctx, `INSERT INTO sms_opt_out (phone_index, index_key_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		candidates[0], o.index.CurrentKeyID(), o.clk.Now()); err != nil {
		return fmt.Errorf("sms: opt-out: %w", err)
	}
	_, err := tx.Exec(ctx, `UPDATE outbound_message
		SET status = 'canceled', status_rank = $2, wrapped_dek = NULL, to_sealed = NULL, body_sealed = NULL, updated_at = $3
		WHERE to_index = ANY($1) AND purpose = $4 AND status = 'pending'`,
		candidates, statusRank["canceled"], o.clk.Now(), PurposeSurvivor)
	return err
}

// Resume lifts her SALIR, in tx, and says whether there was one.
func (o *Outbox) Resume(ctx context.Context, tx pgx.Tx, candidates [][]byte) (lifted bool, err error) {
	tag, err := tx.Exec(ctx, `DELETE FROM sms_opt_out WHERE phone_index = ANY($1)`, candidates)
	if err != nil {
		return false, fmt.Errorf("sms: opt-out: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// Shred shreds, in tx, up to limit texts created before cutoff that still
// hold a recipient index or a Twilio sid: body, recipient and its index,
// key, and the sid go; the row keeps its id, status and times for the
// statistics. A row finished early (sent, failed, canceled) shed its key
// then, but kept the rest. SKIP LOCKED leaves a text the sender holds to
// the next sweep. It returns the sids Twilio's log keeps, for the caller
// to have Twilio forget, and how many rows it changed.
func (o *Outbox) Shred(ctx context.Context, tx pgx.Tx, cutoff time.Time, limit int) (sids []string, n int, err error) {
	rows, err := tx.Query(ctx, `WITH old AS (SELECT id, twilio_sid FROM outbound_message WHERE (to_index IS NOT NULL OR twilio_sid IS NOT NULL)
			AND created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED),
		done AS (UPDATE outbound_message o SET to_index = NULL, index_key_id = NULL, kek_id = NULL, wrapped_dek = NULL,
			to_sealed = NULL, body_sealed = NULL, twilio_sid = NULL FROM old WHERE o.id = old.id)
		SELECT twilio_sid FROM old`, cutoff, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("sms: shred: %w", err)
	}
	all, err := pgx.CollectRows(rows, pgx.RowTo[*string])
	if err != nil {
		return nil, 0, fmt.Errorf("sms: shred: %w", err)
	}
	for _, s := range all {
		if s != nil {
			sids = append(sids, *s)
		}
	}
	return sids, len(all), nil
}

// ForgetRecipient shreds, in tx, every text to her number (any of her phone
// index candidates), whatever its purpose: pending ones are canceled, and
// every row loses its key, content and her phone index. It returns the
// Twilio sids of those that went out, for the caller to have Twilio forget
// them too.
func (o *Outbox) ForgetRecipient(ctx context.Context, tx pgx.Tx, candidates [][]byte) ([]string, error) {
	rows, err := tx.Query(ctx, `UPDATE outbound_message SET status = CASE WHEN status = 'pending' THEN 'canceled' ELSE status END,
			status_rank = CASE WHEN status = 'pending' THEN $3 ELSE status_rank END, to_index = NULL, index_key_id = NULL,
			wrapped_dek = NULL, to_sealed = NULL, body_sealed = NULL, updated_at = $2
		WHERE to_index = ANY($1) RETURNING twilio_sid`, candidates, o.clk.Now(), statusRank["canceled"])
	if err != nil {
		return nil, err
	}
	sids, err := pgx.CollectRows(rows, pgx.RowTo[*string])
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range sids {
		if s != nil {
			out = append(out, *s)
		}
	}
	return out, nil
}
