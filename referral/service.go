package referral

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/jobs"
	"github.com/amparo/amparo/roster"
)

// Notifier delivers what referral decides to say; package sms implements it
// with outbound SMS rendered from the message catalogue. Every call runs in
// the caller's transaction, so a notice exists only if the state change that
// needs it commits.
type Notifier interface {
	NotifyProvider(ctx context.Context, tx pgx.Tx, n ProviderNotice) error
	// NotifyWithdrawn tells the provider of n that its request is
	// withdrawn and needs nothing more from them.
	NotifyWithdrawn(ctx context.Context, tx pgx.Tx, n ProviderNotice) error
	// NotifyPassedOn tells the provider of n that its request went to
	// another service and needs nothing more from them.
	NotifyPassedOn(ctx context.Context, tx pgx.Tx, n ProviderNotice) error
	roster.Alerter
	// TellSurvivor tells her where to go now that a provider has taken
	// her request, within the contact profile she gave.
	TellSurvivor(ctx context.Context, tx pgx.Tx, n SurvivorNotice) error
}

// ProviderNotice is a discreet notice to a provider's duty phone: a case
// reference and the code to reply with, nothing about the survivor.
type ProviderNotice struct {
	ReferralID uuid.UUID
	Phone      string // the duty phone, E.164
	Reference  string // the case reference, e.g. "AMP-7K3Q"
	ReplyCode  string // four digits; "OK <code>" acknowledges, "NO <code>" declines
	Lang       string // the provider's language
}

// SurvivorNotice is what she may be told once a provider has taken her
// request. Only health names a place and a time: the intake already told
// her to go to a health centre before her deadline, so the health post's
// name and address say nothing new to whoever reads her phone. Other
// services are named by need only: a shelter's address is secret, and a
// name like "Centro Emergencia Mujer" says what the intake never did.
type SurvivorNotice struct {
	CaseID     uuid.UUID
	ReferralID uuid.UUID
	Need       casefile.Need
	Lang       string         // hers
	Place      string         // health: the service's name and address
	Until      *time.Time     // health: the clinical deadline still open, if any
	Loc        *time.Location // the service's time zone, to read Until in
}

// Actor names the system in referral_event and audit rows.
const actorSystem = "system"

// Errors.
var (
	ErrNotFound = errors.New("referral: not found")
	// ErrNoConsent: the case has no consent for that need and no override
	// reason was given.
	ErrNoConsent = errors.New("referral: no consent for this need")
	// ErrBadInput: an argument is out of range; the message names it.
	ErrBadInput = errors.New("referral: invalid input")
)

