package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
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
	rows, err := db.Query(ctx, `SELECT id, at, actor, action, detail FROM audit_log
		WHERE case_id = $1::uuid ORDER BY id DESC LIMIT $2`, caseID, limit)
	if err != nil {
		return nil, fmt.Errorf("audit: trail of %s: %w", caseID, err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Row])
}
