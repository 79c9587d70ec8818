package referral

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral/internal/referraldb"
)

// provider is a service row as routing needs it.
type provider struct {
	ID          uuid.UUID
	Kind        Kind
	Needs       []casefile.Need
	Communities []string
	Hours       Hours
	Loc         *time.Location
	Capacity    int
	DutyPhone   string
	Lang        string
	AckUrgent   int
	AckRoutine  int
	Next        *uuid.UUID
	Active      bool
}

// toProvider is a service row (sqlc.embed(service)) as routing needs it,
// its schedule read and its time zone loaded.
func toProvider(v referraldb.Service) (provider, error) {
	p := provider{
		ID: v.ID, Kind: Kind(v.Kind), Needs: make([]casefile.Need, len(v.Needs)), Communities: v.Communities,
		Capacity: int(v.Capacity), DutyPhone: v.DutyPhone, Lang: v.Lang,
		AckUrgent: int(v.AckUrgentMin), AckRoutine: int(v.AckRoutineMin), Next: v.NextServiceID, Active: v.Active,
	}
	for i, n := range v.Needs {
		p.Needs[i] = casefile.Need(n)
	}
	if err := json.Unmarshal(v.Hours, &p.Hours); err != nil {
		return p, fmt.Errorf("referral: service %s: %w", p.ID, err)
	}
	var err error
	if p.Loc, err = time.LoadLocation(v.Timezone); err != nil {
		return p, fmt.Errorf("referral: service %s: %w", p.ID, err)
	}
	return p, nil
}

// providerByID reads one service as routing needs it.
func providerByID(ctx context.Context, db *referraldb.Queries, id uuid.UUID) (provider, error) {
	row, err := db.Provider(ctx, id)
	if err != nil {
		return provider{}, err
	}
	return toProvider(row.Service)
}

// fits reports whether p could take need for community at now, leaving
// capacity to the locked check in take.
func (p provider) fits(need casefile.Need, community string, now time.Time) bool {
	return p.Active && slices.Contains(p.Needs, need) &&
		(slices.Contains(p.Communities, community) || slices.Contains(p.Communities, AnyCommunity)) &&
		p.Hours.OpenAt(now, p.Loc)
}

// pick chooses the provider for need: first along the escalation chain after
// from (if any), then by priority among all who cover the community. A
// provider that is inactive, closed now, full, or in exclude is skipped at
// once rather than given a chance to time out.
func (s *Service) pick(ctx context.Context, tx pgx.Tx, need casefile.Need, community string, from *uuid.UUID, exclude []uuid.UUID) (provider, bool, error) {
	community = normalizeCommunity(community)
	now := s.now()
	db := referraldb.New(tx)
	seen := slices.Clone(exclude)
	if from != nil {
		seen = append(seen, *from)
		next, err := providerByID(ctx, db, *from)
		if err != nil {
			return provider{}, false, fmt.Errorf("referral: chain start %s: %w", *from, err)
		}
		for next.Next != nil && !slices.Contains(seen, *next.Next) {
			id := *next.Next
			seen = append(seen, id)
			if next, err = providerByID(ctx, db, id); err != nil {
				return provider{}, false, fmt.Errorf("referral: chain %s: %w", id, err)
			}
			if ok, err := s.take(ctx, tx, next, need, community, now); ok || err != nil {
				return next, ok, err
			}
		}
	}
	rows, err := db.Candidates(ctx, string(need), community, seen)
	if err != nil {
		return provider{}, false, err
	}
	candidates := make([]provider, len(rows))
	for i, row := range rows {
		if candidates[i], err = toProvider(row.Service); err != nil {
			return provider{}, false, err
		}
	}
	for _, p := range candidates {
		if ok, err := s.take(ctx, tx, p, need, community, now); ok || err != nil {
			return p, ok, err
		}
	}
	return provider{}, false, nil
}

