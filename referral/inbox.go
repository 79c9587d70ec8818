package referral

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral/internal/referraldb"
)

// Scope is what decides who may see a referral: the organisation whose
// service it was sent to. A provider's portal account belongs to one
// organisation (staff_user.org_key) and sees its referrals only.
type Scope struct {
	ID     uuid.UUID
	CaseID uuid.UUID
	OrgKey string
	Status Status
}

// ReferralScope reads a referral's Scope; ErrNotFound if there is none.
func (s *Service) ReferralScope(ctx context.Context, db DB, id uuid.UUID) (Scope, error) {
	sc := Scope{ID: id}
	row, err := referraldb.New(db).ReferralScope(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return sc, ErrNotFound
	}
	if err != nil {
		return sc, fmt.Errorf("referral: scope of %s: %w", id, err)
	}
	sc.CaseID, sc.OrgKey, sc.Status = row.CaseID, row.OrgKey, Status(row.Status)
	return sc, nil
}

// InboxItem is one line of a provider's inbox: what was asked of which of
// its services, and by when. Nothing about her but the case reference,
// which the provider's SMS notice carries too.
type InboxItem struct {
	ID        uuid.UUID
	Reference string
	Service   string // the service's name, for an organisation with several
	Need      casefile.Need
	Status    Status
	Urgent    bool
	AckBy     time.Time
	ServeBy   *time.Time
	Breached  bool
	UpdatedAt time.Time
}

// Inbox sizes: every open referral a provider could be working (up to
// inboxOpen, more than a shift works through), then the most
// recently closed ones, so an answer given by SMS or by a colleague shows.
const (
	inboxOpen   = 100
	inboxClosed = 20
)

// Inbox lists the referrals sent to the services of the organisation
// orgKey: open ones first, those waiting for an acknowledgement by their
// acknowledge-by time, the others by their serve-by time; then the most
// recently closed. It reads state only, so an answer given by SMS shows at
// once.
func (s *Service) Inbox(ctx context.Context, db DB, orgKey string) ([]InboxItem, error) {
	rows, err := referraldb.New(db).Inbox(ctx, orgKey, inboxOpen, inboxClosed)
	if err != nil {
		return nil, fmt.Errorf("referral: inbox: %w", err)
	}
	items := make([]InboxItem, len(rows))
	cases := make([]uuid.UUID, len(rows))
	for i, row := range rows {
		items[i] = InboxItem{ID: row.ID, Service: row.Name, Need: casefile.Need(row.Need), Status: Status(row.Status),
			Urgent: row.Urgent, AckBy: row.AckBy, ServeBy: row.ServeBy, Breached: row.Breached, UpdatedAt: row.UpdatedAt}
		cases[i] = row.CaseID
	}
	refs, err := s.cases.References(ctx, db, cases)
	if err != nil {
		return nil, err
	}
	for i := range items {
		items[i].Reference = refs[cases[i]]
	}
	return items, nil
}
