package referral

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
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
	err := db.QueryRow(ctx, `
		SELECT r.case_id, o.key, r.status
		FROM referral r JOIN service v ON v.id = r.service_id JOIN organization o ON o.id = v.organization_id
		WHERE r.id = $1`, id).Scan(&sc.CaseID, &sc.OrgKey, &sc.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return sc, ErrNotFound
	}
	if err != nil {
		return sc, fmt.Errorf("referral: scope of %s: %w", id, err)
	}
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
// inboxOpen, far above what one organisation holds at once), then the most
// recently closed ones, so an answer given by SMS or by a colleague shows.
const (
	inboxOpen   = 200
	inboxClosed = 20
)

// Inbox lists the referrals sent to the services of the organisation
// orgKey: open ones first, those waiting for an acknowledgement by their
// acknowledge-by time, the others by their serve-by time; then the most
// recently closed. It reads state only, so an answer given by SMS shows at
// once.
func (s *Service) Inbox(ctx context.Context, db DB, orgKey string) ([]InboxItem, error) {
	rows, err := db.Query(ctx, `
		WITH svc AS (
			SELECT v.id, v.name FROM service v JOIN organization o ON o.id = v.organization_id WHERE o.key = $1
		)
		(SELECT r.id, r.case_id, svc.name, r.need, r.status, r.urgent, r.ack_by, r.serve_by, r.breached_at IS NOT NULL, r.updated_at, 0 AS part
		 FROM referral r JOIN svc ON svc.id = r.service_id
		 -- The literal list lets the planner use referral_service_open_idx.
		 WHERE r.status IN ('pending', 'notified', 'acknowledged', 'accepted')
		 ORDER BY CASE WHEN r.status IN ('pending', 'notified') THEN r.ack_by ELSE r.serve_by END NULLS LAST,
			r.urgent DESC, r.created_at, r.id
		 LIMIT $2)
		UNION ALL
		(SELECT r.id, r.case_id, svc.name, r.need, r.status, r.urgent, r.ack_by, r.serve_by, r.breached_at IS NOT NULL, r.updated_at, 1
		 FROM referral r JOIN svc ON svc.id = r.service_id
		 WHERE r.status NOT IN ('pending', 'notified', 'acknowledged', 'accepted')
		 ORDER BY r.updated_at DESC, r.id
		 LIMIT $3)`, orgKey, inboxOpen, inboxClosed)
	if err != nil {
		return nil, fmt.Errorf("referral: inbox: %w", err)
	}
	var (
		items []InboxItem
		cases []uuid.UUID
	)
	var (
		it     InboxItem
		caseID uuid.UUID
		part   int
	)
	_, err = pgx.ForEachRow(rows, []any{&it.ID, &caseID, &it.Service, &it.Need, &it.Status, &it.Urgent, &it.AckBy,
		&it.ServeBy, &it.Breached, &it.UpdatedAt, &part}, func() error {
		items = append(items, it)
		cases = append(cases, caseID)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("referral: inbox: %w", err)
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
