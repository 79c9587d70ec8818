package referral

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/amparo/amparo/referral/internal/referraldb"
)

// StalledCases returns up to limit cases with a referral that waits for a
// provider past its acknowledge-by time, each with the earliest such time.
// The escalation job moves such a referral on within seconds; one still
// waiting means escalation found nobody, which needs a person. The
// caseworker's desk ranks these after clinical windows.
func (s *Service) StalledCases(ctx context.Context, db DB, limit int) (map[uuid.UUID]time.Time, error) {
	rows, err := referraldb.New(db).StalledCases(ctx, s.now(), int32(min(limit, math.MaxInt32)))
	if err != nil {
		return nil, fmt.Errorf("referral: stalled cases: %w", err)
	}
	out := make(map[uuid.UUID]time.Time, len(rows))
	for _, row := range rows {
		out[row.CaseID] = row.Since.UTC()
	}
	return out, nil
}
