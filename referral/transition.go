package referral

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral/internal/referraldb"
)

// CreateForCase refers every need of the case she consented to. For each it
// picks a provider and inserts the dispatch and deadline jobs in tx; a need
// nobody can take becomes an urgent caseworker task and a supervisor alert.
// It is idempotent: a need that already has an open referral keeps it, and
// that referral is returned again. Called again after she changes her
// answers, it first revokes (reason "consent_withdrawn") every open referral
// made on consent she has since withdrawn, with its pending jobs; a
// caseworker's override referral, never based on her consent, stays. Needs are taken in casefile.Needs order,
// the same in every transaction, so that two cases cannot deadlock each
// other on provider locks. The case row is held FOR SHARE until tx ends, so
// an erasure of the case either sees these referrals or refuses them.
func (s *Service) CreateForCase(ctx context.Context, tx pgx.Tx, caseID uuid.UUID) ([]Referral, error) {
	c, err := s.cases.LockCaseFacts(ctx, tx, caseID)
	if err != nil {
		return nil, fmt.Errorf("referral: case %s: %w", caseID, err)
	}
	if err := s.revokeWithdrawn(ctx, tx, c); err != nil {
		return nil, err
	}
	var out []Referral
	for _, need := range casefile.Needs {
		if !c.Consent[need] {
			continue
		}
		r, ok, err := s.refer(ctx, tx, c, need, nil, false, actorSystem, "consented")
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// reasonConsentWithdrawn is the reason on the event that revokes a referral
// whose need she no longer consents to.
const reasonConsentWithdrawn = "consent_withdrawn"

// revokeWithdrawn revokes c's open referrals, other than overrides, for needs
// she no longer consents to, and deletes their jobs. It runs before any new
// referral is made in tx, so that its referral locks are taken before the
// provider locks routing takes, the order workers use.
func (s *Service) revokeWithdrawn(ctx context.Context, tx pgx.Tx, c casefile.Facts) error {
	var withdrawn []string
	for _, need := range casefile.Needs {
		if !c.Consent[need] {
			withdrawn = append(withdrawn, string(need))
		}
	}
	if len(withdrawn) == 0 {
		return nil
	}
	now := s.now()
	// Repeat until nothing is left, as an erasure (EraseHook) does: a worker that held
	// one of these referrals when we asked may have escalated it, reading
	// her consent before this transaction changed it, and its successor is
	// not in the snapshot of the statement that waited for it. Rows revoked
	// here never match again.
	for {
		rows, err := referraldb.New(tx).LockWithdrawnReferrals(ctx, c.ID, withdrawn, openStatuses)
		if err != nil {
			return fmt.Errorf("referral: consent withdrawn: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		refs := make([]lockedRef, len(rows))
		for i, row := range rows {
			// The same columns as LockErasedReferrals, so the same row type.
			refs[i] = toLockedRef(referraldb.LockErasedReferralsRow(row))
		}
		ids := make([]uuid.UUID, len(refs))
		for i, r := range refs {
			ids[i] = r.ID
		}
		if err := revokeLocked(ctx, tx, s.notifier, refs, map[uuid.UUID]string{c.ID: c.Reference}, reasonConsentWithdrawn, now); err != nil {
			return err
		}
		if err := dropJobs(ctx, tx, s.jobs, ids, now); err != nil {
			return err
		}
		for _, r := range refs {
			s.log.InfoContext(ctx, "referral: consent withdrawn, revoked", "referral_id", r.ID, "from_status", r.Status)
		}
	}
}

// Refer is a caseworker's referral for one need. Without the survivor's
// consent for that need it requires override, a short reason code (for
// example "imminent_danger"), which is stored on the referral's history and
// audited; free-text justification belongs in a (sealed) case note. routed
// is false when no provider could take it: the urgent task and alert are then
// written in tx, so commit it.
func (s *Service) Refer(ctx context.Context, tx pgx.Tx, caseID uuid.UUID, need casefile.Need, actor, override string) (r Referral, routed bool, err error) {
	if actor == "" || !slices.Contains(casefile.Needs, need) {
		return Referral{}, false, fmt.Errorf("%w: actor and need", ErrBadInput)
	}
	// Held FOR SHARE before the audit lock below: an erasure takes the
	// case row before the audit lock too, so the two cannot deadlock.
	c, err := s.cases.LockCaseFacts(ctx, tx, caseID)
	if err != nil {
		return Referral{}, false, fmt.Errorf("referral: case %s: %w", caseID, err)
	}
	reason := "caseworker"
	overridden := !c.Consent[need]
	if overridden {
		if override == "" {
			return Referral{}, false, ErrNoConsent
		}
		if err := checkReason(override); err != nil {
			return Referral{}, false, err
		}
		reason = "override:" + override
		err := audit.Append(ctx, tx, s.now(), audit.Entry{
			Actor: actor, Action: "referral.consent_override", CaseID: caseID.String(),
			Detail: "need=" + string(need) + " reason=" + override,
		})
		if err != nil {
			return Referral{}, false, err
		}
	}
	return s.refer(ctx, tx, c, need, nil, overridden, actor, reason)
}

// Transition moves a referral on behalf of a person (the portal): accept,
// complete, revoke, expire, or decline (which re-routes to the next
// provider). reason is a short code. Moves the state machine does not allow
// return a *TransitionError.
func (s *Service) Transition(ctx context.Context, tx pgx.Tx, referralID uuid.UUID, to Status, actor, reason string) error {
	if actor == "" {
		return fmt.Errorf("%w: actor", ErrBadInput)
	}
	if err := checkReason(reason); err != nil {
		return err
	}
	r, err := s.lock(ctx, tx, referralID)
	if err != nil {
		return err
	}
	switch to {
	case Escalated:
		return s.escalate(ctx, tx, &r, actor, reason)
	case Declined:
		return s.decline(ctx, tx, &r, actor, reason)
	}
	return s.move(ctx, tx, &r, to, actor, reason)
}

// lock reads a referral and holds it until tx ends, so that workers, replies
// and the portal acting at once see each other's result instead of racing.
func (s *Service) lock(ctx context.Context, tx pgx.Tx, id uuid.UUID) (Referral, error) {
	row, err := referraldb.New(tx).LockReferral(ctx, id)
	return oneReferral(row.Referral, err)
}

// move applies one edge of the state machine and records it.
func (s *Service) move(ctx context.Context, tx pgx.Tx, r *Referral, to Status, actor, reason string) error {
	if !CanTransition(r.Status, to) {
		return &TransitionError{From: r.Status, To: to}
	}
	now := s.now()
	moved, err := referraldb.New(tx).MoveReferral(ctx, referraldb.MoveReferralParams{
		ToStatus: string(to), Now: now, ID: r.ID, FromStatus: string(r.Status)})
	if err != nil {
		return fmt.Errorf("referral: move %s: %w", r.ID, err)
	}
	if moved != 1 {
		// Only reachable if the caller skipped lock: fail rather than record
		// a transition that did not happen.
		return fmt.Errorf("referral: %s changed underneath (not locked)", r.ID)
	}
	if err := s.event(ctx, tx, r.ID, r.Status, to, actor, reason, now); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "referral: moved", "referral_id", r.ID, "from_status", r.Status, "to_status", to, "reason", reason)
	r.Status, r.UpdatedAt = to, now
	if to == Acknowledged {
		// Accepted follows acknowledged in every path, so this is the
		// one moment she is told, whichever way the provider answered.
		return s.tellSurvivor(ctx, tx, r)
	}
	return nil
}

// tellSurvivor asks the notifier to tell her that r's provider has taken
// her request (see SurvivorNotice for what may be named).
func (s *Service) tellSurvivor(ctx context.Context, tx pgx.Tx, r *Referral) error {
	c, err := s.cases.CaseFacts(ctx, tx, r.CaseID)
	if err != nil {
		return s.caseGone(ctx, err, r)
	}
	n := SurvivorNotice{CaseID: c.ID, ReferralID: r.ID, Need: r.Need, Lang: string(c.Lang)}
	if r.Need == casefile.NeedHealth {
		place, err := referraldb.New(tx).ServicePlace(ctx, r.ServiceID)
		if err != nil {
			return fmt.Errorf("referral: service of %s: %w", r.ID, err)
		}
		if n.Loc, err = time.LoadLocation(place.Timezone); err != nil {
			return fmt.Errorf("referral: service of %s: %w", r.ID, err)
		}
		n.Place = place.Name
		if place.Address != "" {
			n.Place += ", " + place.Address
		}
		// The window still open now: PEP may have closed since the
		// referral was made while emergency contraception has not.
		n.Until = s.serveBy(c, r.Need, s.now())
	}
	if err := s.notifier.TellSurvivor(ctx, tx, n); err != nil {
		return fmt.Errorf("referral: tell survivor of %s: %w", r.ID, err)
	}
	return nil
}

func (s *Service) event(ctx context.Context, tx pgx.Tx, id uuid.UUID, from, to Status, actor, reason string, at time.Time) error {
	err := referraldb.New(tx).InsertEvent(ctx, referraldb.InsertEventParams{
		ReferralID: id, FromStatus: string(from), ToStatus: string(to), Actor: actor, Reason: reason, At: at})
	if err != nil {
		return fmt.Errorf("referral: event %s: %w", id, err)
	}
	return nil
}

// notice is the provider's view of r: reference, code, and its duty phone
// and language.
func (s *Service) notice(ctx context.Context, tx pgx.Tx, r *Referral, reference string) (ProviderNotice, error) {
	n := ProviderNotice{ReferralID: r.ID, Phone: r.CodePhone, Reference: reference, ReplyCode: r.ReplyCode}
	lang, err := referraldb.New(tx).ServiceLang(ctx, r.ServiceID)
	if err != nil {
		return n, fmt.Errorf("referral: service of %s: %w", r.ID, err)
	}
	n.Lang = lang
	return n, nil
}

// decline closes r as declined and refers the need onward.
func (s *Service) decline(ctx context.Context, tx pgx.Tx, r *Referral, actor, reason string) error {
	if err := s.move(ctx, tx, r, Declined, actor, reason); err != nil {
		return err
	}
	c, err := s.cases.CaseFacts(ctx, tx, r.CaseID)
	if err != nil {
		return s.caseGone(ctx, err, r)
	}
	_, _, err = s.successor(ctx, tx, c, r)
	return err
}

// caseGone ends the chase for an erased case: there is nobody left to refer,
// and erasure must not be undone by a follow-up that names her case.
func (s *Service) caseGone(ctx context.Context, err error, r *Referral) error {
	if errors.Is(err, casefile.ErrErased) {
		s.log.InfoContext(ctx, "referral: case erased, not re-routing", "referral_id", r.ID)
		return nil
	}
	return fmt.Errorf("referral: case of %s: %w", r.ID, err)
}

// refer creates a referral for need, or an urgent task and alert if no
// provider fits. An open referral for the same need is returned as is.
func (s *Service) refer(ctx context.Context, tx pgx.Tx, c casefile.Facts, need casefile.Need, prev *Referral, override bool, actor, reason string) (Referral, bool, error) {
	q := referraldb.New(tx)
	open, err := q.OpenReferralForNeed(ctx, c.ID, string(need), openStatuses)
	existing, err := oneReferral(open.Referral, err)
	if err == nil {
		return existing, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Referral{}, false, err
	}
	tried, err := q.TriedServices(ctx, c.ID, string(need))
	if err != nil {
		return Referral{}, false, err
	}
	var from *uuid.UUID
	if prev != nil {
		from = &prev.ServiceID
	}
	p, ok, err := s.pick(ctx, tx, need, c.Community, from, tried)
	if err != nil {
		return Referral{}, false, err
	}
	if !ok {
		return Referral{}, false, s.noProvider(ctx, tx, c, need)
	}
	r, err := s.insert(ctx, tx, c, need, p, prev, override, actor, reason)
	return r, err == nil, err
}
