package referral

import (
	"context"
	"fmt"

	"github.com/amparo/amparo/referral/internal/referraldb"
	"github.com/amparo/amparo/roster"
)

// PhoneOwner says whose a phone the system texts is, as the directory and
// the roster have it. Exactly one of Service, Role and Fallback is set.
type PhoneOwner struct {
	Phone    string
	Service  string      // the directory name of the service whose duty phone it is
	Role     roster.Role // on the roster now or later
	Fallback bool        // a fallback duty phone
}

// PhoneOwners lists the on-call phones by role, then the fallback duty
// phones, then the duty phones of active services by name. A phone may
// appear more than once, under each thing it is.
func (s *Service) PhoneOwners(ctx context.Context, db DB) ([]PhoneOwner, error) {
	rostered, err := s.roster.Phones(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("referral: phone owners: %w", err)
	}
	var owners []PhoneOwner
	for _, r := range rostered {
		owners = append(owners, PhoneOwner{Phone: r.Phone, Role: r.Role})
	}
	for _, phone := range s.roster.Fallback() {
		owners = append(owners, PhoneOwner{Phone: phone, Fallback: true})
	}
	services, err := referraldb.New(db).ActiveDutyPhones(ctx)
	if err != nil {
		return nil, fmt.Errorf("referral: phone owners: %w", err)
	}
	for _, sv := range services {
		owners = append(owners, PhoneOwner{Phone: sv.DutyPhone, Service: sv.Name})
	}
	return owners, nil
}
