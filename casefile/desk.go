package casefile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/audit"
)

// Tier is how soon a case on the caseworker's desk needs someone, most
// pressing first. A case sits in the most pressing tier that applies.
type Tier int

// Desk tiers, in order.
const (
	TierNow      Tier = iota // danger now, or she asked to be called back
	TierWindow               // a clinical window (PEP, EC) is still open
	TierStalled              // a referral waits past its acknowledge-by time
	TierFollowUp             // a follow-up is due within DeskFollowUpHorizon
	TierOther                // open, nothing due
)

// DeskFollowUpHorizon is how far ahead a due follow-up puts a case in TierFollowUp.
const DeskFollowUpHorizon = 24 * time.Hour

// DeskItem is one case on the desk: plaintext columns only.
type DeskItem struct {
	ID         uuid.UUID
	Reference  string
	Status     Status
	Urgent     bool
	Needs      []Need
	Community  string
	AssignedTo uuid.UUID // uuid.Nil when nobody works it
	Tier       Tier
	DueAt      time.Time // what the tier is timed by (deadline, due time, wait start)
}

// DeskFilter selects and bounds the desk. Zero fields match everything.
type DeskFilter struct {
	Now time.Time
	// Viewer works the cases in Communities (lower case; empty: every
	// community) and those assigned to her: the same scope as portal's
	// policy function, which a test holds them to.
	Viewer      uuid.UUID
	Communities []string
	Community   string    // one community (lower case), e.g. from the page's filter
	AssignedTo  uuid.UUID // only cases assigned to this user ("mine")
	Status      Status    // default StatusOpen
	// Stalled are cases with a referral waiting past its acknowledge-by
	// time, and since when (from referral.StalledCases).
	Stalled map[uuid.UUID]time.Time
	Limit   int // default and maximum 200
}

// Desk returns the caseworker's queue, most pressing first: TierNow by how
// long she has waited, TierWindow by nearest clinical deadline, TierStalled
// by how long the referral has waited, TierFollowUp by due time, then the
// rest, newest first. It reads plaintext columns only and each tier is one
// indexed range bounded by Limit, so its cost does not grow with the
// number of cases.
func (s *Store) Desk(ctx context.Context, db DB, f DeskFilter) ([]DeskItem, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 200
	}
	if f.Status == "" {
		f.Status = StatusOpen
	}
	if f.Communities == nil {
		// NULL would make the scope test NULL: no community would match.
		f.Communities = []string{}
	}
	// As text: QueryExecModeExec (below) sends untyped parameters.
	stalledIDs := make([]string, 0, len(f.Stalled))
	stalledAt := make([]string, 0, len(f.Stalled))
	for id, at := range f.Stalled {
		stalledIDs = append(stalledIDs, id.String())
		stalledAt = append(stalledAt, at.UTC().Format(time.RFC3339Nano))
	}
	// QueryExecModeExec: planned for these arguments every time. A cached
	// generic plan would not know that $1 is 'open' and so could not use
	// the partial indexes the tiers are built on.
	rows, err := db.Query(ctx, deskQuery, pgx.QueryExecModeExec,
		f.Status, f.Communities, f.Community, uuidOrNil(f.AssignedTo), f.Now, f.Now.Add(DeskFollowUpHorizon), f.Limit,
		stalledIDs, stalledAt, f.Viewer)
	if err != nil {
		return nil, fmt.Errorf("casefile: desk: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DeskItem, error) {
		var (
			d        DeskItem
			assignee *uuid.UUID
		)
		if err := r.Scan(&d.ID, &d.Reference, &d.Status, &d.Urgent, &d.Needs, &d.Community, &assignee, &d.Tier, &d.DueAt); err != nil {
			return DeskItem{}, fmt.Errorf("casefile: desk: %w", err)
		}
		if assignee != nil {
			d.AssignedTo = *assignee
		}
		d.DueAt = d.DueAt.UTC()
		return d, nil
	})
}

// deskScope is the filter every tier of Desk applies to its case row c.
const deskScope = `(cardinality($2::text[]) = 0 OR lower(c.community) = ANY($2::text[]) OR c.assigned_to = $10)
	AND ($3 = '' OR lower(c.community) = $3)
	AND ($4::uuid IS NULL OR c.assigned_to = $4)`

// Scope is what an access decision needs to know of a case: who works it
// and where. It opens nothing.
type Scope struct {
	ID         uuid.UUID
	Community  string
	AssignedTo uuid.UUID // uuid.Nil when nobody works it
	Status     Status
}

// CaseScope reads a case's Scope; ErrNotFound if there is no such case.
// An erased case has a scope too (its plaintext columns remain).
func (s *Store) CaseScope(ctx context.Context, db DB, caseID uuid.UUID) (Scope, error) {
	sc := Scope{ID: caseID}
	var assignee *uuid.UUID
	err := db.QueryRow(ctx, `SELECT community, assigned_to, status FROM case_file WHERE id = $1`, caseID).
		Scan(&sc.Community, &assignee, &sc.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return Scope{}, ErrNotFound
	}
	if err != nil {
		return Scope{}, fmt.Errorf("casefile: scope of %s: %w", caseID, err)
	}
	if assignee != nil {
		sc.AssignedTo = *assignee
	}
	return sc, nil
}

// Assign makes staff user `to` the one who works the case, and audits it
// as actor's act. ErrNotFound for an unknown case, ErrErased for an erased one.
func (s *Store) Assign(ctx context.Context, db DB, caseID, to uuid.UUID, actor string) error {
	return inTx(ctx, db, func(tx pgx.Tx) error {
		var erased bool
		err := tx.QueryRow(ctx, `UPDATE case_file SET assigned_to = $2 WHERE id = $1 RETURNING erased_at IS NOT NULL`, caseID, to).Scan(&erased)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("casefile: assign %s: %w", caseID, err)
		}
		if erased {
			return ErrErased
		}
		return audit.Append(ctx, tx, s.now(), audit.Entry{Actor: actor, Action: "case.assign", CaseID: caseID.String(), Detail: "to:" + to.String()})
	})
}

