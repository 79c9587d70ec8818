package referral

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/internal/jobs"
	"github.com/amparo/amparo/referral/internal/referraldb"
)

// reasonCaseErased is the reason on the event that revokes a referral whose
// case was erased.
const reasonCaseErased = "case_erased"

// referralJobKinds are the River jobs that carry a referral id.
var referralJobKinds = []string{DispatchArgs{}.Kind(), AckDeadlineArgs{}.Kind(), ServeDeadlineArgs{}.Kind()}

// Withdrawer tells a provider its request is withdrawn: the part of
// Notifier that revoking a referral needs.
type Withdrawer interface {
	NotifyWithdrawn(ctx context.Context, tx pgx.Tx, n ProviderNotice) error
}

// EraseHook returns the casefile.EraseHook that erases what referral holds
// about cases being erased, in the erasure's transaction tx: every open
// referral of theirs is revoked (reason "case_erased", which frees its reply
// code) and its provider, if it was sent the request, is told through n that
// it is withdrawn; every referral of theirs loses its serve-by and breach
// times (for health, serve-by is the PEP or EC deadline, so it tells the
// incident time), the serve-deadline milestone events (timed by that
// deadline) are dropped, and their pending River jobs are deleted, since a
// job's scheduled time is such a deadline too. A job running right now
// cannot be deleted under River; its scheduled time is overwritten with at,
// and it finds its referral revoked when it gets the lock.
//
// n is the Notifier's one call an erasure makes, so that the hook can be
// built before the case store, which a whole Notifier may need.
//
// Pass it to casefile.WithEraseHook. It runs while the erasure holds the
// cases' rows (FOR NO KEY UPDATE), and before it destroys their keys.
func EraseHook(n Withdrawer, q jobs.Queue) casefile.EraseHook {
	return func(ctx context.Context, tx pgx.Tx, cases []casefile.ErasedCase, at time.Time) error {
		return casesErased(ctx, tx, n, q, cases, at)
	}
}

func casesErased(ctx context.Context, tx pgx.Tx, n Withdrawer, q jobs.Queue, cases []casefile.ErasedCase, at time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	caseIDs := make([]uuid.UUID, len(cases))
	references := make(map[uuid.UUID]string, len(cases))
	for i, c := range cases {
		caseIDs[i], references[c.ID] = c.ID, c.Reference
	}
	// Repeat until nothing is left: a worker holding one of these referrals
	// when we asked may create a successor (escalation, decline) before it
	// commits, and that row is not in the snapshot of the statement that
	// waited for it. Rows this transaction has handled never match again.
	db := referraldb.New(tx)
	for {
		rows, err := db.LockErasedReferrals(ctx, caseIDs, openStatuses)
		if err != nil {
			return fmt.Errorf("referral: case erased: %w", err)
		}
		if len(rows) == 0 {
			break
		}
		refs := make([]lockedRef, len(rows))
		ids := make([]uuid.UUID, len(rows))
		for i, row := range rows {
			refs[i], ids[i] = toLockedRef(row), row.ID
		}
		if err := revokeLocked(ctx, tx, n, refs, references, reasonCaseErased, at); err != nil {
			return err
		}
		if err := db.ForgetDeadlines(ctx, at, ids); err != nil {
			return fmt.Errorf("referral: case erased: %w", err)
		}
		if err := db.DeleteMilestoneEvents(ctx, ids, []string{reasonServeNear, reasonServeBreached}); err != nil {
			return fmt.Errorf("referral: case erased: %w", err)
		}
	}
	// Every job of every referral of these cases, not only those handled
	// above: a finished job's row keeps its scheduled time until River
	// prunes it.
	all, err := db.CasesReferralIDs(ctx, caseIDs)
	if err != nil {
		return fmt.Errorf("referral: case erased: %w", err)
	}
	return dropJobs(ctx, tx, q, all, at)
}

// lockedRef is a referral its caller holds FOR NO KEY UPDATE, with what a
// withdrawal notice to its provider needs.
type lockedRef struct {
	ID        uuid.UUID
	Status    Status
	CaseID    uuid.UUID
	ReplyCode string
	CodePhone string
	Lang      string // the provider's
}

