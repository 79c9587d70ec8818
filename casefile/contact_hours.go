package casefile

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/amparo/amparo/casefile/internal/casefiledb"
)

// NextInHours says when her hours next hold: now when now is inside them,
// otherwise the opening of her next allowed hours. Hours are read in zone,
// the deployment's (referral.DirectoryZone), never the server's. FromHour
// is inclusive and ToHour exclusive (it may be 24); FromHour > ToHour wraps
// past midnight, and equal hours mean any hour.
//
// It is the one hours rule: the hotline's texts to her (hotline.ContactAt)
// and a provider reaching her from the portal both apply it, so that what
// she was promised holds whoever contacts her.
func (c ContactPrefs) NextInHours(now time.Time, zone *time.Location) time.Time {
	if c.FromHour == c.ToHour {
		return now
	}
	local := now.In(zone)
	h := local.Hour()
	inside := h >= c.FromHour && h < c.ToHour
	if c.FromHour > c.ToHour {
		inside = h >= c.FromHour || h < c.ToHour
	}
	if inside {
		return now
	}
	open := time.Date(local.Year(), local.Month(), local.Day(), c.FromHour, 0, 0, 0, zone)
	if !open.After(local) {
		open = open.AddDate(0, 0, 1)
	}
	return open
}

// MayContact reports whether she allowed anyone to reach her at all, by
// text or by call.
func (c ContactPrefs) MayContact() bool { return c.MayText || c.MayCall }

// References returns the references of the cases ids, erased ones too (the
// reference is a plaintext column). Unknown ids are left out.
func (s *Store) References(ctx context.Context, db DB, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	out := make(map[uuid.UUID]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := casefiledb.New(db).CaseReferences(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("casefile: references: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Reference
	}
	return out, nil
}