// take reports whether p fits and has room. The service row is locked for
// the rest of tx, so two referrals racing for its last place cannot both
// get it.
func (s *Service) take(ctx context.Context, tx pgx.Tx, p provider, need casefile.Need, community string, now time.Time) (bool, error) {
	if !p.fits(need, community, now) {
		return false, nil
	}
	db := referraldb.New(tx)
	if err := db.LockService(ctx, p.ID); err != nil {
		return false, fmt.Errorf("referral: lock %s: %w", p.ID, err)
	}
	open, err := db.CountOpenReferrals(ctx, p.ID, openStatuses)
	if err != nil {
		return false, fmt.Errorf("referral: capacity of %s: %w", p.ID, err)
	}
	return open < int64(p.Capacity), nil
}

// Job stages; with the referral id they make a job unique.
const (
	stageNear   = "near"
	stageMissed = "missed"
)

// insert writes a new pending referral to p with its history line and
// schedules its dispatch and deadline jobs in the same transaction.
func (s *Service) insert(ctx context.Context, tx pgx.Tx, c casefile.Facts, need casefile.Need, p provider, prev *Referral, override bool, actor, reason string) (Referral, error) {
	now := s.now()
	ack := p.AckRoutine
	if c.Urgent {
		ack = p.AckUrgent
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Referral{}, err
	}
	code, err := nextCode(ctx, tx, p.DutyPhone, now, s.pickCode)
	if err != nil {
		return Referral{}, err
	}
	r := Referral{
		ID: id, CaseID: c.ID, ServiceID: p.ID, Need: need, Status: Pending, Urgent: c.Urgent, Override: override,
		AckBy: now.Add(time.Duration(ack) * time.Minute), ServeBy: s.serveBy(c, need, now),
		ReplyCode: code, CodePhone: p.DutyPhone, CreatedAt: now, UpdatedAt: now,
	}
	if prev != nil {
		r.ParentID = &prev.ID
	}
	err = referraldb.New(tx).InsertReferral(ctx, referraldb.InsertReferralParams{
		ID: r.ID, CaseID: r.CaseID, ServiceID: r.ServiceID, ParentID: r.ParentID, Need: string(r.Need),
		Status: string(r.Status), Urgent: r.Urgent, Override: r.Override, AckBy: r.AckBy, ServeBy: r.ServeBy,
		ReplyCode: r.ReplyCode, CodePhone: r.CodePhone, Now: now, Community: c.Community})
	if err != nil {
		return Referral{}, fmt.Errorf("referral: insert: %w", err)
	}
	if err := s.event(ctx, tx, r.ID, "", Pending, actor, reason, now); err != nil {
		return Referral{}, err
	}
	if err := s.schedule(ctx, tx, r); err != nil {
		return Referral{}, err
	}
	s.log.InfoContext(ctx, "referral: created", "referral_id", r.ID, "case_id", r.CaseID, "service_id", r.ServiceID, "need", need)
	return r, nil
}

func (s *Service) schedule(ctx context.Context, tx pgx.Tx, r Referral) error {
	unique := river.UniqueOpts{ByArgs: true}
	type job struct {
		args river.JobArgs
		at   time.Time
	}
	todo := []job{{DispatchArgs{ReferralID: r.ID}, time.Time{}}, {AckDeadlineArgs{ReferralID: r.ID}, r.AckBy}}
	if r.ServeBy != nil {
		todo = append(todo,
			job{ServeDeadlineArgs{ReferralID: r.ID, Stage: stageNear}, nearAt(r.CreatedAt, *r.ServeBy)},
			job{ServeDeadlineArgs{ReferralID: r.ID, Stage: stageMissed}, *r.ServeBy})
	}
	for _, j := range todo {
		if _, err := s.jobs.InsertTx(ctx, tx, j.args, &river.InsertOpts{ScheduledAt: j.at, UniqueOpts: unique}); err != nil {
			return fmt.Errorf("referral: schedule %s for %s: %w", j.args.Kind(), r.ID, err)
		}
	}
	return nil
}

