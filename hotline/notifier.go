package hotline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/templates"
)

var _ referral.Notifier = (*Outbox)(nil)

// errUnknownAlert is a wiring mistake: an alert kind with no catalogue text.
var errUnknownAlert = errors.New("hotline: staff alert kind has no text")

// NotifyProvider queues the discreet notice (reference and reply code only)
// to a provider's duty phone, in the caller's transaction.
func (o *Outbox) NotifyProvider(ctx context.Context, tx pgx.Tx, n referral.ProviderNotice) error {
	out, err := providerText(n, purposeProvider, templates.KeyProviderNotice, providerNoticeTTL)
	if err != nil {
		return err
	}
	_, err = o.enqueue(ctx, tx, out)
	return err
}

// providerText is the message of catalogue key about n to its provider's
// duty phone: the reference and the reply code, nothing else.
func providerText(n referral.ProviderNotice, purpose, key string, ttl time.Duration) (outbound, error) {
	to, err := crypto.NormalizePhone(n.Phone, "")
	if err != nil {
		return outbound{}, err
	}
	body, err := templates.Render(n.Lang, key, map[string]string{"ref": n.Reference, "code": n.ReplyCode})
	if err != nil {
		return outbound{}, err
	}
	return outbound{purpose: purpose, referralID: &n.ReferralID, to: to, body: body, ttl: ttl}, nil
}

// NotifyWithdrawn queues, in the caller's transaction, the text that tells
// a provider a request is withdrawn (reference and code only). A notice of
// that request still waiting to be sent is cancelled instead, and when no
// notice of it was ever handed to Twilio nothing is sent: a provider that
// never heard of the request needs no withdrawal.
func (o *Outbox) NotifyWithdrawn(ctx context.Context, tx pgx.Tx, n referral.ProviderNotice) error {
	now := o.clk.Now()
	// SKIP LOCKED rather than a wait: the sender holds a notice's row
	// across its call to Twilio and may then lock the referral
	// (NoticeFailed), which our caller already holds.
	rows, err := tx.Query(ctx, `
		UPDATE outbound_message
		SET status = 'canceled', status_rank = $3, wrapped_dek = NULL, to_sealed = NULL, body_sealed = NULL, updated_at = $4
		WHERE id IN (SELECT id FROM outbound_message WHERE referral_id = $1 AND purpose = $2 AND status = 'pending'
			FOR UPDATE SKIP LOCKED)
		RETURNING attempts`, n.ReferralID, purposeProvider, statusRank["canceled"], now)
	if err != nil {
		return err
	}
	attempts, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return err
	}
	// A canceled notice that was tried before may have arrived: a timeout
	// does not say it did not.
	tried := slices.ContainsFunc(attempts, func(a int) bool { return a > 0 })
	var inFlight, handedOver int
	if err := tx.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE status = 'pending'),
		       count(*) FILTER (WHERE status NOT IN ('pending', 'canceled', 'expired'))
		FROM outbound_message WHERE referral_id = $1 AND purpose = $2`, n.ReferralID, purposeProvider).
		Scan(&inFlight, &handedOver); err != nil {
		return err
	}
	if !tried && inFlight == 0 && handedOver == 0 {
		return nil
	}
	out, err := providerText(n, purposeWithdrawal, templates.KeyProviderWithdrawn, withdrawalTTL)
	if err != nil {
		return err
	}
	if inFlight > 0 {
		// A notice being handed over right now: the withdrawal must not
		// overtake it.
		out.delay = sendTimeout
	}
	_, err = o.enqueue(ctx, tx, out)
	return err
}

// AlertStaff queues a staff alert, in the caller's transaction.
func (o *Outbox) AlertStaff(ctx context.Context, tx pgx.Tx, a referral.StaffAlert) error {
	return o.alert(ctx, tx, a, nil)
}

// alert is AlertStaff that can tie the message to a case, so that a failed
// delivery becomes a task on it.
func (o *Outbox) alert(ctx context.Context, tx pgx.Tx, a referral.StaffAlert, caseID *uuid.UUID) error {
	key, ok := templates.StaffAlertKey(a.Kind)
	if !ok {
		return fmt.Errorf("%w: %s", errUnknownAlert, a.Kind)
	}
	to, err := crypto.NormalizePhone(a.Phone, "")
	if err != nil {
		return err
	}
	// Staff read Spanish; the texts name a reference and nothing else.
	body, err := templates.Render(templates.ES, key, map[string]string{"ref": a.Reference})
	if err != nil {
		return err
	}
	_, err = o.enqueue(ctx, tx, outbound{purpose: purposeStaff, caseID: caseID, to: to, body: body, ttl: staffAlertTTL})
	return err
}