// Referral is one request to one provider for one need of a case.
type Referral struct {
	ID         uuid.UUID
	CaseID     uuid.UUID
	ServiceID  uuid.UUID
	ParentID   *uuid.UUID // the referral this one replaced after an escalation or decline
	Need       casefile.Need
	Status     Status
	Urgent     bool
	Override   bool // made without the survivor's consent, on a caseworker's recorded reason
	AckBy      time.Time
	ServeBy    *time.Time
	BreachedAt *time.Time // set when ServeBy passed before the referral completed
	ReplyCode  string
	CodePhone  string // the duty phone the code was sent to
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

const referralCols = `id, case_id, service_id, parent_id, need, status, urgent, override, ack_by, serve_by,
	breached_at, reply_code, code_phone, created_at, updated_at`

func scanReferral(row pgx.Row) (Referral, error) {
	var r Referral
	err := row.Scan(&r.ID, &r.CaseID, &r.ServiceID, &r.ParentID, &r.Need, &r.Status, &r.Urgent, &r.Override,
		&r.AckBy, &r.ServeBy, &r.BreachedAt, &r.ReplyCode, &r.CodePhone, &r.CreatedAt, &r.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// Service is the referral API. It is safe for concurrent use.
type Service struct {
	pool        *pgxpool.Pool
	cases       *casefile.Store
	jobs        jobs.Queue
	notifier    Notifier
	clk         clock.Clock
	log         *slog.Logger
	serveWithin map[casefile.Need]time.Duration
	replyLimit  int
	replyWindow time.Duration
	missLimit   int
	missWindow  time.Duration
	roster      *roster.Roster
	pickCode    codePicker
}

// Option configures a Service.
type Option func(*Service)

// WithLogger sets the logger (default: discard). Service logs ids only.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithRoster sets the on-call roster whose staff, or fallback duty phones,
// referral's staff alerts go to; without it they go to whoever is on call
// and there are no fallback phones.
func WithRoster(r *roster.Roster) Option {
	return func(s *Service) { s.roster = r }
}

// WithWrongCodeLimit sets how many replies with a code that matches nothing
// one provider phone may send per window before its SMS replies are refused
// for the rest of the window (default 5 per 24 hours). Each wrong code is a
// guess at one of 9,000 codes, so the limit bounds the chance that someone
// sending from a duty phone's number hits an open referral's code.
func WithWrongCodeLimit(n int, window time.Duration) Option {
	return func(s *Service) { s.missLimit, s.missWindow = n, window }
}

// New returns a Service. jobs is usually a *jobs.Deferred bound to the River
// client; notifier is the sms Notifier.
func New(pool *pgxpool.Pool, cases *casefile.Store, jobs jobs.Queue, notifier Notifier, clk clock.Clock, opts ...Option) *Service {
	s := &Service{
		pool: pool, cases: cases, jobs: jobs, notifier: notifier, clk: clk,
		log: slog.New(slog.DiscardHandler),
		serveWithin: map[casefile.Need]time.Duration{
			casefile.NeedPolice: 24 * time.Hour,
			casefile.NeedLegal:  72 * time.Hour,
		},
		replyLimit:  10,
		replyWindow: 10 * time.Minute,
		missLimit:   5,
		missWindow:  24 * time.Hour,
		pickCode:    randomPick,
	}
	for _, o := range opts {
		o(s)
	}
	if s.roster == nil {
		s.roster = roster.New(clk, nil)
	}
	return s
}

// now is the injected time at the precision PostgreSQL keeps, so a value
// compared before and after a round trip stays equal.
func (s *Service) now() time.Time { return s.clk.Now().UTC().Truncate(time.Microsecond) }

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
		refs, err := lockRefs(ctx, tx, `r.case_id = $1 AND r.need = ANY($2) AND r.status = ANY($3) AND NOT r.override`,
			c.ID, withdrawn, openStatuses)
		if err != nil {
			return fmt.Errorf("referral: consent withdrawn: %w", err)
		}
		if len(refs) == 0 {
			return nil
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

// Get returns one referral.
func (s *Service) Get(ctx context.Context, db DB, referralID uuid.UUID) (Referral, error) {
	return scanReferral(db.QueryRow(ctx, `SELECT `+referralCols+` FROM referral WHERE id = $1`, referralID))
}

// ForCase lists a case's referrals, oldest first, escalated ones included.
func (s *Service) ForCase(ctx context.Context, db DB, caseID uuid.UUID) ([]Referral, error) {
	rows, err := db.Query(ctx, `SELECT `+referralCols+` FROM referral WHERE case_id = $1 ORDER BY created_at, id`, caseID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Referral, error) { return scanReferral(row) })
}

// Event is one line of a referral's history.
type Event struct {
	From   Status // empty for the creation
	To     Status
	Actor  string
	Reason string
	At     time.Time
}

// History returns a referral's events, oldest first.
func (s *Service) History(ctx context.Context, db DB, referralID uuid.UUID) ([]Event, error) {
	rows, err := db.Query(ctx, `
		SELECT COALESCE(from_status, ''), to_status, actor, reason, at
		FROM referral_event WHERE referral_id = $1 ORDER BY id`, referralID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Event])
}

// Overdue is the SLA board: open referrals past their acknowledge-by or
// serve-by time, and breached ones, most urgent and oldest deadline first.
// A serve-by time is met up to and including its instant (as in serveBy and
// the missed job), so it is overdue only strictly after it.
func (s *Service) Overdue(ctx context.Context, db DB) ([]Referral, error) {
	rows, err := db.Query(ctx, `
		SELECT `+referralCols+` FROM referral
		WHERE status = ANY($1) AND (breached_at IS NOT NULL OR serve_by < $2
			OR (ack_by <= $2 AND status IN ('pending', 'notified')))
		ORDER BY urgent DESC, LEAST(serve_by, ack_by), id`, openStatuses, s.now())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Referral, error) { return scanReferral(row) })
}

// lock reads a referral and holds it until tx ends, so that workers, replies
// and the portal acting at once see each other's result instead of racing.
func (s *Service) lock(ctx context.Context, tx pgx.Tx, id uuid.UUID) (Referral, error) {
	return scanReferral(tx.QueryRow(ctx, `SELECT `+referralCols+` FROM referral WHERE id = $1 FOR NO KEY UPDATE`, id))
}

// StillOpen reports whether a referral may still be acted on (pending,
// notified, acknowledged or accepted). It reads without a lock: the sender
// asks while it holds a message row, and must not queue behind an erasure
// that holds the referral.
func (s *Service) StillOpen(ctx context.Context, db DB, id uuid.UUID) (bool, error) {
	var st Status
	err := db.QueryRow(ctx, `SELECT status FROM referral WHERE id = $1`, id).Scan(&st)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil && st.Open(), err
}