// nearAt is when to warn that serve-by approaches: two hours before, or a
// quarter of the window before when the window is short.
func nearAt(created, serveBy time.Time) time.Time {
	return serveBy.Add(-min(2*time.Hour, serveBy.Sub(created)/4))
}

// serveBy is the deadline for serving need. For health it is the clinical
// window that is still open: PEP (incident + 72 h), else emergency
// contraception (+ 120 h), taken from the case, open as casefile.WindowOpen
// says. Other needs use the configured default, if any.
func (s *Service) serveBy(c casefile.Facts, need casefile.Need, now time.Time) *time.Time {
	if need == casefile.NeedHealth {
		for _, d := range []*time.Time{c.PEPDeadline, c.ECDeadline} {
			if d != nil && casefile.WindowOpen(*d, now) {
				return d
			}
		}
	}
	if d, ok := s.serveWithin[need]; ok {
		t := now.Add(d)
		return &t
	}
	return nil
}

// Codes are four digits without a leading zero, so that no phone keyboard or
// spreadsheet ever shortens one.
const (
	firstCode = 1000
	lastCode  = 9999
)

// codeQuarantine is how long a code stays out of use for a phone after its
// referral closes. Providers answer late: a nurse reads last night's notice
// after a shift, long after the referral escalated. Were the code handed
// straight to that phone's next referral, her "NO 1000" meant for the old one
// would decline the new one. A day covers a shift and a night; with 9,000
// codes per phone it costs nothing, and a reply to a quarantined code finds
// no open referral and changes nothing.
const codeQuarantine = 24 * time.Hour

// nextCode draws, with pick, one of the codes of phone that are neither
// held by an open referral nor quarantined (their referral closed less than
// codeQuarantine before now; a closed referral's updated_at is when it
// closed, or later). A code that could be foreseen (the smallest free one,
// say) would let anyone who can send from the duty phone's number answer a
// referral without having read its notice. The advisory lock serialises code
// choice per phone; the partial unique index on (code_phone, reply_code) is
// the backstop.
func nextCode(ctx context.Context, tx pgx.Tx, phone string, now time.Time, pick codePicker) (string, error) {
	db := referraldb.New(tx)
	if err := db.LockPhoneCodes(ctx, phone); err != nil {
		return "", err
	}
	codes, err := db.UsedCodes(ctx, phone, openStatuses, now.Add(-codeQuarantine))
	if err != nil {
		return "", fmt.Errorf("referral: reply code: %w", err)
	}
	used := make([]int, len(codes))
	for i, c := range codes {
		used[i] = int(c)
	}
	code, err := freeCode(pick, used)
	if err != nil {
		return "", fmt.Errorf("referral: reply code of a duty phone: %w", err)
	}
	return fmt.Sprint(code), nil
}

// ErrNoFreeCode means every four-digit code is in use or quarantined.
var ErrNoFreeCode = errors.New("every reply code is in use or quarantined")

// DrawCode returns a four-digit reply code not in used (sorted ascending),
// drawn at random: a code that followed from the last one could be guessed
// by whoever spoofs the phone it was sent to. Staff alerts use it too.
func DrawCode(used []int) (int, error) { return freeCode(randomPick, used) }

func freeCode(pick codePicker, used []int) (int, error) {
	free := lastCode - firstCode + 1 - len(used)
	if free <= 0 {
		return 0, ErrNoFreeCode
	}
	k, err := pick(free)
	if err != nil {
		return 0, err
	}
	return nthFree(k, used), nil
}

// nthFree returns the k-th (from 0) code in [firstCode, lastCode] that is not
// in used, which is sorted ascending.
func nthFree(k int, used []int) int {
	c := firstCode + k
	for _, u := range used {
		if u > c {
			break
		}
		c++
	}
	return c
}

// codePicker returns an index in [0, n).
type codePicker func(n int) (int, error)

// randomPick draws from crypto/rand: codes must not follow from one another.
func randomPick(n int) (int, error) {
	i, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, err
	}
	return int(i.Int64()), nil
}
