package casefile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/crypto"
)

// Reference returns a case's reference without opening the case: it is a
// plaintext column, so it costs no key and no decryption, and it is there
// for an erased case too (as in ListCases).
func (s *Store) Reference(ctx context.Context, db DB, caseID uuid.UUID) (string, error) {
	var ref string
	err := db.QueryRow(ctx, `SELECT reference FROM case_file WHERE id = $1`, caseID).Scan(&ref)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("casefile: reference of %s: %w", caseID, err)
	}
	return ref, nil
}

// caseKey returns the case's data key, or ErrErased. With lock it takes a
// share lock on the key row, so that a write sealed under the key cannot
// interleave with an erasure of the case.
func (s *Store) caseKey(ctx context.Context, db DB, caseID uuid.UUID, lock bool) (*crypto.DataKey, error) {
	q := `SELECT kek_id, wrapped_dek FROM case_key WHERE case_id = $1`
	if lock {
		q += ` FOR SHARE`
	}
	return s.loadKey(ctx, db, q, caseID, caseOwner(caseID), "case")
}

// loadKey reads the (kek_id, wrapped_dek) row that q selects for id and
// unwraps it for owner: ErrNotFound without a row, ErrErased when the key
// was shredded.
func (s *Store) loadKey(ctx context.Context, db DB, q string, id uuid.UUID, owner, what string) (*crypto.DataKey, error) {
	var (
		kekID   *string
		wrapped []byte
	)
	err := db.QueryRow(ctx, q, id).Scan(&kekID, &wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("casefile: %s key: %w", what, err)
	}
	if wrapped == nil {
		return nil, ErrErased
	}
	return s.unwrap(*kekID, wrapped, owner)
}

// GetCase opens a case. It does not audit: a caller acting for a person
// (the portal) records that person's opening in the same transaction.
func (s *Store) GetCase(ctx context.Context, db DB, caseID uuid.UUID) (Case, error) {
	c := Case{ID: caseID, Consent: map[Need]bool{}}
	var (
		consented                 []Need
		sealedIncident, narrative []byte
		kekID                     *string
		wrapped                   []byte
	)
	err := db.QueryRow(ctx, `
		SELECT c.reference, c.contact_id, c.status, c.urgent, c.needs, c.consented_needs, c.community,
			c.may_text, c.may_call, c.contact_from_hour, c.contact_to_hour, c.lang,
			c.pep_deadline, c.ec_deadline, c.incident_sealed, c.narrative_sealed, c.created_at,
			k.kek_id, k.wrapped_dek
		FROM case_file c JOIN case_key k ON k.case_id = c.id WHERE c.id = $1`, caseID).Scan(
		&c.Reference, &c.ContactID, &c.Status, &c.Urgent, &c.Needs, &consented, &c.Community,
		&c.Contact.MayText, &c.Contact.MayCall, &c.Contact.FromHour, &c.Contact.ToHour, &c.Lang,
		&c.PEPDeadline, &c.ECDeadline, &sealedIncident, &narrative, &c.CreatedAt,
		&kekID, &wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return Case{}, ErrNotFound
	}
	if err != nil {
		return Case{}, fmt.Errorf("casefile: get case: %w", err)
	}
	if wrapped == nil {
		return Case{}, ErrErased
	}
	utc(&c.CreatedAt)
	utcOpt(&c.PEPDeadline, &c.ECDeadline)
	dek, err := s.unwrap(*kekID, wrapped, caseOwner(caseID))
	if err != nil {
		return Case{}, err
	}
	f := sealer{dek, "case_file", caseID}
	incident, err := f.open("incident_sealed", sealedIncident)
	if err != nil {
		return Case{}, err
	}
	if incident != nil {
		var at time.Time
		if err := at.UnmarshalText(incident); err != nil {
			return Case{}, fmt.Errorf("casefile: case %s: incident time does not parse", caseID)
		}
		c.IncidentAt = &at
	}
	pt, err := f.open("narrative_sealed", narrative)
	if err != nil {
		return Case{}, err
	}
	c.Narrative = string(pt)
	for _, n := range c.Needs {
		c.Consent[n] = slices.Contains(consented, n)
	}
	return c, nil
}

