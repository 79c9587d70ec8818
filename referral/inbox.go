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
	rows, err := db.Query(ctx, inboxSQL, orgKey, inboxOpen, inboxClosed)
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
	)
	_, err = pgx.ForEachRow(rows, []any{&it.ID, &caseID, &it.Service, &it.Need, &it.Status, &it.Urgent, &it.AckBy,
		&it.ServeBy, &it.Breached, &it.UpdatedAt}, func() error {
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

// inboxSQL reads each service's referrals along its own index and merges
// them: an organisation's services are few, its referrals many, and an
// index scan per service stops after what the page shows, where one scan
// over all of them would sort every closed referral the organisation ever
// had. The open ones' order expression is the one referral_inbox_open_idx
// (migrations/sql/00200_provider_inbox.sql) indexes; keep them equal.
const inboxSQL = `
	WITH svc AS (
		SELECT v.id, v.name FROM service v JOIN organization o ON o.id = v.organization_id WHERE o.key = $1
	)
	(SELECT r.id, r.case_id, svc.name, r.need, r.status, r.urgent, r.ack_by, r.serve_by, r.breached, r.updated_at
	 FROM svc CROSS JOIN LATERAL (
		SELECT id, case_id, need, status, urgent, ack_by, serve_by, breached_at IS NOT NULL AS breached, updated_at, created_at,
			CASE WHEN status IN ('pending', 'notified') THEN ack_by ELSE serve_by END AS due
		FROM referral
		WHERE service_id = svc.id AND status IN ('pending', 'notified', 'acknowledged', 'accepted')
		ORDER BY CASE WHEN status IN ('pending', 'notified') THEN ack_by ELSE serve_by END, urgent DESC, created_at, id
		LIMIT $2) r
	 ORDER BY r.due, r.urgent DESC, r.created_at, r.id
	 LIMIT $2)
	UNION ALL
	(SELECT r.id, r.case_id, svc.name, r.need, r.status, r.urgent, r.ack_by, r.serve_by, r.breached, r.updated_at
	 FROM svc CROSS JOIN LATERAL (
		SELECT id, case_id, need, status, urgent, ack_by, serve_by, breached_at IS NOT NULL AS breached, updated_at
		FROM referral
		WHERE service_id = svc.id AND status NOT IN ('pending', 'notified', 'acknowledged', 'accepted')
		ORDER BY updated_at DESC, id DESC
		LIMIT $3) r
	 ORDER BY r.updated_at DESC, r.id DESC
	 LIMIT $3)`