// SetIncidentType records the case's GBVIMS incident type.
func (s *Store) SetIncidentType(ctx context.Context, db DB, caseID uuid.UUID, t IncidentType, actor string) error {
	if !slices.Contains(IncidentTypes, t) {
		return invalid("incident type")
	}
	return inTx(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE case_file SET incident_type = $2 WHERE id = $1 AND erased_at IS NULL`, caseID, t)
		if err != nil {
			return fmt.Errorf("casefile: classify %s: %w", caseID, err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return audit.Append(ctx, tx, s.now(), audit.Entry{Actor: actor, Action: "case.classify", CaseID: caseID.String(), Detail: string(t)})
	})
}

// IncidentTypeOf reads the case's GBVIMS type ("" when not recorded).
func (s *Store) IncidentTypeOf(ctx context.Context, db DB, caseID uuid.UUID) (IncidentType, error) {
	var t *IncidentType
	err := db.QueryRow(ctx, `SELECT incident_type FROM case_file WHERE id = $1`, caseID).Scan(&t)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil || t == nil {
		return "", err
	}
	return *t, nil
}

// FollowUpCase is the case a follow-up belongs to (for access decisions).
func (s *Store) FollowUpCase(ctx context.Context, db DB, followUpID uuid.UUID) (uuid.UUID, error) {
	var id uuid.UUID
	err := db.QueryRow(ctx, `SELECT case_id FROM follow_up WHERE id = $1`, followUpID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, ErrNotFound
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("casefile: follow-up %s: %w", followUpID, err)
	}
	return id, nil
}

// CompleteFollowUp marks an open follow-up done. ErrNotFound if it is not
// open (done twice is refused, not repeated).
func (s *Store) CompleteFollowUp(ctx context.Context, db DB, followUpID uuid.UUID) error {
	return s.updateOpenFollowUp(ctx, db, followUpID, `status = 'done'`)
}

// RescheduleFollowUp moves an open follow-up's due time.
func (s *Store) RescheduleFollowUp(ctx context.Context, db DB, followUpID uuid.UUID, due time.Time) error {
	if due.IsZero() {
		return invalid("follow-up due time")
	}
	return s.updateOpenFollowUp(ctx, db, followUpID, `due_at = $2`, due)
}

func (s *Store) updateOpenFollowUp(ctx context.Context, db DB, id uuid.UUID, set string, args ...any) error {
	tag, err := db.Exec(ctx, `UPDATE follow_up SET `+set+` WHERE id = $1 AND status = 'open'`, append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("casefile: follow-up %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// deskQuery is Desk's query. $1 status, $2 communities, $3 community, $4
// assignee, $5 now, $6 horizon end, $7 limit, $8/$9 stalled cases and since
// when, $10 viewer.
const deskQuery = `
		WITH tiers AS (
			(SELECT c.id, 0 AS tier, c.created_at AS due FROM case_file c
			 WHERE c.status = $1 AND c.urgent AND ` + deskScope + `
			 ORDER BY c.created_at LIMIT $7)
			UNION ALL
			(SELECT c.id, 0, f.due_at FROM follow_up f JOIN case_file c ON c.id = f.case_id
			 WHERE f.status = 'open' AND (f.kind = 'callback' OR f.urgent) AND c.status = $1 AND ` + deskScope + `
			 ORDER BY f.due_at LIMIT $7)
			UNION ALL
			-- Each window on its own: next_deadline would hide an open EC
			-- window once the PEP window before it has closed.
			(SELECT c.id, 1, c.pep_deadline FROM case_file c
			 WHERE c.status = $1 AND c.pep_deadline > $5 AND ` + deskScope + `
			 ORDER BY c.pep_deadline LIMIT $7)
			UNION ALL
			(SELECT c.id, 1, c.ec_deadline FROM case_file c
			 WHERE c.status = $1 AND c.ec_deadline > $5 AND ` + deskScope + `
			 ORDER BY c.ec_deadline LIMIT $7)
			UNION ALL
			(SELECT c.id, 2, s.since FROM unnest($8::uuid[], $9::timestamptz[]) AS s(id, since)
			 JOIN case_file c ON c.id = s.id WHERE c.status = $1 AND ` + deskScope + `
			 ORDER BY s.since LIMIT $7)
			UNION ALL
			(SELECT c.id, 3, f.due_at FROM follow_up f JOIN case_file c ON c.id = f.case_id
			 WHERE f.status = 'open' AND f.due_at <= $6 AND c.status = $1 AND ` + deskScope + `
			 ORDER BY f.due_at LIMIT $7)
			UNION ALL
			(SELECT c.id, 4, c.created_at FROM case_file c
			 WHERE c.status = $1 AND ` + deskScope + `
			 ORDER BY c.created_at DESC LIMIT $7)
		), best AS (
			SELECT DISTINCT ON (id) id, tier, due FROM tiers ORDER BY id, tier, due
		)
		SELECT c.id, c.reference, c.status, c.urgent, c.needs, c.community, c.assigned_to, b.tier, b.due
		FROM best b JOIN case_file c ON c.id = b.id
		-- the last tier runs newest first: nothing in it is due
		ORDER BY b.tier, CASE WHEN b.tier = 4 THEN -extract(epoch FROM b.due) ELSE extract(epoch FROM b.due) END, c.id
		LIMIT $7`
