package referral

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/referral/internal/referraldb"
)

// Get returns one referral.
func (s *Service) Get(ctx context.Context, db DB, referralID uuid.UUID) (Referral, error) {
	row, err := referraldb.New(db).GetReferral(ctx, referralID)
	return oneReferral(row.Referral, err)
}

// ForCase lists a case's referrals, oldest first, escalated ones included.
func (s *Service) ForCase(ctx context.Context, db DB, caseID uuid.UUID) ([]Referral, error) {
	rows, err := referraldb.New(db).CaseReferrals(ctx, caseID)
	if err != nil {
		return nil, err
	}
	out := make([]Referral, len(rows))
	for i, row := range rows {
		out[i] = fromRow(row.Referral)
	}
	return out, nil
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
	rows, err := referraldb.New(db).History(ctx, referralID)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(rows))
	for i, row := range rows {
		out[i] = Event{From: Status(row.FromStatus), To: Status(row.ToStatus), Actor: row.Actor, Reason: row.Reason, At: row.At}
	}
	return out, nil
}

// Overdue is the SLA board: open referrals past their acknowledge-by or
// serve-by time, and breached ones, most urgent and oldest deadline first.
// A serve-by time is met up to and including its instant (as in serveBy and
// the missed job), so it is overdue only strictly after it.
func (s *Service) Overdue(ctx context.Context, db DB) ([]Referral, error) {
	rows, err := referraldb.New(db).Overdue(ctx, openStatuses, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]Referral, len(rows))
	for i, row := range rows {
		out[i] = fromRow(row.Referral)
	}
	return out, nil
}

// StillOpen reports whether a referral may still be acted on (pending,
// notified, acknowledged or accepted). It reads without a lock: the sender
// asks while it holds a message row, and must not queue behind an erasure
// that holds the referral.
func (s *Service) StillOpen(ctx context.Context, db DB, id uuid.UUID) (bool, error) {
	st, err := referraldb.New(db).ReferralStatus(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil && Status(st).Open(), err
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
	rows, err := referraldb.New(db).Stats(ctx, now.Add(-stallGrace), now, openStatuses)
	if err != nil {
		return Stats{}, fmt.Errorf("referral: stats: %w", err)
	}
	st := Stats{Open: make(map[Status]int, len(openStatuses))}
	for _, name := range openStatuses {
		st.Open[Status(name)] = 0
	}
	for _, row := range rows {
		st.Open[Status(row.Status)] = int(row.Open)
		st.AckStalled += int(row.AckStalled)
		st.ServeOverdue += int(row.ServeOverdue)
	}
	return st, nil
}
