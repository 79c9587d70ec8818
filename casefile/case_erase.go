package casefile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/casefile/internal/casefiledb"
)

// EraseCase shreds one case: its data key is destroyed, so every sealed
// value of the case (narrative, incident time, notes, follow-up notes) is
// unreadable on every code path and in every later copy of the database;
// the ciphertexts are dropped from the live tables too, as are the clinical
// deadlines (they imply the incident time) and open follow-ups. Erasing an
// erased case is a no-op.
func (s *Store) EraseCase(ctx context.Context, db DB, caseID uuid.UUID, actor string) error {
	return inTx(ctx, db, func(tx pgx.Tx) error {
		// FOR NO KEY UPDATE, not FOR UPDATE: the query says why.
		row, err := casefiledb.New(tx).CaseRowForNoKeyUpdate(ctx, caseID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("casefile: erase case: %w", err)
		}
		if row.ErasedAt != nil {
			return nil
		}
		now := s.now()
		if err := s.runEraseHook(ctx, tx, []ErasedCase{{ID: caseID, Reference: row.Reference}}, now); err != nil {
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
	q := casefiledb.New(tx)
	err := q.ShredCaseKey(ctx, now, caseID)
	if err == nil {
		err = q.ShredCase(ctx, now, caseID)
	}
	if err == nil {
		err = q.ShredCaseNotes(ctx, caseID)
	}
	if err == nil {
		err = q.ShredFollowUps(ctx, now, caseID)
	}
	if err != nil {
		return fmt.Errorf("casefile: erase case %s: %w", caseID, err)
	}
	if err := audit.Append(ctx, tx, now, audit.Entry{Actor: actor, Action: "case.erase", CaseID: caseID.String()}); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "casefile: case erased", "case_id", caseID)
	return nil
}