// ListFilter selects cases for ListCases; zero fields match everything.
type ListFilter struct {
	ContactID uuid.UUID
	Status    Status
	Limit     int // default and maximum 500
}

// ListCases lists cases in queue order: urgent first, then the nearest
// clinical deadline, then the oldest. Erased cases are listed too (with
// StatusErased) unless the filter excludes them.
func (s *Store) ListCases(ctx context.Context, db DB, f ListFilter) ([]CaseSummary, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 500
	}
	rows, err := db.Query(ctx, `
		SELECT id, reference, contact_id, status, urgent, needs, community, next_deadline, created_at
		FROM case_file
		WHERE ($1::uuid IS NULL OR contact_id = $1) AND ($2 = '' OR status = $2)
		ORDER BY urgent DESC, next_deadline NULLS LAST, created_at, id
		LIMIT $3`, uuidOrNil(f.ContactID), f.Status, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("casefile: list cases: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CaseSummary, error) {
		var c CaseSummary
		err := r.Scan(&c.ID, &c.Reference, &c.ContactID, &c.Status, &c.Urgent, &c.Needs, &c.Community, &c.NextDeadline, &c.CreatedAt)
		utc(&c.CreatedAt)
		utcOpt(&c.NextDeadline)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("casefile: list cases: %w", err)
	}
	return out, nil
}

// CountCases counts cases by status, erased ones included.
func (s *Store) CountCases(ctx context.Context, db DB) (map[Status]int, error) {
	rows, err := db.Query(ctx, `SELECT status, count(*) FROM case_file GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("casefile: count cases: %w", err)
	}
	out := map[Status]int{}
	var (
		st Status
		n  int
	)
	_, err = pgx.ForEachRow(rows, []any{&st, &n}, func() error { out[st] = n; return nil })
	if err != nil {
		return nil, fmt.Errorf("casefile: count cases: %w", err)
	}
	return out, nil
}

func uuidOrNil(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// CaseFacts reads a case's plaintext facts. Like GetCase it gives
// ErrNotFound for an unknown case and ErrErased for an erased one, but it
// opens nothing, so it needs no key and is no opening of sealed content.
func (s *Store) CaseFacts(ctx context.Context, db DB, caseID uuid.UUID) (Facts, error) {
	return s.caseFacts(ctx, db, caseID, "")
}

// LockCaseFacts is CaseFacts holding the case row FOR SHARE until tx ends:
// an erasure of the case waits for tx, and one that committed first gives
// ErrErased. Callers that go on to write rows about the case (a referral)
// use it so that nothing about her is created after her erasure. Take it
// before the audit chain lock (audit.Append) in the same transaction, as
// erasures take the case row before the audit lock.
func (s *Store) LockCaseFacts(ctx context.Context, tx pgx.Tx, caseID uuid.UUID) (Facts, error) {
	return s.caseFacts(ctx, tx, caseID, " FOR SHARE")
}

func (s *Store) caseFacts(ctx context.Context, db DB, caseID uuid.UUID, lock string) (Facts, error) {
	c := Facts{ID: caseID, Consent: map[Need]bool{}}
	var (
		consented []Need
		erased    bool
	)
	err := db.QueryRow(ctx, `
		SELECT reference, contact_id, status, erased_at IS NOT NULL, urgent, needs, consented_needs, community,
			may_text, may_call, contact_from_hour, contact_to_hour, lang, pep_deadline, ec_deadline, created_at
		FROM case_file WHERE id = $1`+lock, caseID).Scan(
		&c.Reference, &c.ContactID, &c.Status, &erased, &c.Urgent, &c.Needs, &consented, &c.Community,
		&c.Contact.MayText, &c.Contact.MayCall, &c.Contact.FromHour, &c.Contact.ToHour, &c.Lang,
		&c.PEPDeadline, &c.ECDeadline, &c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Facts{}, ErrNotFound
	}
	if err != nil {
		return Facts{}, fmt.Errorf("casefile: facts of %s: %w", caseID, err)
	}
	if erased || c.Status == StatusErased {
		return Facts{}, ErrErased
	}
	utc(&c.CreatedAt)
	utcOpt(&c.PEPDeadline, &c.ECDeadline)
	for _, n := range c.Needs {
		c.Consent[n] = slices.Contains(consented, n)
	}
	return c, nil
}
