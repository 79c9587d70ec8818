package referral

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral/internal/referraldb"
)

// Packet is what a provider needs to act on a referral and nothing more: no
// narrative, no incident time, no name or number. Times are in the
// provider's time zone, ready for the portal to render ("PEP antes de 14:20
// mañana").
type Packet struct {
	ReferralID uuid.UUID
	Reference  string
	Need       casefile.Need
	Urgent     bool
	Status     Status
	AckBy      time.Time
	// Deadlines lists the clinical windows still open when the referral was
	// made (PEP, then emergency contraception) or, for other needs, the
	// serve-by time.
	Deadlines []Deadline
	// Contact is whether, how and when she may be contacted (hours local).
	Contact casefile.ContactPrefs
	Lang    string // her language, so the provider knows what to expect
}

// Deadline is one time limit in a packet.
type Deadline struct {
	Kind string // one of the Deadline* constants
	By   time.Time
}

// Deadline kinds.
const (
	DeadlinePEP   = "pep" // post-exposure prophylaxis (incident + 72 h)
	DeadlineEC    = "ec"  // emergency contraception (incident + 120 h)
	DeadlineServe = "serve"
)

// Packet returns the provider's view of a referral. Access control (is this
// the provider's own referral?) and auditing the opening belong to the
// caller, which knows who is looking.
func (s *Service) Packet(ctx context.Context, db DB, referralID uuid.UUID) (Packet, error) {
	r, err := s.Get(ctx, db, referralID)
	if err != nil {
		return Packet{}, err
	}
	c, err := s.cases.CaseFacts(ctx, db, r.CaseID)
	if err != nil {
		return Packet{}, fmt.Errorf("referral: packet %s: %w", referralID, err)
	}
	tz, err := referraldb.New(db).ServiceTimezone(ctx, r.ServiceID)
	if err != nil {
		return Packet{}, fmt.Errorf("referral: packet %s: %w", referralID, err)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return Packet{}, fmt.Errorf("referral: packet %s: %w", referralID, err)
	}
	p := Packet{
		ReferralID: r.ID, Reference: c.Reference, Need: r.Need, Urgent: r.Urgent, Status: r.Status,
		AckBy: r.AckBy.In(loc), Contact: c.Contact, Lang: string(c.Lang),
	}
	if r.Need == casefile.NeedHealth {
		for _, d := range []struct {
			kind string
			by   *time.Time
		}{{DeadlinePEP, c.PEPDeadline}, {DeadlineEC, c.ECDeadline}} {
			if d.by != nil && !r.CreatedAt.After(*d.by) {
				p.Deadlines = append(p.Deadlines, Deadline{d.kind, d.by.In(loc)})
			}
		}
	}
	if r.ServeBy != nil && len(p.Deadlines) == 0 {
		p.Deadlines = append(p.Deadlines, Deadline{DeadlineServe, r.ServeBy.In(loc)})
	}
	return p, nil
}
