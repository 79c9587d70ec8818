package referral

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/jobs"
	"github.com/amparo/amparo/referral/internal/referraldb"
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

// fromRow is a referral row as referraldb reads it (sqlc.embed(referral)),
// its need and status in our own vocabulary.
func fromRow(r referraldb.Referral) Referral {
	return Referral{
		ID: r.ID, CaseID: r.CaseID, ServiceID: r.ServiceID, ParentID: r.ParentID,
		Need: casefile.Need(r.Need), Status: Status(r.Status), Urgent: r.Urgent, Override: r.Override,
		AckBy: r.AckBy, ServeBy: r.ServeBy, BreachedAt: r.BreachedAt, ReplyCode: r.ReplyCode, CodePhone: r.CodePhone,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// oneReferral is the result of a query for one referral: ErrNotFound when
// there is none.
func oneReferral(r referraldb.Referral, err error) (Referral, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return Referral{}, ErrNotFound
	}
	return fromRow(r), err
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