// move applies one edge of the state machine and records it.
func (s *Service) move(ctx context.Context, tx pgx.Tx, r *Referral, to Status, actor, reason string) error {
	if !CanTransition(r.Status, to) {
		return &TransitionError{From: r.Status, To: to}
	}
	now := s.now()
	tag, err := tx.Exec(ctx, `UPDATE referral SET status = $2, updated_at = $3 WHERE id = $1 AND status = $4`,
		r.ID, to, now, r.Status)
	if err != nil {
		return fmt.Errorf("referral: move %s: %w", r.ID, err)
	}
	if tag.RowsAffected() != 1 {
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
		var name, address, tz string
		if err := tx.QueryRow(ctx, `SELECT name, address, timezone FROM service WHERE id = $1`, r.ServiceID).
			Scan(&name, &address, &tz); err != nil {
			return fmt.Errorf("referral: service of %s: %w", r.ID, err)
		}
		if n.Loc, err = time.LoadLocation(tz); err != nil {
			return fmt.Errorf("referral: service of %s: %w", r.ID, err)
		}
		n.Place = name
		if address != "" {
			n.Place += ", " + address
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
	_, err := tx.Exec(ctx, `
		INSERT INTO referral_event (referral_id, from_status, to_status, actor, reason, at)
		VALUES ($1, NULLIF($2, ''), $3, $4, $5, $6)`, id, from, to, actor, reason, at)
	if err != nil {
		return fmt.Errorf("referral: event %s: %w", id, err)
	}
	return nil
}

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

// notice is the provider's view of r: reference, code, and its duty phone
// and language.
func (s *Service) notice(ctx context.Context, tx pgx.Tx, r *Referral, reference string) (ProviderNotice, error) {
	n := ProviderNotice{ReferralID: r.ID, Phone: r.CodePhone, Reference: reference, ReplyCode: r.ReplyCode}
	if err := tx.QueryRow(ctx, `SELECT lang FROM service WHERE id = $1`, r.ServiceID).Scan(&n.Lang); err != nil {
		return n, fmt.Errorf("referral: service of %s: %w", r.ID, err)
	}
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

// refer creates a referral for need, or an urgent task and alert if no
// provider fits. An open referral for the same need is returned as is.
func (s *Service) refer(ctx context.Context, tx pgx.Tx, c casefile.Facts, need casefile.Need, prev *Referral, override bool, actor, reason string) (Referral, bool, error) {
	existing, err := scanReferral(tx.QueryRow(ctx,
		`SELECT `+referralCols+` FROM referral WHERE case_id = $1 AND need = $2 AND status = ANY($3)`,
		c.ID, need, openStatuses))
	if err == nil {
		return existing, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Referral{}, false, err
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT service_id FROM referral WHERE case_id = $1 AND need = $2`, c.ID, need)
	if err != nil {
		return Referral{}, false, err
	}
	tried, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
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

// stallGrace is how long past its acknowledge-by time a referral may wait
// for its escalation job before Stats counts it as stalled: the job fires
// within seconds (DESIGN §8), so a minute means the queue is not running.
const stallGrace = time.Minute

// Stats are the counts a supervisor's dashboard and alerting need; they name
// statuses only.
type Stats struct {
	Open         map[Status]int // open referrals by status
	AckStalled   int            // pending or notified over stallGrace past acknowledge-by, not escalated
	ServeOverdue int            // open past serve-by
}

// Stats counts the open referrals.
func (s *Service) Stats(ctx context.Context, db DB) (Stats, error) {
	now := s.now()
	rows, err := db.Query(ctx, `
		SELECT status, count(*),
			count(*) FILTER (WHERE status IN ('pending', 'notified') AND ack_by < $2),
			count(*) FILTER (WHERE serve_by < $3)
		FROM referral WHERE status = ANY($1) GROUP BY status`, openStatuses, now.Add(-stallGrace), now)
	if err != nil {
		return Stats{}, fmt.Errorf("referral: stats: %w", err)
	}
	st := Stats{Open: make(map[Status]int, len(openStatuses))}
	for _, name := range openStatuses {
		st.Open[Status(name)] = 0
	}
	var (
		status              Status
		n, stalled, overdue int
	)
	_, err = pgx.ForEachRow(rows, []any{&status, &n, &stalled, &overdue}, func() error {
		st.Open[status], st.AckStalled, st.ServeOverdue = n, st.AckStalled+stalled, st.ServeOverdue+overdue
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("referral: stats: %w", err)
	}
	return st, nil
}
