package casefile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile/internal/casefiledb"
	"github.com/amparo/amparo/crypto"
)

// Reference returns a case's reference without opening the case: it is a
// plaintext column, so it costs no key and no decryption, and it is there
// for an erased case too (as in ListCases).
func (s *Store) Reference(ctx context.Context, db DB, caseID uuid.UUID) (string, error) {
	ref, err := casefiledb.New(db).CaseReference(ctx, caseID)
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
	read := casefiledb.New(db).KeyOfCase
	if lock {
		read = casefiledb.New(db).KeyOfCaseForShare
	}
	k, err := read(ctx, caseID)
	return s.loadKey(k.KekID, k.WrappedDek, err, caseOwner(caseID), "case")
}

// loadKey unwraps the (kek_id, wrapped_dek) a query read, for owner, given
// the query's error: ErrNotFound without a row, ErrErased when the key was
// shredded.
func (s *Store) loadKey(kekID *string, wrapped []byte, err error, owner, what string) (*crypto.DataKey, error) {
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

// factsOf turns a case_file row into Facts: the one place that knows which
// column is which, so GetCase, CaseFacts, ListCases and CompleteCase read
// the same row the same way. Times come back in UTC, as the store writes
// them. It decides nothing about erasure (see caseFacts).
func factsOf(r casefiledb.CaseFile) Facts {
	f := Facts{
		ID: r.ID, Reference: r.Reference, ContactID: r.ContactID, Status: Status(r.Status), Urgent: r.Urgent,
		Needs: needsOf(r.Needs), Consent: make(map[Need]bool, len(r.Needs)), Community: r.Community,
		Contact: ContactPrefs{MayText: r.MayText, MayCall: r.MayCall, FromHour: int(r.ContactFromHour), ToHour: int(r.ContactToHour)},
		Lang:    Lang(r.Lang), PEPDeadline: r.PepDeadline, ECDeadline: r.EcDeadline, CreatedAt: r.CreatedAt,
	}
	for _, n := range r.Needs {
		f.Consent[Need(n)] = slices.Contains(r.ConsentedNeeds, n)
	}
	utc(&f.CreatedAt)
	utcOpt(&f.PEPDeadline, &f.ECDeadline)
	return f
}

// caseOf is a Case with a row's plaintext facts; the sealed fields (the
// incident time and the narrative) are the caller's to open.
func caseOf(r casefiledb.CaseFile) Case {
	f := factsOf(r)
	return Case{
		ID: f.ID, Reference: f.Reference, ContactID: f.ContactID, Status: f.Status, Urgent: f.Urgent,
		Needs: f.Needs, Consent: f.Consent, Community: f.Community, Contact: f.Contact, Lang: f.Lang,
		PEPDeadline: f.PEPDeadline, ECDeadline: f.ECDeadline, CreatedAt: f.CreatedAt,
	}
}

// summaryOf is a row as lists show it.
func summaryOf(r casefiledb.CaseFile) CaseSummary {
	f := factsOf(r)
	next := r.NextDeadline
	utcOpt(&next)
	return CaseSummary{
		ID: f.ID, Reference: f.Reference, ContactID: f.ContactID, Status: f.Status, Urgent: f.Urgent,
		Needs: f.Needs, Community: f.Community, NextDeadline: next, CreatedAt: f.CreatedAt,
	}
}

// GetCase opens a case. It does not audit: a caller acting for a person
// (the portal) records that person's opening in the same transaction.
func (s *Store) GetCase(ctx context.Context, db DB, caseID uuid.UUID) (Case, error) {
	row, err := casefiledb.New(db).GetCase(ctx, caseID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Case{}, ErrNotFound
	}
	if err != nil {
		return Case{}, fmt.Errorf("casefile: get case: %w", err)
	}
	if row.WrappedDek == nil {
		return Case{}, ErrErased
	}
	c := caseOf(row.CaseFile)
	dek, err := s.unwrap(*row.KekID, row.WrappedDek, caseOwner(caseID))
	if err != nil {
		return Case{}, err
	}
	f := sealer{dek, "case_file", caseID}
	incident, err := f.open("incident_sealed", row.CaseFile.IncidentSealed)
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
	pt, err := f.open("narrative_sealed", row.CaseFile.NarrativeSealed)
	if err != nil {
		return Case{}, err
	}
	c.Narrative = string(pt)
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
	rows, err := casefiledb.New(db).ListCases(ctx, uuidOrNil(f.ContactID), string(f.Status), int32(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("casefile: list cases: %w", err)
	}
	out := make([]CaseSummary, len(rows))
	for i, r := range rows {
		out[i] = summaryOf(r)
	}
	return out, nil
}

// CountCases counts cases by status, erased ones included.
func (s *Store) CountCases(ctx context.Context, db DB) (map[Status]int, error) {
	rows, err := casefiledb.New(db).CountCases(ctx)
	if err != nil {
		return nil, fmt.Errorf("casefile: count cases: %w", err)
	}
	out := map[Status]int{}
	for _, r := range rows {
		out[Status(r.Status)] = int(r.Count)
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
	return s.caseFacts(ctx, caseID, casefiledb.New(db).CaseRow)
}

// LockCaseFacts is CaseFacts holding the case row FOR SHARE until tx ends:
// an erasure of the case waits for tx, and one that committed first gives
// ErrErased. Callers that go on to write rows about the case (a referral)
// use it so that nothing about her is created after her erasure. Take it
// before the audit chain lock (audit.Append) in the same transaction, as
// erasures take the case row before the audit lock.
func (s *Store) LockCaseFacts(ctx context.Context, tx pgx.Tx, caseID uuid.UUID) (Facts, error) {
	return s.caseFacts(ctx, caseID, casefiledb.New(tx).CaseRowForShare)
}

// caseFacts reads the case row with read (locking it or not).
func (s *Store) caseFacts(ctx context.Context, caseID uuid.UUID, read func(context.Context, uuid.UUID) (casefiledb.CaseFile, error)) (Facts, error) {
	row, err := read(ctx, caseID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Facts{}, ErrNotFound
	}
	if err != nil {
		return Facts{}, fmt.Errorf("casefile: facts of %s: %w", caseID, err)
	}
	if row.ErasedAt != nil || Status(row.Status) == StatusErased {
		return Facts{}, ErrErased
	}
	return factsOf(row), nil
}
