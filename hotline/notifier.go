package hotline

import (
	"context"
	"errors"
	"fmt"

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
	to, err := crypto.NormalizePhone(n.Phone, "")
	if err != nil {
		return err
	}
	body, err := templates.Render(n.Lang, templates.KeyProviderNotice, map[string]string{"ref": n.Reference, "code": n.ReplyCode})
	if err != nil {
		return err
	}
	_, err = o.enqueue(ctx, tx, outbound{purpose: purposeProvider, referralID: &n.ReferralID, to: to, body: body, ttl: providerNoticeTTL})
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
