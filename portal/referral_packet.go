package portal

import (
	"context"
	"net/http"
	"time"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral"
)

// packetData is the provider's page for one referral: the packet, whether
// and when she may be reached, and the answers its state allows. Phone is
// set only on the answer to an explicit reveal.
type packetData struct {
	Packet  referral.Packet
	Windows []packetWindow
	// MayContact: she allowed texts or calls. InHours: her hours hold now;
	// otherwise HoursOpen is when they next do.
	MayContact bool
	InHours    bool
	HoursOpen  time.Time
	Phone      string
	SaidStop   bool // she said SALIR: her number is not shown
	// The answers the state machine allows from here.
	CanAck, CanAccept, CanDecline, CanServe bool
	DeclineReasons                          []string
}

// packetWindow is a deadline of the packet and whether it is still open
// now (casefile.WindowOpen: a window is open up to its instant).
type packetWindow struct {
	Kind string
	By   time.Time
	Open bool
}

// declineReasons are the codes a provider may give for declining. Codes,
// not prose: they go on the referral's timeline, which staff read, and
// nothing a provider types about her should be stored in plaintext.
var declineReasons = []string{"no_capacity", "service_not_offered", "closed_now", "no_staff_on_duty"}

// referralPacket shows a provider what it needs to act on a referral of
// its organisation: need, urgency, deadlines, her language, whether and
// when she may be contacted. Never the narrative, the incident time or a
// name: referral.Packet holds none of them.
func (p *Portal) referralPacket(w http.ResponseWriter, r *http.Request) error {
	_, rs, err := p.referralFor(r, ActViewPacket)
	if err != nil {
		return err
	}
	d, err := p.packet(r.Context(), rs)
	if err != nil {
		return err
	}
	return p.render(w, r, "packet", d)
}

func (p *Portal) packet(ctx context.Context, rs referral.Scope) (packetData, error) {
	pk, err := p.referrals.Packet(ctx, p.pool, rs.ID)
	if err != nil {
		return packetData{}, err
	}
	// Her hours are read in the deployment's zone, as the hotline reads
	// them for its texts.
	zone, err := referral.DirectoryZone(ctx, p.pool)
	if err != nil {
		return packetData{}, err
	}
	now := p.now()
	d := packetData{Packet: pk, MayContact: pk.Contact.MayContact(), DeclineReasons: declineReasons}
	d.HoursOpen = pk.Contact.NextInHours(now, zone)
	d.InHours = d.HoursOpen.Equal(now)
	for _, dl := range pk.Deadlines {
		d.Windows = append(d.Windows, packetWindow{Kind: dl.Kind, By: dl.By, Open: casefile.WindowOpen(dl.By, now)})
	}
	s := pk.Status
	d.CanAck = referral.CanTransition(s, referral.Acknowledged)
	d.CanAccept = referral.CanTransition(s, referral.Accepted)
	d.CanDecline = referral.CanTransition(s, referral.Declined)
	d.CanServe = referral.CanTransition(s, referral.Completed)
	return d, nil
}
