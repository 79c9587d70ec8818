package casefile

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile/internal/casefiledb"
)

// Note is a caseworker's note on a case.
type Note struct {
	ID        uuid.UUID
	Author    string // staff user id
	Body      string
	CreatedAt time.Time
}

// FollowUp is a caseworker task on a case. ID, Status and CreatedAt are set
// by the store.
type FollowUp struct {
	ID        uuid.UUID
	Kind      FollowUpKind
	DueAt     time.Time
	Urgent    bool
	Note      string
	Status    FollowUpStatus
	CreatedAt time.Time
}

// AddNote adds a note, sealed under the case key.
func (s *Store) AddNote(ctx context.Context, db DB, caseID uuid.UUID, author, body string) (Note, error) {
	if author == "" {
		return Note{}, invalid("author")
	}
	if body == "" || len(body) > maxSealedText {
		return Note{}, invalid("note body (empty or too long)")
	}
	n := Note{ID: uuid.New(), Author: author, Body: body, CreatedAt: s.now()}
	err := inTx(ctx, db, func(tx pgx.Tx) error {
		dek, err := s.caseKey(ctx, tx, caseID, true)
		if err != nil {
			return err
		}
		sealed, err := sealer{dek, "case_note", n.ID}.seal("body_sealed", []byte(body))
		if err != nil {
			return err
		}
		err = casefiledb.New(tx).InsertNote(ctx, casefiledb.InsertNoteParams{
			ID: n.ID, CaseID: caseID, Author: author, BodySealed: sealed, CreatedAt: n.CreatedAt,
		})
		if err != nil {
			return fmt.Errorf("casefile: add note to %s: %w", caseID, err)
		}
		return nil
	})
	if err != nil {
		return Note{}, err
	}
	return n, nil
}

// Notes returns the case's notes, oldest first.
func (s *Store) Notes(ctx context.Context, db DB, caseID uuid.UUID) ([]Note, error) {
	dek, err := s.caseKey(ctx, db, caseID, false)
	if err != nil {
		return nil, err
	}
	rows, err := casefiledb.New(db).Notes(ctx, caseID)
	if err != nil {
		return nil, fmt.Errorf("casefile: notes of %s: %w", caseID, err)
	}
	out := make([]Note, len(rows))
	for i, r := range rows {
		body, err := sealer{dek, "case_note", r.ID}.open("body_sealed", r.BodySealed)
		if err != nil {
			return nil, err
		}
		out[i] = Note{ID: r.ID, Author: r.Author, Body: string(body), CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

// AddFollowUp adds a caseworker task; its note is sealed under the case key.
func (s *Store) AddFollowUp(ctx context.Context, db DB, caseID uuid.UUID, f FollowUp) error {
	// A kind is a plaintext column: only a listed code may land there,
	// never free text (and so content).
	if !slices.Contains(FollowUpKinds, f.Kind) {
		return invalid("follow-up kind")
	}
	if f.DueAt.IsZero() {
		return invalid("follow-up due time")
	}
	if len(f.Note) > maxSealedText {
		return invalid("follow-up note (too long)")
	}
	id := uuid.New()
	return inTx(ctx, db, func(tx pgx.Tx) error {
		dek, err := s.caseKey(ctx, tx, caseID, true)
		if err != nil {
			return err
		}
		sealed, err := sealer{dek, "follow_up", id}.seal("note_sealed", []byte(f.Note))
		if err != nil {
			return err
		}
		err = casefiledb.New(tx).InsertFollowUp(ctx, casefiledb.InsertFollowUpParams{
			ID: id, CaseID: caseID, Kind: string(f.Kind), DueAt: f.DueAt, Urgent: f.Urgent, NoteSealed: sealed, CreatedAt: s.now(),
		})
		if err != nil {
			return fmt.Errorf("casefile: add follow-up to %s: %w", caseID, err)
		}
		s.log.InfoContext(ctx, "casefile: follow-up added", "case_id", caseID, "kind", f.Kind, "urgent", f.Urgent)
		return nil
	})
}

// FollowUps returns the case's tasks, oldest first.
func (s *Store) FollowUps(ctx context.Context, db DB, caseID uuid.UUID) ([]FollowUp, error) {
	dek, err := s.caseKey(ctx, db, caseID, false)
	if err != nil {
		return nil, err
	}
	rows, err := casefiledb.New(db).FollowUps(ctx, caseID)
	if err != nil {
		return nil, fmt.Errorf("casefile: follow-ups of %s: %w", caseID, err)
	}
	out := make([]FollowUp, len(rows))
	for i, r := range rows {
		note, err := sealer{dek, "follow_up", r.ID}.open("note_sealed", r.NoteSealed)
		if err != nil {
			return nil, err
		}
		out[i] = FollowUp{
			ID: r.ID, Kind: FollowUpKind(r.Kind), DueAt: r.DueAt.UTC(), Urgent: r.Urgent, Note: string(note),
			Status: FollowUpStatus(r.Status), CreatedAt: r.CreatedAt.UTC(),
		}
	}
	return out, nil
}

// OpenFollowUps counts the caseworkers' open tasks, urgent and routine,
// without opening any of them.
func (s *Store) OpenFollowUps(ctx context.Context, db DB) (urgent, routine int, err error) {
	n, err := casefiledb.New(db).OpenFollowUps(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("casefile: count follow-ups: %w", err)
	}
	return int(n.Urgent), int(n.Routine), nil
}
