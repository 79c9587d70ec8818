package portal

import (
	"net/http"

	"github.com/amparo/amparo/referral"
)

// referralServed: the provider served her; the referral is completed.
func (p *Portal) referralServed(w http.ResponseWriter, r *http.Request) error {
	return p.answerReferral(w, r, referral.Completed, "portal_served")
}
