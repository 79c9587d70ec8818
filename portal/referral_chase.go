package portal

import (
	"net/http"

	"github.com/amparo/amparo/referral"
)

// referralChase moves a referral the provider is sitting on to the next
// provider in its chain now, instead of waiting out the acknowledge-by
// deadline: referral's escalation notifies the next provider and alerts
// the supervisor.
func (p *Portal) referralChase(w http.ResponseWriter, r *http.Request) error {
	return p.moveReferral(w, r, referral.Escalated, "caseworker_chase")
}
