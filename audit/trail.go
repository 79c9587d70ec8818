package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/amparo/amparo/audit/internal/auditdb"
)

// Row is one stored audit row as a reader sees it.
type Row struct {
	ID     int64
	At     time.Time
	Actor  string
	Action string
	Detail string
}

// ForCase returns the newest rows about the case caseID (a uuid), up to
// limit, newest first. Rows hold coarse facts only, so showing them to a
// supervisor shows nothing of the case's content.
func ForCase(ctx context.Context, db DB, caseID string, limit int) ([]Row, error) {
	rows, err := auditdb.New(db).ForCase(ctx, caseID, int32(limit))
	if err != nil {
		return nil, fmt.Errorf("audit: trail of %s: %w", caseID, err)
	}
	out := make([]Row, len(rows))
	for i, r := range rows {
		out[i] = trailRow(r)
	}
	return out, nil
}

// trailRow is a generated row as a reader sees it.
func trailRow(r auditdb.ForCaseRow) Row {
	return Row{ID: r.ID, At: r.At, Actor: r.Actor, Action: r.Action, Detail: r.Detail}
}
