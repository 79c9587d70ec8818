package casefile

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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
		_, err = tx.Exec(ctx, `INSERT INTO case_note (id, case_id, author, body_sealed, created_at) VALUES ($1, $2, $3, $4, $5)`,
			n.ID, caseID, author, sealed, n.CreatedAt)
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
	rows, err := db.Query(ctx, `SELECT id, author, body_sealed, created_at FROM case_note WHERE case_id = $1 ORDER BY created_at, id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("casefile: notes of %s: %w", caseID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Note, error) {
		var (
			n      Note
			sealed []byte
		)
		if err := r.Scan(&n.ID, &n.Author, &sealed, &n.CreatedAt); err != nil {
			return Note{}, fmt.Errorf("casefile: notes of %s: %w", caseID, err)
		}
		utc(&n.CreatedAt)
		body, err := sealer{dek, "case_note", n.ID}.open("body_sealed", sealed)
		n.Body = string(body)
		return n, err
	})
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
		_, err = tx.Exec(ctx, `
			INSERT INTO follow_up (id, case_id, kind, due_at, urgent, note_sealed, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, caseID, f.Kind, f.DueAt, f.Urgent, sealed, s.now())
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
	rows, err := db.Query(ctx, `
		SELECT id, kind, due_at, urgent, status, note_sealed, created_at
		FROM follow_up WHERE case_id = $1 ORDER BY created_at, id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("casefile: follow-ups of %s: %w", caseID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FollowUp, error) {
		var (
			f      FollowUp
			sealed []byte
		)
		if err := r.Scan(&f.ID, &f.Kind, &f.DueAt, &f.Urgent, &f.Status, &sealed, &f.CreatedAt); err != nil {
			return FollowUp{}, fmt.Errorf("casefile: follow-ups of %s: %w", caseID, err)
		}
		utc(&f.DueAt, &f.CreatedAt)
		note, err := sealer{dek, "follow_up", f.ID}.open("note_sealed", sealed)
		f.Note = string(note)
		return f, err
	})
}

// OpenFollowUps counts the caseworkers' open tasks, urgent and routine,
// without opening any of them.
func (s *Store) OpenFollowUps(ctx context.Context, db DB) (urgent, routine int, err error) {
	err = db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE urgent), count(*) FILTER (WHERE NOT urgent)
		FROM follow_up WHERE status = 'open'`).Scan(&urgent, &routine)
	if err != nil {
		return 0, 0, fmt.Errorf("casefile: count follow-ups: %w", err)
	}
	return urgent, routine, nil
}
