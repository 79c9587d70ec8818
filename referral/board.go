package referral

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
)

// boardDue is the clock the SLA board times an open referral by:
// acknowledge-by until the provider answers, then serve-by (none for a need
// without a deadline). It must read as the expression of referral_board_idx
// (migrations/sql/00210_sla_board.sql), so each state's most pressing rows
// come from the index instead of a sort of every open referral.
const boardDue = `(CASE WHEN status IN ('pending', 'notified') THEN ack_by ELSE serve_by END)`

// BoardStates are the states the board shows, in the order a referral
// passes through them.
var BoardStates = []Status{Pending, Notified, Acknowledged, Accepted}

// BoardFilter narrows the board; zero fields mean any.
type BoardFilter struct {
	// Scope is the viewer's communities; empty means every community.
	Scope     []string
	Community string
	Need      casefile.Need
	ServiceID uuid.UUID
	// PerState bounds the rows listed for each state; the counts cover all.
	PerState int
}

// Board is the SLA board: every open referral counted by state, and the
// most pressing of each state listed.
type Board struct {
	Count   map[Status]int
	Overdue map[Status]int // past the clock the state runs on, or breached
	Rows    map[Status][]BoardRow
	// Communities are those with open referrals under the other filters.
	Communities []string
}

// BoardRow is one listed referral with the names a supervisor reads.
type BoardRow struct {
	Referral
	Service string
	// Next is the service the directory escalates to when this one does
	// not answer in time ("" when the chain ends here).
	Next string
	// Chain is the referrals for this need that came before this one,
	// oldest first: the providers that declined or let it escalate.
	Chain []ChainLink
}

// Due is the time the row's state runs against (nil: no deadline).
func (r BoardRow) Due() *time.Time {
	if r.Status == Pending || r.Status == Notified {
		return &r.AckBy
	}
	return r.ServeBy
}

// ChainLink is one earlier provider in a referral's escalation chain.
type ChainLink struct {
	Service string
	Status  Status // how it ended: escalated, declined, ...
	Reason  string // the code recorded with that ending
	At      time.Time
}

