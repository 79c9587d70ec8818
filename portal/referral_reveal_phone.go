package portal

import (
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/audit"
)

// referralRevealPhone shows her number to a provider of an open referral,
// only if she allowed texts or calls and has not said SALIR since, and only
// on this explicit request: the packet page never carries it. The number is
// opened and the opening audited in one transaction, with whether her hours
// held at that moment; outside them the page says "not now" and when they
// open. The answer, like every portal page, is no-store.
func (p *Portal) referralRevealPhone(w http.ResponseWriter, r *http.Request) error {
	u, rs, err := p.referralFor(r, ActRevealPhone)
	if err != nil {
		return err
	}
	ctx := r.Context()
	d, err := p.packet(ctx, rs)
	if err != nil {
		return err
	}
	if !d.MayContact {
		return errForbidden
	}
	hours := "in_hours"
	if !d.InHours {
		hours = "outside_hours"
	}
	if p.messenger == nil {
		return errors.New("portal: no messenger wired")
	}
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		switch stopped, err := p.messenger.SaidStop(ctx, tx, rs.CaseID); {
		case err != nil:
			return err
		case stopped:
			return errSaidStop
		}
		facts, err := p.cases.CaseFacts(ctx, tx, rs.CaseID)
		if err != nil {
			return err
		}
		if d.Phone, err = p.cases.ContactPhone(ctx, tx, facts.ContactID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, p.now(), audit.Entry{Actor: u.ID.String(), Action: "referral.reveal_phone",
			CaseID: rs.CaseID.String(), Detail: "referral:" + rs.ID.String() + " " + hours})
	})
	d.SaidStop = errors.Is(err, errSaidStop)
	if err != nil && !d.SaidStop {
		return err
	}
	return p.render(w, r, "packet", d)
}

// errSaidStop: she said SALIR; her number is not shown and nothing is audited.
var errSaidStop = errors.New("portal: she said stop")
