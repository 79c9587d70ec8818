package portal

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/referral"
)

// referralRevoke withdraws an open referral; referral tells the provider.
func (p *Portal) referralRevoke(w http.ResponseWriter, r *http.Request) error {
	return p.moveReferral(w, r, referral.Revoked, "caseworker_revoked")
}

// moveReferral moves the route's referral on behalf of the signed-in user,
// if she may refer for its case.
func (p *Portal) moveReferral(w http.ResponseWriter, r *http.Request, to referral.Status, reason string) error {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		return errNotFound
	}
	ref, err := p.referrals.Get(r.Context(), p.pool, id)
	if err != nil {
		return err
	}
	u, _, err := p.caseByID(r, userFrom(r.Context()), ref.CaseID, ActRefer)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(r.Context(), p.pool, func(tx pgx.Tx) error {
		return p.referrals.Transition(r.Context(), tx, id, to, u.ID.String(), reason)
	})
	if err != nil {
		return err
	}
	backToCase(w, r, ref.CaseID)
	return nil
}
