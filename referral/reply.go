package referral

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/amparo/amparo/internal/fold"
	"github.com/amparo/amparo/referral/internal/referraldb"
	"github.com/amparo/amparo/roster"
)

// ReplyOutcome says what a provider's SMS did.
type ReplyOutcome struct {
	// Handled is false when the sender is not a provider's duty phone: the
	// hotline then treats the message as a survivor's.
	Handled    bool
	Result     string    // one of the Reply* constants
	ReferralID uuid.UUID // the referral acted on, when there was one
}

// Results of HandleProviderReply.
const (
	ReplyAcknowledged = "acknowledged"
	ReplyDeclined     = "declined"
	ReplyUnknownCode  = "unknown_code" // no open referral for this code and this phone
	ReplyStale        = "stale"        // the referral has moved past what the reply could do
	ReplyRateLimited  = "rate_limited"
	ReplyBadFormat    = "bad_format"
	// ReplyCodesLocked: the phone sent too many codes that matched nothing
	// (WithWrongCodeLimit); no code from it is read until the window ends.
	ReplyCodesLocked = "codes_locked"
	// ReplyPassedOn: the code's referral escalated to another service
	// (within codeQuarantine); ReplyWithdrawn: it was revoked. A late
	// answer is told what became of the request, not that its code means
	// nothing.
	ReplyPassedOn  = "passed_on"
	ReplyWithdrawn = "withdrawn"
)

// Reply verbs. The vocabulary is deliberately small so that ordinary chat
// from a duty phone is never read as an answer:
//
//	acknowledge: OK, SI, SÍ, ACEPTO
//	decline:     NO, RECHAZO
//
// followed by the four-digit code, e.g. "OK 4821", "sí 4821", "No-4821",
// "ok4821". Case, accents, surrounding spaces and punctuation between or
// around the two parts are ignored; anything else makes it bad_format.
var (
	ackVerbs     = []string{"OK", "SI", "ACEPTO"}
	declineVerbs = []string{"NO", "RECHAZO"}
)

// maxReplyLen bounds the work spent on a message from outside.
const maxReplyLen = 64

// ParseReply reads a reply to a coded text ("OK 4821", "NO 4821"); ok is
// false when text is not one. Providers answer notices with it, and on-call
// staff answer danger alerts.
func ParseReply(text string) (accept bool, code string, ok bool) {
	if len(text) > maxReplyLen {
		return false, "", false
	}
	var letters, digits strings.Builder
	part := 0 // 0 before the verb, 1 in it, 2 between, 3 in the code, 4 after
	// Folded, "SÍ" reads as "SI".
	for _, r := range fold.Accents(text) {
		switch {
		case r < unicode.MaxASCII && unicode.IsLetter(r):
			if part > 1 {
				return false, "", false
			}
			part = 1
			letters.WriteRune(unicode.ToUpper(r))
		case r >= '0' && r <= '9':
			if part == 0 || part == 4 {
				return false, "", false
			}
			part = 3
			digits.WriteRune(r)
		case unicode.IsSpace(r) || strings.ContainsRune(".,;:-#!¡", r):
			if part == 1 {
				part = 2
			} else if part == 3 {
				part = 4
			}
		default:
			return false, "", false
		}
	}
	if digits.Len() != 4 {
		return false, "", false
	}
	verb := letters.String()
	for _, v := range ackVerbs {
		if verb == v {
			return true, digits.String(), true
		}
	}
	for _, v := range declineVerbs {
		if verb == v {
			return false, digits.String(), true
		}
	}
	return false, "", false
}

// QueueProviderCheck queues in b referral's question whether phone (E.164)
// may be a provider's (a service's duty phone, or the phone a live
// referral's code went to); provider holds the answer once b's results are
// closed. Every survivor message passes this check first, so the hotline
// sends it in its own opening pipeline, where it costs no round trip, and
// skips HandleProviderReply when it answers false. Queue it after every
// statement whose results the caller reads itself: pgx runs the callback
// when the batch is closed.
func QueueProviderCheck(b *pgx.Batch, phone string, provider *bool) {
	// The generated query's text (queries/replies.sql), queued by hand:
	// the batch is the hotline's.
	b.Queue(referraldb.ProviderPhone, phone).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(provider); err != nil {
			return fmt.Errorf("referral: provider check: %w", err)
		}
		return nil
	})
}

