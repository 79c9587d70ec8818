package referral

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// StalledCases returns up to limit cases with a referral that waits for a
// provider past its acknowledge-by time, each with the earliest such time.
// The escalation job moves such a referral on within seconds; one still
// waiting means escalation found nobody, which needs a person. The
// caseworker's desk ranks these after clinical windows.
func (s *Service) StalledCases(ctx context.Context, db DB, limit int) (map[uuid.UUID]time.Time, error) {
	rows, err := db.Query(ctx, `
		SELECT case_id, min(ack_by) FROM (
			SELECT case_id, ack_by FROM referral
			WHERE status IN ('pending', 'notified') AND ack_by <= $1
			ORDER BY ack_by LIMIT $2) s
		GROUP BY case_id`, s.now(), limit)
	if err != nil {
		return nil, fmt.Errorf("referral: stalled cases: %w", err)
	}
	out := map[uuid.UUID]time.Time{}
	var (
		id    uuid.UUID
		since time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &since}, func() error { out[id] = since.UTC(); return nil })
	if err != nil {
		return nil, fmt.Errorf("referral: stalled cases: %w", err)
	}
	return out, nil
}
