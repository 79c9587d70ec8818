package portal

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/amparo/amparo/referral"
)

// referralFor reads the scope of the referral named by the route's {id} and
// asks DecideReferral whether the signed-in provider may do a on it. A
// malformed id is as unknown as another organisation's referral: 404.
func (p *Portal) referralFor(r *http.Request, a Action) (User, referral.Scope, error) {
	u := userFrom(r.Context())
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		return u, referral.Scope{}, errNotFound
	}
	rs, err := p.referrals.ReferralScope(r.Context(), p.pool, id)
	if err != nil {
		return u, rs, err
	}
	return u, rs, DecideReferral(u, a, &rs)
}

// backToReferral answers a provider's form by showing the packet again.
func backToReferral(w http.ResponseWriter, r *http.Request, id uuid.UUID) {
	http.Redirect(w, r, "/referrals/"+id.String(), http.StatusSeeOther)
}