// HandleProviderReply acts on an SMS from fromE164. A code means something
// only together with the phone it was sent to, so a right code from another
// number changes nothing. Replies are counted per phone in PostgreSQL (every
// server copy shares the count) before they are read. A repeated reply finds
// the referral already moved and does nothing again. "NO" declines and sends
// the need on to the next provider.
func (s *Service) HandleProviderReply(ctx context.Context, tx pgx.Tx, fromE164, text string) (ReplyOutcome, error) {
	db := referraldb.New(tx)
	provider, err := db.ProviderPhone(ctx, fromE164)
	if err != nil || provider == nil || !*provider {
		return ReplyOutcome{}, err
	}
	out := ReplyOutcome{Handled: true}
	limited, err := s.overLimit(ctx, tx, fromE164)
	if err != nil {
		return out, err
	}
	if limited {
		out.Result = ReplyRateLimited
		return out, nil
	}
	accept, code, ok := ParseReply(text)
	if !ok {
		out.Result = ReplyBadFormat
		return out, nil
	}
	// A locked phone's codes are not even looked up: a right guess after
	// the limit must act no more than a wrong one.
	locked, err := db.CodesLocked(ctx, fromE164, s.now().Add(-s.missWindow), int32(s.missLimit))
	if err != nil {
		return out, fmt.Errorf("referral: wrong-code limit: %w", err)
	}
	if locked {
		out.Result = ReplyCodesLocked
		return out, nil
	}
	row, err := db.LockOpenReferralByCode(ctx, fromE164, code, openStatuses)
	r, err := oneReferral(row.Referral, err)
	if errors.Is(err, ErrNotFound) {
		return s.closedReply(ctx, tx, fromE164, code, out)
	}
	if err != nil {
		return out, err
	}
	out.ReferralID = r.ID
	actor := "provider:" + r.ServiceID.String()
	switch {
	case r.Status == Pending:
		// The notice has not gone out yet (it is sent only after notified
		// commits), so this is an old reply meeting a reused code.
		out.Result = ReplyStale
	case accept && r.Status == Notified:
		out.Result = ReplyAcknowledged
		err = s.move(ctx, tx, &r, Acknowledged, actor, "sms_ok")
	case accept:
		out.Result = ReplyAcknowledged // a repeat: already acknowledged or accepted
	case r.Status == Notified || r.Status == Acknowledged:
		out.Result = ReplyDeclined
		err = s.decline(ctx, tx, &r, actor, "sms_no")
	default:
		out.Result = ReplyStale
	}
	if err != nil {
		return out, fmt.Errorf("referral: reply to %s: %w", r.ID, err)
	}
	s.log.InfoContext(ctx, "referral: provider reply", "referral_id", r.ID, "result", out.Result)
	return out, nil
}

// closedReply answers a code that has no open referral on fromE164: when
// the referral it was sent for escalated or was revoked recently enough
// that its code has not been reused (codeQuarantine), the provider is told
// that, and the answer does not count as a wrong code; otherwise the code
// is unknown, and counts (wrongCode). It changes no referral.
func (s *Service) closedReply(ctx context.Context, tx pgx.Tx, fromE164, code string, out ReplyOutcome) (ReplyOutcome, error) {
	closed, err := referraldb.New(tx).RecentlyClosedByCode(ctx, referraldb.RecentlyClosedByCodeParams{
		Phone: fromE164, Code: code, Statuses: []string{string(Escalated), string(Revoked)}, Since: s.now().Add(-codeQuarantine)})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		out.Result, err = s.wrongCode(ctx, tx, fromE164)
		return out, err
	case err != nil:
		return out, fmt.Errorf("referral: closed reply: %w", err)
	case Status(closed.Status) == Escalated:
		out.ReferralID, out.Result = closed.ID, ReplyPassedOn
	default:
		out.ReferralID, out.Result = closed.ID, ReplyWithdrawn
	}
	s.log.InfoContext(ctx, "referral: provider reply to a closed request", "referral_id", out.ReferralID, "result", out.Result)
	return out, nil
}

// overLimit counts this reply against the phone's fixed window and reports
// whether the phone is past its limit.
func (s *Service) overLimit(ctx context.Context, tx pgx.Tx, phone string) (bool, error) {
	n, err := referraldb.New(tx).CountReply(ctx, phone, s.now(), interval(s.replyWindow))
	if err != nil {
		return false, fmt.Errorf("referral: reply rate limit: %w", err)
	}
	return int(n) > s.replyLimit, nil
}

// wrongCode counts a code that matched nothing against the phone's window.
// The reply that reaches the limit locks the phone and alerts the
// supervisor on call (a counsellor when none is), once per window: either
// someone is guessing from the duty phone's number, or a provider cannot
// answer her requests and needs a call.
func (s *Service) wrongCode(ctx context.Context, tx pgx.Tx, phone string) (string, error) {
	db := referraldb.New(tx)
	misses, err := db.CountWrongCode(ctx, phone, s.now(), interval(s.missWindow))
	if err != nil {
		return "", fmt.Errorf("referral: wrong-code limit: %w", err)
	}
	n := int(misses)
	switch {
	case n < s.missLimit:
		return ReplyUnknownCode, nil
	case n > s.missLimit:
		return ReplyCodesLocked, nil
	}
	// The alert names the service, which staff know; never the number.
	svc, err := db.PhoneService(ctx, phone)
	if err != nil {
		return "", fmt.Errorf("referral: locked phone's service: %w", err)
	}
	s.log.WarnContext(ctx, "referral: provider phone locked after wrong reply codes", "service_id", svc.ID, "misses", n)
	if _, _, err := s.roster.Alert(ctx, tx, s.notifier, roster.AlertCodesLocked, uuid.Nil, svc.Name); err != nil {
		return "", err
	}
	return ReplyCodesLocked, nil
}

// interval is d as the interval a generated query takes, as pgx itself
// sends a time.Duration: microseconds, no days or months.
func interval(d time.Duration) pgtype.Interval {
	return pgtype.Interval{Microseconds: d.Microseconds(), Valid: true}
}
