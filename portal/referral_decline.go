package portal

import (
	"errors"
	"net/http"
	"slices"

	"github.com/amparo/amparo/referral"
)

// referralDecline is the web form of "NO <code>", with one of the coded
// reasons: referral records it on the timeline and sends the need on to the
// next provider.
func (p *Portal) referralDecline(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errors.Join(errBadRequest, err)
	}
	reason := r.PostForm.Get("reason")
	if !slices.Contains(declineReasons, reason) {
		return errBadRequest
	}
	return p.answerReferral(w, r, referral.Declined, "portal_no:"+reason)
}
