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
	"github.com/amparo/amparo/casefile/internal/casefiledb"
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
	// Planned for these arguments every time (queries/desk.sql says why).
	rows, err := casefiledb.New(execMode{db}).Desk(ctx, casefiledb.DeskParams{
		Status: string(f.Status), Communities: f.Communities, Community: f.Community,
		AssignedTo: uuidOrNil(f.AssignedTo), Viewer: f.Viewer,
		Now: f.Now, Horizon: f.Now.Add(DeskFollowUpHorizon), Max: int32(f.Limit),
		StalledIds: stalledIDs, StalledSince: stalledAt,
	})
	if err != nil {
		return nil, fmt.Errorf("casefile: desk: %w", err)
	}
	out := make([]DeskItem, len(rows))
	for i, r := range rows {
		out[i] = DeskItem{
			ID: r.ID, Reference: r.Reference, Status: Status(r.Status), Urgent: r.Urgent, Needs: needsOf(r.Needs),
			Community: r.Community, Tier: Tier(r.Tier), DueAt: r.Due.UTC(),
		}
		if r.AssignedTo != nil {
			out[i].AssignedTo = *r.AssignedTo
		}
	}
	return out, nil
}

// execMode runs its queries with pgx.QueryExecModeExec: each is planned
// for the arguments it is given, never from a cached generic plan.
type execMode struct{ DB }

func (e execMode) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return e.DB.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
}

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
	r, err := casefiledb.New(db).CaseScope(ctx, caseID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Scope{}, ErrNotFound
	}
	if err != nil {
		return Scope{}, fmt.Errorf("casefile: scope of %s: %w", caseID, err)
	}
	sc := Scope{ID: caseID, Community: r.Community, Status: Status(r.Status)}
	if r.AssignedTo != nil {
		sc.AssignedTo = *r.AssignedTo
	}
	return sc, nil
}

// Assign makes staff user `to` the one who works the case, and audits it
// as actor's act. ErrNotFound for an unknown case, ErrErased for an erased one.
func (s *Store) Assign(ctx context.Context, db DB, caseID, to uuid.UUID, actor string) error {
	return inTx(ctx, db, func(tx pgx.Tx) error {
		erasedAt, err := casefiledb.New(tx).Assign(ctx, to, caseID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("casefile: assign %s: %w", caseID, err)
		}
		if erasedAt != nil {
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
		n, err := casefiledb.New(tx).SetIncidentType(ctx, string(t), caseID)
		if err != nil {
			return fmt.Errorf("casefile: classify %s: %w", caseID, err)
		}
		if n == 0 {
			return ErrNotFound
		}
		return audit.Append(ctx, tx, s.now(), audit.Entry{Actor: actor, Action: "case.classify", CaseID: caseID.String(), Detail: string(t)})
	})
}

// IncidentTypeOf reads the case's GBVIMS type ("" when not recorded).
func (s *Store) IncidentTypeOf(ctx context.Context, db DB, caseID uuid.UUID) (IncidentType, error) {
	t, err := casefiledb.New(db).IncidentType(ctx, caseID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil || t == nil {
		return "", err
	}
	return IncidentType(*t), nil
}

// FollowUpCase is the case a follow-up belongs to (for access decisions).
func (s *Store) FollowUpCase(ctx context.Context, db DB, followUpID uuid.UUID) (uuid.UUID, error) {
	id, err := casefiledb.New(db).FollowUpCase(ctx, followUpID)
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
	n, err := casefiledb.New(db).CompleteFollowUp(ctx, followUpID)
	return openFollowUpUpdated(followUpID, n, err)
}

// RescheduleFollowUp moves an open follow-up's due time.
func (s *Store) RescheduleFollowUp(ctx context.Context, db DB, followUpID uuid.UUID, due time.Time) error {
	if due.IsZero() {
		return invalid("follow-up due time")
	}
	n, err := casefiledb.New(db).RescheduleFollowUp(ctx, due, followUpID)
	return openFollowUpUpdated(followUpID, n, err)
}

// openFollowUpUpdated is the outcome of an update of open follow-up id
// that changed n rows: ErrNotFound if it was not open.
func openFollowUpUpdated(id uuid.UUID, n int64, err error) error {
	if err != nil {
		return fmt.Errorf("casefile: follow-up %s: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
