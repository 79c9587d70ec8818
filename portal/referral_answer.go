package portal

import (
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/referral"
)

// answerReferral moves a referral of the provider's organisation to `to`
// through referral.Transition, the state machine the provider's SMS reply
// codes drive too: after an acknowledgement given here a later
// "OK <code>" is answered as the repeat it is, and one given by SMS shows
// here at once. Asking for the state the referral is already in (a second
// click, or the SMS got there first) is no error.
func (p *Portal) answerReferral(w http.ResponseWriter, r *http.Request, to referral.Status, reason string) error {
	u, rs, err := p.referralFor(r, ActAnswer)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(r.Context(), p.pool, func(tx pgx.Tx) error {
		return p.referrals.Transition(r.Context(), tx, rs.ID, to, u.ID.String(), reason)
	})
	var te *referral.TransitionError
	if errors.As(err, &te) && (te.From == to || (to == referral.Acknowledged && te.From == referral.Accepted)) {
		err = nil
	}
	if err != nil {
		return err
	}
	backToReferral(w, r, rs.ID)
	return nil
}
