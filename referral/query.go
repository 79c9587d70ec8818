package referral

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

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
