package hotline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/jobs"
)

// Purposes of outbound messages; each fails differently (see deliveryFailed).
const (
	purposeProvider   = "provider_notice"
	purposeWithdrawal = "provider_withdrawal"
	purposeStaff      = "staff_alert"
	purposeSurvivor   = "survivor"
)

// How long a message stays worth sending. A provider notice older than its
// acknowledge window only confuses (referral escalation has moved on); a staff
// alert is about "now"; a message to her must not arrive a day late, when her
// situation (and who holds her phone) may have changed.
const (
	providerNoticeTTL = 2 * time.Hour
	staffAlertTTL     = 30 * time.Minute
	survivorTTL       = 24 * time.Hour
	// A provider that accepted a request may act on it a day later: its
	// withdrawal is worth delivering late rather than never.
	withdrawalTTL = 24 * time.Hour
)

// outbound is a message the system starts.
type outbound struct {
	purpose    string
	referralID *uuid.UUID
	caseID     *uuid.UUID
	to         string // E.164
	body       string
	ttl        time.Duration
	delay      time.Duration // from now until it may be sent
}

// SendSMSArgs is the hotline.send_sms job: the row id only, since River
// keeps args in plain JSON.
type SendSMSArgs struct {
	OutboundID uuid.UUID `json:"outbound_id"`
}

// Kind implements river.JobArgs.
func (SendSMSArgs) Kind() string { return "hotline.send_sms" }

func outboundBinding(id uuid.UUID, column string) crypto.Binding {
	return crypto.Binding{Table: "outbound_message", Column: column, RowID: id.String()}
}

// Outbox queues outbound SMS. It implements referral.Notifier, and is built
// before the referral service and the hotline, which both need it.
type Outbox struct {
	keys  crypto.KeyWrapper
	index *crypto.BlindIndex
	jobs  jobs.Inserter
	clk   clock.Clock
	// cases is set by New: the case store is built after the Outbox,
	// whose withdrawals its erasure hook sends.
	cases *casefile.Store
}

// NewOutbox returns an Outbox that inserts hotline.send_sms jobs with jobs.
func NewOutbox(keys crypto.KeyWrapper, index *crypto.BlindIndex, jobs jobs.Inserter, clk clock.Clock) *Outbox {
	return &Outbox{keys: keys, index: index, jobs: jobs, clk: clk}
}

