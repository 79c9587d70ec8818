package portal

import (
	"net/http"

	"github.com/amparo/amparo/referral"
)

// referralAcknowledge is the web form of "OK <code>": the provider has seen
// the request, which stops its acknowledge-by clock.
func (p *Portal) referralAcknowledge(w http.ResponseWriter, r *http.Request) error {
	return p.answerReferral(w, r, referral.Acknowledged, "portal_ok")
}
