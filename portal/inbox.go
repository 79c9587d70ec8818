package portal

import (
	"net/http"

	"github.com/amparo/amparo/referral"
)

type inboxData struct {
	Open, Closed []referral.InboxItem
}

// inboxPage lists the referrals sent to the provider's organisation, open
// ones first. It reads referral state only, so an answer given by SMS, or
// by a colleague, shows on the next load.
func (p *Portal) inboxPage(w http.ResponseWriter, r *http.Request) error {
	u := userFrom(r.Context())
	if err := DecideReferral(u, ActViewInbox, nil); err != nil {
		return err
	}
	items, err := p.referrals.Inbox(r.Context(), p.pool, u.OrgKey)
	if err != nil {
		return err
	}
	var d inboxData
	for _, it := range items {
		if it.Status.Open() {
			d.Open = append(d.Open, it)
		} else {
			d.Closed = append(d.Closed, it)
		}
	}
	return p.render(w, r, "inbox", d)
}
