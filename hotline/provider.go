package hotline

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/templates"
)

// providerReplyKeys maps referral's verdict on a provider's SMS to the
// answer. A rate-limited phone gets none: answering would feed the flood. A
// stale reply (the referral moved on) reads to the provider like a code that
// no longer means anything.
var providerReplyKeys = map[string]string{
	referral.ReplyAcknowledged: templates.KeyProviderAcknowledged,
	referral.ReplyDeclined:     templates.KeyProviderDeclined,
	referral.ReplyUnknownCode:  templates.KeyProviderUnknownCode,
	referral.ReplyStale:        templates.KeyProviderUnknownCode,
	referral.ReplyBadFormat:    templates.KeyProviderBadFormat,
	referral.ReplyCodesLocked:  templates.KeyProviderCodesLocked,
	referral.ReplyPassedOn:     templates.KeyProviderPassedOn,
	referral.ReplyWithdrawn:    templates.KeyProviderWithdrawn,
}

// providerReply lets referral act first on a message from a provider's duty
// phone; handled is false when the sender is not one.
func (h *Hotline) providerReply(ctx context.Context, tx pgx.Tx, e164, body string) (replies []string, handled bool, err error) {
	out, err := h.referrals.HandleProviderReply(ctx, tx, e164, body)
	if err != nil || !out.Handled {
		return nil, false, err
	}
	key, ok := providerReplyKeys[out.Result]
	if !ok {
		return nil, true, nil
	}
	args := map[string]string(nil)
	switch out.Result {
	case referral.ReplyAcknowledged, referral.ReplyDeclined, referral.ReplyPassedOn, referral.ReplyWithdrawn:
		r, ref, err := h.referenceOf(ctx, tx, out)
		if err != nil {
			return nil, true, err
		}
		args = map[string]string{"ref": ref}
		if out.Result == referral.ReplyPassedOn || out.Result == referral.ReplyWithdrawn {
			// The words of the text it was sent, so a late answer learns
			// what that text told it.
			args["code"] = r.ReplyCode
		}
	}
	// Duty phones are answered in Spanish, like the notices they reply to.
	text, err := templates.Render(templates.ES, key, args)
	if err != nil {
		return nil, true, err
	}
	return []string{text}, true, nil
}

// referenceOf finds the referral a provider's reply was about and its
// case reference, without opening the case.
func (h *Hotline) referenceOf(ctx context.Context, tx pgx.Tx, out referral.ReplyOutcome) (referral.Referral, string, error) {
	r, err := h.referrals.Get(ctx, tx, out.ReferralID)
	if err != nil {
		return r, "", err
	}
	ref, err := h.cases.Reference(ctx, tx, r.CaseID)
	return r, ref, err
}
