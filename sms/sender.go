package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/sms/internal/smsdb"
)

// Sender hands queued texts to Twilio (the sms.send job) and records what
// Twilio's status callbacks say of them. A text that will not arrive raises
// the alarm where it belongs: a provider notice escalates its referral, and
// anything else about a case becomes an urgent task for a caseworker.
type Sender struct {
	cfg       Config
	pool      *pgxpool.Pool
	keys      crypto.KeyWrapper
	texts     *Notifier
	cases     *casefile.Store
	referrals *referral.Service
	clk       clock.Clock
	log       *slog.Logger
	api       *twilioAPI
}

// SenderDeps are the Sender's collaborators. Notifier gives it the case
// store and what she allowed, applied again when a text to her is due.
type SenderDeps struct {
	Pool      *pgxpool.Pool
	Keys      crypto.KeyWrapper
	Notifier  *Notifier
	Referrals *referral.Service
	Clock     clock.Clock
	Log       *slog.Logger
}

// MaxPublicURL bounds AMPARO_PUBLIC_URL: the provider notice carries the
// portal's address, and must still fit two SMS segments
// (templates.TestSMSFitInTwoSegments measures it at this length).
const MaxPublicURL = 100

// NewSender checks cfg and builds the Sender. It also points the
// Notifier's provider notices at the portal's inbox under cfg.PublicURL.
func NewSender(cfg Config, d SenderDeps) (*Sender, error) {
	if cfg.PublicURL == "" || cfg.AuthToken == "" || cfg.AccountSID == "" || cfg.FromNumber == "" {
		return nil, errors.New("sms: AMPARO_PUBLIC_URL, TWILIO_AUTH_TOKEN, TWILIO_ACCOUNT_SID and TWILIO_FROM_NUMBER are required")
	}
	if d.Pool == nil || d.Keys == nil || d.Notifier == nil || d.Referrals == nil || d.Clock == nil {
		return nil, errors.New("sms: missing dependency")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	if len(cfg.PublicURL) > MaxPublicURL {
		return nil, fmt.Errorf("sms: AMPARO_PUBLIC_URL is longer than %d characters: the provider notice that carries it would not fit two SMS", MaxPublicURL)
	}
	d.Notifier.inbox = cfg.PublicURL + "/inbox"
	a, err := newTwilioAPI(cfg)
	if err != nil {
		return nil, err
	}
	return &Sender{cfg: cfg, pool: d.Pool, keys: d.Keys, texts: d.Notifier, cases: d.Notifier.cases,
		referrals: d.Referrals, clk: d.Clock, log: d.Log, api: a}, nil
}

// AddWorkers registers the sms River workers: the send job and the Twilio
// purge.
func AddWorkers(w *river.Workers, s *Sender) {
	river.AddWorker(w, &sendWorker{s: s})
	river.AddWorker(w, &purgeWorker{s: s})
}

type sendWorker struct {
	river.WorkerDefaults[SendArgs]
	s *Sender
}

// NextRetry backs off 10 s, 20 s, 40 s … capped at 10 minutes: River's
// default (attempt^4 seconds) would wait hours, past every message's use.
func (w *sendWorker) NextRetry(job *river.Job[SendArgs]) time.Time {
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

// LostAnswerWait is how long a send that got no answer waits for Twilio's
// status callback before it is tried again; callbacks come within seconds.
const LostAnswerWait = 2 * time.Minute

// SendTimeout bounds one send job, and so how long it holds its row: room
// for twilio-go's 10 s HTTP timeout and the commit.
const SendTimeout = 30 * time.Second

func (w *sendWorker) Timeout(*river.Job[SendArgs]) time.Duration { return SendTimeout }

func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	return w.s.Send(ctx, job.Args.OutboundID, job.Attempt >= job.MaxAttempts)
}

// Send hands one row to Twilio; the sms.send job calls it. The row stays locked across the call
// so two deliveries of the job (River is at-least-once) cannot both send, and
// the status callback waits for the sid to be recorded. finalAttempt turns a
// temporary failure into a permanent one.
func (s *Sender) Send(ctx context.Context, id uuid.UUID, finalAttempt bool) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	q := smsdb.New(tx)
	locked, err := q.LockOutbound(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	r := lockedRow(id, locked)
	if r.status != StatusPending {
		return nil // already handed over, or stopped: at-least-once delivery of the job
	}
	now := s.clk.Now()
	if !now.Before(r.expiresAt) {
		return s.finish(ctx, tx, r, StatusExpired, nil)
	}
	if r.purpose == PurposeProvider && r.referralID != nil {
		// A retry of a notice whose request has since been withdrawn,
		// escalated or answered would ask the provider for what is no
		// longer wanted, perhaps after its withdrawal.
		open, err := s.referrals.StillOpen(ctx, tx, *r.referralID)
		if err != nil {
			return err
		}
		if !open {
			return s.finish(ctx, tx, r, StatusCanceled, nil)
		}
	}
	to, body, err := openOutbound(s.keys, r)
	if errors.Is(err, errGone) {
		return s.finish(ctx, tx, r, StatusCanceled, nil)
	}
	if err != nil {
		// Its KEK left the keyring (retired before the re-wrap reached
		// it) or the row is damaged: no retry can open it, so it fails
		// now and raises the alarm, instead of retrying unseen until it
		// expires.
		s.log.Error("sms: outbound message cannot be opened; not sent", "outbound_id", id, "purpose", r.purpose, "err", err)
		return s.finish(ctx, tx, r, StatusFailed, nil)
	}
	due := r.notBefore
	if r.purpose == PurposeSurvivor {
		// What she allows now, not when it was queued: she may have said
		// SALIR, been erased or changed her hours since.
		at, ok, err := s.survivorDue(ctx, tx, r.caseID, to, now)
		if err != nil {
			return err
		}
		if !ok {
			return s.finish(ctx, tx, r, StatusCanceled, nil)
		}
		due = maxTime(due, at)
	}
	if due.After(now) {
		// Clocks moved, or a retry slid out of her hours: wait for them,
		// unless they open only after the message has lost its use.
		if !due.Before(r.expiresAt) {
			return s.finish(ctx, tx, r, StatusExpired, nil)
		}
		if err := q.Postpone(ctx, due, now, id); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		return river.JobSnooze(due.Sub(now))
	}

	sid, answer, err := s.api.send(to, body, s.cfg.PublicURL+"/twilio/status?m="+id.String())
	status := Status(answer)
	var se *SendError
	switch {
	case err == nil:
		err = q.HandedOver(ctx, smsdb.HandedOverParams{Status: string(status),
			StatusRank: max(statusRank[status], statusRank[StatusQueued]), TwilioSid: &sid, Now: s.clk.Now(), ID: id})
		if err != nil {
			return err
		}
		return tx.Commit(ctx)
	case errors.As(err, &se) && (se.Permanent || finalAttempt):
		s.log.Warn("sms: send failed permanently", "outbound_id", id, "error_code", se.Code)
		return s.finish(ctx, tx, r, StatusFailed, &se.Code)
	case errors.As(err, &se):
		now := s.clk.Now()
		var wait time.Duration
		if se.Lost {
			// Twilio may have taken it: if so its status callback adopts
			// this row (applyStatus) and the next run finds it handed
			// over. Retrying sooner would send the text twice.
			wait = LostAnswerWait
		}
		if err := q.SendFailedForNow(ctx, smsdb.SendFailedForNowParams{ErrorCode: int32(se.Code),
			NotBefore: now.Add(wait), Now: now, ID: id}); err != nil {
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
		return fmt.Errorf("sms: send: %w", err)
	}
}

// finish moves a pending row to a terminal state, shreds its content (it
// will never be read again) and raises the alarm when it did not go out for
// a reason other than her own STOP.
func (s *Sender) finish(ctx context.Context, tx pgx.Tx, r outboundRow, status Status, code *int) error {
	err := smsdb.New(tx).Finish(ctx, smsdb.FinishParams{Status: string(status), StatusRank: statusRank[status],
		ErrorCode: int32Ptr(code), Now: s.clk.Now(), ID: r.id})
	if err != nil {
		return err
	}
	if status != StatusCanceled {
		if err := s.deliveryFailed(ctx, tx, r); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// int32Ptr is a Twilio error code as the error_code column holds it.
func int32Ptr(code *int) *int32 {
	if code == nil {
		return nil
	}
	return ptr(int32(*code))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// deliveryFailed raises the alarm for a message that will not arrive, in
// the transaction that records the failure: a provider notice escalates the
// referral at once; anything about a case becomes an urgent caseworker task.
func (s *Sender) deliveryFailed(ctx context.Context, tx pgx.Tx, r outboundRow) error {
	s.log.Warn("sms: outbound message not delivered", "outbound_id", r.id, "purpose", r.purpose)
	if r.purpose == PurposeProvider && r.referralID != nil {
		return s.referrals.NoticeFailed(ctx, tx, *r.referralID)
	}
	if r.caseID != nil {
		err := s.cases.AddFollowUp(ctx, tx, *r.caseID, casefile.FollowUp{
			Kind: casefile.FollowUpDeliveryFailed, DueAt: s.clk.Now(), Urgent: true,
		})
		if caseGone(err) {
			return nil // erased since it was queued: no task to raise
		}
		return err
	}
	return nil
}

// ApplyStatus records a status callback (hotline authenticates it and
// passes it on). The row is matched by our id (from
// the callback URL) and Twilio's sid; a row whose sid is not yet recorded
// (the sender crashed between Twilio's answer and its commit) adopts it, so
// the retry sees the message went out instead of sending it twice.
func (s *Sender) ApplyStatus(ctx context.Context, id uuid.UUID, sid, answer string, errorCode *int) error {
	status := Status(answer)
	rank, known := statusRank[status]
	if !known {
		return nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	row, err := smsdb.New(tx).ApplyStatus(ctx, smsdb.ApplyStatusParams{Status: string(status), StatusRank: rank,
		TwilioSid: &sid, ErrorCode: int32Ptr(errorCode), Now: s.clk.Now(), ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // stale, repeated or foreign callback: nothing moves backwards
	}
	if err != nil {
		return err
	}
	if status.isFailure() {
		r := outboundRow{id: row.ID, purpose: Purpose(row.Purpose), referralID: row.ReferralID, caseID: row.CaseID}
		if err := s.deliveryFailed(ctx, tx, r); err != nil {
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
	// FailedLastHour counts texts failed or undelivered in the last hour.
	FailedLastHour int
}

// OutboxStats counts the pending texts, reading no content.
func (s *Sender) OutboxStats(ctx context.Context) (OutboxStats, error) {
	now := s.clk.Now()
	row, err := smsdb.New(s.pool).OutboxStats(ctx, now, now.Add(-time.Hour))
	if err != nil {
		return OutboxStats{}, fmt.Errorf("sms: outbox stats: %w", err)
	}
	st := OutboxStats{Pending: int(row.Pending), FailedLastHour: int(row.FailedLastHour)}
	// min() of no rows is NULL, which sqlc can only type as any.
	if due, ok := row.OldestDue.(time.Time); ok {
		st.OldestDue = now.Sub(due)
	}
	return st, nil
}
