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
	"github.com/amparo/amparo/sms/internal/smsdb"
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
	err = smsdb.New(tx).InsertOutbound(ctx, smsdb.InsertOutboundParams{
		ID: id, Purpose: string(m.Purpose), ReferralID: m.ReferralID, CaseID: m.CaseID,
		ToIndex: o.index.Current(m.To), IndexKeyID: ptr(o.index.CurrentKeyID()), KekID: &key.KEKID, WrappedDek: key.Wrapped,
		ToSealed: toSealed, BodySealed: bodySealed, NotBefore: notBefore, ExpiresAt: now.Add(m.TTL), Now: now,
	})
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

// outboundRow is what the sender and the status callback need of a row.
type outboundRow struct {
	id                   uuid.UUID
	purpose              Purpose
	referralID, caseID   *uuid.UUID
	toIndex              []byte
	kekID                *string
	wrapped, toS, bodyS  []byte
	status               Status
	notBefore, expiresAt time.Time
}

// lockedRow is the row Send locked.
func lockedRow(id uuid.UUID, r smsdb.LockOutboundRow) outboundRow {
	return outboundRow{id: id, purpose: Purpose(r.Purpose), referralID: r.ReferralID, caseID: r.CaseID, toIndex: r.ToIndex,
		kekID: r.KekID, wrapped: r.WrappedDek, toS: r.ToSealed, bodyS: r.BodySealed, status: Status(r.Status),
		notBefore: r.NotBefore, expiresAt: r.ExpiresAt}
}

func ptr[T any](v T) *T { return &v }

// sidsOf drops the rows that never had a Twilio sid.
func sidsOf(all []*string) []string {
	var out []string
	for _, s := range all {
		if s != nil {
			out = append(out, *s)
		}
	}
	return out
}

var errGone = errors.New("sms: outbound message erased")

// openOutbound returns the recipient and body of a row.
func openOutbound(keys crypto.KeyWrapper, r outboundRow) (to, body string, err error) {
	if r.wrapped == nil || r.kekID == nil {
		return "", "", errGone
	}
	key, err := crypto.OpenRowKey(keys, outboundTable, r.id.String(), *r.kekID, r.wrapped)
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
	q := smsdb.New(tx)
	if err := q.InsertOptOut(ctx, candidates[0], ptr(o.index.CurrentKeyID()), o.clk.Now()); err != nil {
		return fmt.Errorf("sms: opt-out: %w", err)
	}
	return q.CancelPendingToRecipient(ctx, smsdb.CancelPendingToRecipientParams{
		StatusRank: statusRank[StatusCanceled], Now: o.clk.Now(), Candidates: candidates, Purpose: string(PurposeSurvivor),
	})
}

// Resume lifts her SALIR, in tx, and says whether there was one.
func (o *Outbox) Resume(ctx context.Context, tx pgx.Tx, candidates [][]byte) (lifted bool, err error) {
	n, err := smsdb.New(tx).DeleteOptOut(ctx, candidates)
	if err != nil {
		return false, fmt.Errorf("sms: opt-out: %w", err)
	}
	return n > 0, nil
}

// Shred shreds, in tx, up to limit texts created before cutoff that still
// hold a recipient index or a Twilio sid: body, recipient and its index,
// key, and the sid go; the row keeps its id, status and times for the
// statistics. A row finished early (sent, failed, canceled) shed its key
// then, but kept the rest. SKIP LOCKED leaves a text the sender holds to
// the next sweep. It returns the sids Twilio's log keeps, for the caller
// to have Twilio forget, and how many rows it changed.
func (o *Outbox) Shred(ctx context.Context, tx pgx.Tx, cutoff time.Time, limit int) (sids []string, n int, err error) {
	all, err := smsdb.New(tx).Shred(ctx, cutoff, int32(limit))
	if err != nil {
		return nil, 0, fmt.Errorf("sms: shred: %w", err)
	}
	return sidsOf(all), len(all), nil
}

// ForgetRecipient shreds, in tx, every text to her number (any of her phone
// index candidates), whatever its purpose: pending ones are canceled, and
// every row loses its key, content and her phone index. It returns the
// Twilio sids of those that went out, for the caller to have Twilio forget
// them too.
func (o *Outbox) ForgetRecipient(ctx context.Context, tx pgx.Tx, candidates [][]byte) ([]string, error) {
	all, err := smsdb.New(tx).ForgetRecipient(ctx, statusRank[StatusCanceled], o.clk.Now(), candidates)
	if err != nil {
		return nil, err
	}
	return sidsOf(all), nil
}