// toLockedRef is a row of LockErasedReferrals or (converted to this type,
// its columns being the same) LockWithdrawnReferrals.
func toLockedRef(r referraldb.LockErasedReferralsRow) lockedRef {
	return lockedRef{ID: r.ID, Status: Status(r.Status), CaseID: r.CaseID, ReplyCode: r.ReplyCode, CodePhone: r.CodePhone, Lang: r.Lang}
}

// revokeLocked revokes the open referrals among refs, which the caller has
// locked, recording reason and at on each one's revoked event, and tells
// each provider that was sent its request (through n) that it is withdrawn:
// a provider must not go looking for her, or call her, once she has said
// no. Revoking frees the reply code (after codeQuarantine) and the
// provider's place; closed referrals in refs are left alone. references
// maps case ids to case references.
func revokeLocked(ctx context.Context, tx pgx.Tx, n Withdrawer, refs []lockedRef, references map[uuid.UUID]string, reason string, at time.Time) error {
	db := referraldb.New(tx)
	for _, r := range refs {
		if !r.Status.Open() {
			continue
		}
		if err := db.RevokeReferral(ctx, string(Revoked), at, r.ID); err != nil {
			return fmt.Errorf("referral: revoke %s: %w", r.ID, err)
		}
		// An open referral's status is never empty, so from_status is set.
		if err := db.InsertEvent(ctx, referraldb.InsertEventParams{ReferralID: r.ID, FromStatus: string(r.Status),
			ToStatus: string(Revoked), Actor: actorSystem, Reason: reason, At: at}); err != nil {
			return fmt.Errorf("referral: event %s: %w", r.ID, err)
		}
		if r.Status == Pending {
			continue // not dispatched: the provider knows nothing of it
		}
		if err := n.NotifyWithdrawn(ctx, tx, ProviderNotice{
			ReferralID: r.ID, Phone: r.CodePhone, Reference: references[r.CaseID], ReplyCode: r.ReplyCode, Lang: r.Lang,
		}); err != nil {
			return fmt.Errorf("referral: withdrawal notice for %s: %w", r.ID, err)
		}
	}
	return nil
}

// dropJobsBatch is how many jobs one JobDeleteManyTx call may delete; River
// caps a call at 10,000 and dropJobs repeats until a call deletes fewer.
const dropJobsBatch = 10_000

// dropJobs deletes the River jobs of the referrals ids, through River's
// JobDeleteManyTx. River never deletes a running job, and has no call that
// reschedules one; so the scheduled time of a job running right now is
// overwritten with at here (a deadline job's time tells the deadline), the
// one statement of ours against river_job, and the job finds its referral
// closed when it gets the lock.
func dropJobs(ctx context.Context, tx pgx.Tx, q jobs.Queue, ids []uuid.UUID, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	// Job args are JSON objects; containment by {"referral_id": id} is
	// what River's args index answers.
	refs := make([]map[string]uuid.UUID, len(ids))
	for i, id := range ids {
		refs[i] = map[string]uuid.UUID{"referral_id": id}
	}
	params := river.NewJobDeleteManyParams().Kinds(referralJobKinds...).First(dropJobsBatch).
		Where("args @> ANY(@refs::jsonb[])", river.NamedArgs{"refs": refs})
	for {
		res, err := q.JobDeleteManyTx(ctx, tx, params)
		if err != nil {
			return fmt.Errorf("referral: delete jobs: %w", err)
		}
		if len(res.Jobs) < dropJobsBatch {
			break
		}
	}
	// SQL in Go, not a named query: river_job is River's table, not in our migrations.
	if _, err := tx.Exec(ctx, `UPDATE river_job SET scheduled_at = $3
		WHERE kind = ANY($1) AND args @> ANY($2::jsonb[]) AND state = 'running'`,
		referralJobKinds, refs, at); err != nil {
		return fmt.Errorf("referral: jobs: %w", err)
	}
	return nil
}
