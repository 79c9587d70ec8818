package sms

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/phone"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/sms/internal/smsdb"
	"github.com/amparo/amparo/templates"
)

// errUnknownAlert is a wiring mistake: an alert kind with no catalogue text.
var errUnknownAlert = errors.New("sms: staff alert kind has no text")

// NotifyProvider queues the discreet notice (reference and reply code, and
// where the provider's portal inbox is) to a provider's duty phone, in the
// caller's transaction.
func (o *Notifier) NotifyProvider(ctx context.Context, tx pgx.Tx, n referral.ProviderNotice) error {
	out, err := providerText(n, PurposeProvider, templates.KeyProviderNotice, ProviderNoticeTTL, "portal", o.inbox)
	if err != nil {
		return err
	}
	_, err = o.Enqueue(ctx, tx, out)
	return err
}

// providerText is the message of catalogue key about n to its provider's
// duty phone: the reference and the reply code, and the extra name, value
// pairs of its key; nothing about her.
func providerText(n referral.ProviderNotice, purpose Purpose, key string, ttl time.Duration, extra ...string) (Message, error) {
	to, err := phone.Normalize(n.Phone, "")
	if err != nil {
		return Message{}, err
	}
	args := map[string]string{"ref": n.Reference, "code": n.ReplyCode}
	for i := 0; i+1 < len(extra); i += 2 {
		args[extra[i]] = extra[i+1]
	}
	body, err := templates.Render(n.Lang, key, args)
	if err != nil {
		return Message{}, err
	}
	return Message{Purpose: purpose, ReferralID: &n.ReferralID, To: to, Body: body, TTL: ttl}, nil
}

// NotifyWithdrawn queues, in the caller's transaction, the text that tells
// a provider a request is withdrawn (reference and code only). A notice of
// that request still waiting to be sent is cancelled instead, and when no
// notice of it was ever handed to Twilio nothing is sent: a provider that
// never heard of the request needs no withdrawal.
func (o *Outbox) NotifyWithdrawn(ctx context.Context, tx pgx.Tx, n referral.ProviderNotice) error {
	return o.callOff(ctx, tx, n, templates.KeyProviderWithdrawn)
}

// NotifyPassedOn is NotifyWithdrawn for a request that escalated: the text
// says it passed to another service.
func (o *Outbox) NotifyPassedOn(ctx context.Context, tx pgx.Tx, n referral.ProviderNotice) error {
	return o.callOff(ctx, tx, n, templates.KeyProviderPassedOn)
}

// callOff tells n's provider, with the text of key, that its request needs
// nothing more, as NotifyWithdrawn describes.
func (o *Outbox) callOff(ctx context.Context, tx pgx.Tx, n referral.ProviderNotice, key string) error {
	now := o.clk.Now()
	q := smsdb.New(tx)
	attempts, err := q.CancelPendingNotices(ctx, smsdb.CancelPendingNoticesParams{
		StatusRank: statusRank[StatusCanceled], Now: now, ReferralID: &n.ReferralID, Purpose: string(PurposeProvider),
	})
	if err != nil {
		return err
	}
	// A canceled notice that was tried before may have arrived: a timeout
	// does not say it did not. One the carrier reported failed did not,
	// and a text after it would fail the same way.
	tried := slices.ContainsFunc(attempts, func(a int32) bool { return a > 0 })
	notices, err := q.NoticesInFlight(ctx, &n.ReferralID, string(PurposeProvider))
	if err != nil {
		return err
	}
	if !tried && notices.InFlight == 0 && notices.HandedOver == 0 {
		return nil
	}
	out, err := providerText(n, PurposeWithdrawal, key, WithdrawalTTL)
	if err != nil {
		return err
	}
	if notices.InFlight > 0 {
		// A notice being handed over right now: the withdrawal must not
		// overtake it.
		out.Delay = SendTimeout
	}
	_, err = o.Enqueue(ctx, tx, out)
	return err
}
