package casefile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/audit"
)

// EraseCase shreds one case: its data key is destroyed, so every sealed
// value of the case (narrative, incident time, notes, follow-up notes) is
// unreadable on every code path and in every later copy of the database;
// the ciphertexts are dropped from the live tables too, as are the clinical
// deadlines (they imply the incident time) and open follow-ups. Erasing an
// erased case is a no-op.
func (s *Store) EraseCase(ctx context.Context, db DB, caseID uuid.UUID, actor string) error {
	return inTx(ctx, db, func(tx pgx.Tx) error {
		var (
			erased bool
			ref    string
		)
		// FOR NO KEY UPDATE, not FOR UPDATE: AddNote, AddFollowUp and
		// referral inserts check their foreign key with FOR KEY SHARE on
		// this row while holding locks this erasure needs next (the case
		// key, the audit chain), so a FOR UPDATE here deadlocks with them
		// and PostgreSQL aborts the erasure. Shredding changes no key
		// column, so the weaker lock is all the UPDATEs below need.
		err := tx.QueryRow(ctx, `SELECT erased_at IS NOT NULL, reference FROM case_file WHERE id = $1 FOR NO KEY UPDATE`, caseID).Scan(&erased, &ref)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("casefile: erase case: %w", err)
		}
		if erased {
			return nil
		}
		now := s.now()
		if err := s.runEraseHook(ctx, tx, []ErasedCase{{ID: caseID, Reference: ref}}, now); err != nil {
			return err
		}
		return s.shredCase(ctx, tx, caseID, actor, now)
	})
}

// runEraseHook runs the erase hook, if any, for cases whose rows the caller
// has locked. It runs before shredCase: a referral worker that holds one of
// the case's referrals may still need the case key (to file a follow-up),
// and must get it before this transaction waits for that referral.
func (s *Store) runEraseHook(ctx context.Context, tx pgx.Tx, cases []ErasedCase, now time.Time) error {
	if len(cases) == 0 {
		return nil
	}
	for _, h := range s.eraseHooks {
		if err := h(ctx, tx, cases, now); err != nil {
			return fmt.Errorf("casefile: erase hook: %w", err)
		}
	}
	return nil
}

// shredCase erases a case whose case_file row the caller has locked.
func (s *Store) shredCase(ctx context.Context, tx pgx.Tx, caseID uuid.UUID, actor string, now time.Time) error {
	steps := []struct {
		sql  string
		args []any
	}{
		{`UPDATE case_key SET kek_id = NULL, wrapped_dek = NULL, destroyed_at = $2 WHERE case_id = $1`, []any{caseID, now}},
		{`UPDATE case_file SET status = 'erased', erased_at = $2, incident_sealed = NULL, narrative_sealed = NULL,
			pep_deadline = NULL, ec_deadline = NULL WHERE id = $1`, []any{caseID, now}},
		{`UPDATE case_note SET body_sealed = NULL WHERE case_id = $1`, []any{caseID}},
		// Some tasks are timed by a clinical deadline (referral's "serve
		// deadline near"), so their times would tell the incident time.
		{`UPDATE follow_up SET note_sealed = NULL, status = CASE WHEN status = 'open' THEN 'canceled' ELSE status END,
			due_at = $2, created_at = $2 WHERE case_id = $1`, []any{caseID, now}},
	}
	for _, st := range steps {
		if _, err := tx.Exec(ctx, st.sql, st.args...); err != nil {
			return fmt.Errorf("casefile: erase case %s: %w", caseID, err)
		}
	}
	if err := audit.Append(ctx, tx, now, audit.Entry{Actor: actor, Action: "case.erase", CaseID: caseID.String()}); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "casefile: case erased", "case_id", caseID)
	return nil
}
