package referral

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/roster"
)

// escalate closes r as escalated, tells its provider (if it was sent the
// request) that it passed to another service, and refers the need onward.
// Each escalation has exactly one outcome for staff: when the need found a
// next provider, the supervisor on call is told it moved on (with nobody
// on call, a caseworker task too); when none fits, noProvider has already
// raised the one "no service available" alert and task.
func (s *Service) escalate(ctx context.Context, tx pgx.Tx, r *Referral, actor, reason string) error {
	from := r.Status
	if err := s.move(ctx, tx, r, Escalated, actor, reason); err != nil {
		return err
	}
	c, err := s.cases.CaseFacts(ctx, tx, r.CaseID)
	if err != nil {
		return s.caseGone(ctx, err, r)
	}
	if from != Pending {
		n, err := s.notice(ctx, tx, r, c.Reference)
		if err != nil {
			return err
		}
		if err := s.notifier.NotifyPassedOn(ctx, tx, n); err != nil {
			return fmt.Errorf("referral: passed-on notice for %s: %w", r.ID, err)
		}
	}
	if _, routed, err := s.successor(ctx, tx, c, r); err != nil || !routed {
		return err
	}
	_, rostered, err := s.roster.Alert(ctx, tx, s.notifier, roster.AlertEscalated, c.ID, c.Reference)
	if err != nil || rostered {
		return err
	}
	return s.followUp(ctx, tx, c.ID, casefile.FollowUpEscalated, r.Need)
}

// successor refers prev's need to the next provider: first along prev's
// escalation chain, then anyone else who fits, never one already tried for
// this need of this case. Consent is checked again, since she may have
// withdrawn it since the first referral.
func (s *Service) successor(ctx context.Context, tx pgx.Tx, c casefile.Facts, prev *Referral) (Referral, bool, error) {
	if !prev.Override && !c.Consent[prev.Need] {
		s.log.InfoContext(ctx, "referral: consent withdrawn, not re-routing", "referral_id", prev.ID)
		return Referral{}, false, nil
	}
	return s.refer(ctx, tx, c, prev.Need, prev, prev.Override, actorSystem, "rerouted")
}

func (s *Service) noProvider(ctx context.Context, tx pgx.Tx, c casefile.Facts, need casefile.Need) error {
	s.log.WarnContext(ctx, "referral: no provider fits", "case_id", c.ID, "need", need)
	if err := s.followUp(ctx, tx, c.ID, casefile.FollowUpNoProvider, need); err != nil {
		return err
	}
	_, _, err := s.roster.Alert(ctx, tx, s.notifier, roster.AlertNoProvider, c.ID, c.Reference)
	return err
}

// followUp files an urgent caseworker task due now; the note is the need, a
// code, so the task says what to chase without any survivor detail.
func (s *Service) followUp(ctx context.Context, tx pgx.Tx, caseID uuid.UUID, kind casefile.FollowUpKind, need casefile.Need) error {
	err := s.cases.AddFollowUp(ctx, tx, caseID, casefile.FollowUp{Kind: kind, DueAt: s.now(), Urgent: true, Note: string(need)})
	if err != nil {
		return fmt.Errorf("referral: follow-up for case %s: %w", caseID, err)
	}
	return nil
}
