package portal

import (
	"net/http"

	"github.com/amparo/amparo/referral"
)

// referralAccept: the provider takes the request on.
func (p *Portal) referralAccept(w http.ResponseWriter, r *http.Request) error {
	return p.answerReferral(w, r, referral.Accepted, "portal_accept")
}