// Board reads the SLA board at the service's now. Counts are computed in
// SQL over every matching open referral; only PerState rows of each state
// are read, with their chains.
func (s *Service) Board(ctx context.Context, db DB, f BoardFilter) (Board, error) {
	now := s.now()
	b := Board{Count: map[Status]int{}, Overdue: map[Status]int{}, Rows: map[Status][]BoardRow{}}
	var svc *uuid.UUID
	if f.ServiceID != uuid.Nil {
		svc = &f.ServiceID
	}
	scope := f.Scope
	if scope == nil {
		scope = []string{}
	}
	// $1 states, $2 scope, $3 community, $4 need, $5 service.
	args := []any{BoardStates, scope, f.Community, string(f.Need), svc}
	const where = `status = ANY($1::text[]) AND (cardinality($2::text[]) = 0 OR community = ANY($2::text[]))
		AND ($3 = '' OR community = $3) AND ($4 = '' OR need = $4) AND ($5::uuid IS NULL OR service_id = $5::uuid)`
	// Counted by community too, without the community filter, so one scan
	// gives both the counts and the communities the filter offers.
	rows, err := db.Query(ctx, `SELECT status, community, count(*), count(*) FILTER (WHERE `+boardDue+` < $6 OR breached_at IS NOT NULL)
		FROM referral WHERE `+where+` GROUP BY status, community`, append(args[:2:2], "", args[3], args[4], now)...)
	if err != nil {
		return b, fmt.Errorf("referral: board counts: %w", err)
	}
	var (
		st          Status
		community   string
		n, over     int
		listed      []uuid.UUID
		rowByID     = map[uuid.UUID]*BoardRow{}
		serviceName string
	)
	if _, err := pgx.ForEachRow(rows, []any{&st, &community, &n, &over}, func() error {
		if !slices.Contains(b.Communities, community) {
			b.Communities = append(b.Communities, community)
		}
		if f.Community == "" || f.Community == community {
			b.Count[st], b.Overdue[st] = b.Count[st]+n, b.Overdue[st]+over
		}
		return nil
	}); err != nil {
		return b, fmt.Errorf("referral: board counts: %w", err)
	}
	slices.Sort(b.Communities)
	rows, err = db.Query(ctx, `
		SELECT r.*, s.name, COALESCE(nx.name, '')
		FROM unnest($1::text[]) st(status)
		CROSS JOIN LATERAL (
			SELECT `+referralCols+` FROM referral
			WHERE status = st.status AND `+where+`
			ORDER BY `+boardDue+` NULLS LAST, id
			LIMIT $6) r
		JOIN service s ON s.id = r.service_id
		LEFT JOIN service nx ON nx.id = s.next_service_id`, append(args, f.PerState)...)
	if err != nil {
		return b, fmt.Errorf("referral: board rows: %w", err)
	}
	for rows.Next() {
		var row BoardRow
		r := &row.Referral
		if err := rows.Scan(&r.ID, &r.CaseID, &r.ServiceID, &r.ParentID, &r.Need, &r.Status, &r.Urgent, &r.Override,
			&r.AckBy, &r.ServeBy, &r.BreachedAt, &r.ReplyCode, &r.CodePhone, &r.CreatedAt, &r.UpdatedAt,
			&row.Service, &row.Next); err != nil {
			rows.Close()
			return b, fmt.Errorf("referral: board rows: %w", err)
		}
		b.Rows[r.Status] = append(b.Rows[r.Status], row)
		if r.ParentID != nil {
			listed = append(listed, r.ID)
		}
	}
	if err := rows.Err(); err != nil {
		return b, fmt.Errorf("referral: board rows: %w", err)
	}
	if len(listed) == 0 {
		return b, nil
	}
	for _, st := range BoardStates {
		for i := range b.Rows[st] {
			rowByID[b.Rows[st][i].ID] = &b.Rows[st][i]
		}
	}
	// Each link ends with the event that closed it; depth bounds a chain
	// that, through a bug, pointed at itself.
	rows, err = db.Query(ctx, `
		WITH RECURSIVE chain (leaf, id, depth) AS (
			SELECT id, parent_id, 1 FROM referral WHERE id = ANY($1) AND parent_id IS NOT NULL
			UNION ALL
			SELECT c.leaf, p.parent_id, c.depth + 1 FROM chain c JOIN referral p ON p.id = c.id
			WHERE p.parent_id IS NOT NULL AND c.depth < 32)
		SELECT c.leaf, s.name, p.status, p.updated_at,
			COALESCE((SELECT e.reason FROM referral_event e WHERE e.referral_id = p.id AND e.to_status = p.status
				ORDER BY e.id DESC LIMIT 1), '')
		FROM chain c JOIN referral p ON p.id = c.id JOIN service s ON s.id = p.service_id
		ORDER BY c.leaf, c.depth DESC`, listed)
	if err != nil {
		return b, fmt.Errorf("referral: board chains: %w", err)
	}
	var (
		leaf uuid.UUID
		link ChainLink
	)
	_, err = pgx.ForEachRow(rows, []any{&leaf, &serviceName, &link.Status, &link.At, &link.Reason}, func() error {
		link.Service = serviceName
		row := rowByID[leaf]
		row.Chain = append(row.Chain, link)
		return nil
	})
	if err != nil {
		return b, fmt.Errorf("referral: board chains: %w", err)
	}
	return b, nil
}

// BoardServices lists the services a board may be filtered by: id and
// name, by name.
func (s *Service) BoardServices(ctx context.Context, db DB) ([]ServiceName, error) {
	rows, err := db.Query(ctx, `SELECT id, name FROM service ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("referral: service names: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ServiceName])
}

// ServiceName names a service for a filter.
type ServiceName struct {
	ID   uuid.UUID
	Name string
}