// enqueue writes the sealed row and its send job in the caller's
// transaction: the message exists if and only if the act that caused it
// commits.
func (h *Outbox) enqueue(ctx context.Context, tx pgx.Tx, o outbound) (uuid.UUID, error) {
	id := uuid.New()
	dek, err := crypto.NewDataKey()
	if err != nil {
		return uuid.Nil, err
	}
	kekID, wrapped, err := crypto.WrapDataKey(h.keys, dek, "outbound_message|"+id.String())
	if err != nil {
		return uuid.Nil, err
	}
	toSealed, err := dek.Seal([]byte(o.to), outboundBinding(id, "to"))
	if err != nil {
		return uuid.Nil, err
	}
	bodySealed, err := dek.Seal([]byte(o.body), outboundBinding(id, "body"))
	if err != nil {
		return uuid.Nil, err
	}
	now := h.clk.Now()
	notBefore := now.Add(o.delay)
	_, err = tx.Exec(ctx, `INSERT INTO outbound_message
		(id, purpose, referral_id, case_id, to_index, index_key_id, kek_id, wrapped_dek, to_sealed, body_sealed,
		 not_before, expires_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
		id, o.purpose, o.referralID, o.caseID, h.index.Current(o.to), h.index.CurrentKeyID(), kekID, wrapped, toSealed, bodySealed,
		notBefore, now.Add(o.ttl), now)
	if err != nil {
		return uuid.Nil, fmt.Errorf("hotline: insert outbound: %w", err)
	}
	opts := &river.InsertOpts{MaxAttempts: sendAttempts(o.ttl)}
	if notBefore.After(now) {
		opts.ScheduledAt = notBefore
	}
	if _, err := h.jobs.InsertTx(ctx, tx, SendSMSArgs{OutboundID: id}, opts); err != nil {
		return uuid.Nil, fmt.Errorf("hotline: insert send job: %w", err)
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
	purpose              string
	referralID, caseID   *uuid.UUID
	toIndex              []byte
	kekID                string
	wrapped, toS, bodyS  []byte
	status               string
	notBefore, expiresAt time.Time
}

var errGone = errors.New("hotline: outbound message erased")

// open returns the recipient and body of a row.
func (h *Hotline) openOutbound(r outboundRow) (to, body string, err error) {
	if r.wrapped == nil {
		return "", "", errGone
	}
	dek, err := crypto.UnwrapDataKey(h.keys, r.kekID, r.wrapped, "outbound_message|"+r.id.String())
	if err != nil {
		return "", "", err
	}
	t, err := dek.Open(r.toS, outboundBinding(r.id, "to"))
	if err != nil {
		return "", "", err
	}
	b, err := dek.Open(r.bodyS, outboundBinding(r.id, "body"))
	if err != nil {
		return "", "", err
	}
	return string(t), string(b), nil
}

// deliveryFailed raises the alarm for a message that will not arrive, in
// the transaction that records the failure: a provider notice escalates the
// referral at once; anything about a case becomes an urgent caseworker task.
func (h *Hotline) deliveryFailed(ctx context.Context, tx pgx.Tx, r outboundRow) error {
	h.log.Warn("hotline: outbound message not delivered", "outbound_id", r.id, "purpose", r.purpose)
	if r.purpose == purposeProvider && r.referralID != nil {
		return h.referrals.NoticeFailed(ctx, tx, *r.referralID)
	}
	if r.caseID != nil {
		err := h.cases.AddFollowUp(ctx, tx, *r.caseID, casefile.FollowUp{
			Kind: "delivery_failed", DueAt: h.clk.Now(), Urgent: true,
		})
		if caseGone(err) {
			return nil // erased since it was queued: no task to raise
		}
		return err
	}
	return nil
}

// applyStatus records a status callback. The row is matched by our id (from
// the callback URL) and Twilio's sid; a row whose sid is not yet recorded
// (the sender crashed between Twilio's answer and its commit) adopts it, so
// the retry sees the message went out instead of sending it twice.
func (h *Hotline) applyStatus(ctx context.Context, id uuid.UUID, sid, status string, errorCode *int) error {
	rank, known := statusRank[status]
	if !known {
		return nil
	}
	tx, err := h.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var r outboundRow
	err = tx.QueryRow(ctx, `UPDATE outbound_message
		SET status = $3, status_rank = $4, twilio_sid = $2, error_code = COALESCE($5, error_code), updated_at = $6
		WHERE id = $1 AND (twilio_sid = $2 OR twilio_sid IS NULL) AND status_rank < $4
		RETURNING id, purpose, referral_id, case_id`,
		id, sid, status, rank, errorCode, h.clk.Now()).Scan(&r.id, &r.purpose, &r.referralID, &r.caseID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // stale, repeated or foreign callback: nothing moves backwards
	}
	if err != nil {
		return err
	}
	if isFailure(status) {
		if err := h.deliveryFailed(ctx, tx, r); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// OutboxStats are the texts waiting to be handed to Twilio.
type OutboxStats struct {
	Pending int // queued and not yet handed over, including those waiting for her hours
	// OldestDue is how long the oldest text that may be sent now has
	// waited: it grows when Twilio refuses, or no sender runs.
	OldestDue time.Duration
}

// OutboxStats counts the pending texts, reading no content.
func (h *Hotline) OutboxStats(ctx context.Context) (OutboxStats, error) {
	now := h.clk.Now()
	var (
		st  OutboxStats
		due *time.Time
	)
	err := h.pool.QueryRow(ctx, `SELECT count(*), min(not_before) FILTER (WHERE not_before <= $1)
		FROM outbound_message WHERE status = 'pending'`, now).Scan(&st.Pending, &due)
	if err != nil {
		return OutboxStats{}, fmt.Errorf("hotline: outbox stats: %w", err)
	}
	if due != nil {
		st.OldestDue = now.Sub(*due)
	}
	return st, nil
}
