package referral

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral/internal/referraldb"
)

// boardDue is the clock the SLA board times an open referral by:
// acknowledge-by until the provider answers, then serve-by (none for a need
// without a deadline). It must read as the expression of referral_board_idx
// (migrations/sql/00210_sla_board.sql), so each state's most pressing rows
// come from the index instead of a sort of every open referral.
const boardDue = `(CASE WHEN status IN ('pending', 'notified') THEN ack_by ELSE serve_by END)`

// boardReferralCols are a Referral's columns in Board's scan order (Board
// builds its SQL in Go; see there).
const boardReferralCols = `id, case_id, service_id, parent_id, need, status, urgent, override, ack_by, serve_by,
	breached_at, reply_code, code_phone, created_at, updated_at`

// BoardStates are the states the board shows, in the order a referral
// passes through them: the open ones.
var BoardStates = []Status{Pending, Notified, Acknowledged, Accepted}

// boardOpen is BoardStates as a condition with a literal list, which lets
// the planner use the partial referral_board_idx (a parameter cannot prove
// that its WHERE applies).
var boardOpen = func() string {
	quoted := make([]string, len(BoardStates))
	for i, st := range BoardStates {
		quoted[i] = "'" + string(st) + "'"
	}
	return "status IN (" + strings.Join(quoted, ", ") + ")"
}()

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
	Overdue map[Status]int // past the clock the state runs on
	Rows    map[Status][]BoardRow
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

// Board reads the SLA board at the service's now. Counts are summed from
// the counters of migration 00260 (exact: a trigger moves them in the
// transaction that moves the referral); overdue counts are computed in SQL
// over the matching open referrals past their clock; only PerState rows of
// each state are read, with their chains.
func (s *Service) Board(ctx context.Context, db DB, f BoardFilter) (Board, error) {
	now := s.now()
	b := Board{Count: map[Status]int{}, Overdue: map[Status]int{}, Rows: map[Status][]BoardRow{}}
	// Overdue counts and rows are SQL built here, not named queries: the planner needs each filter's shape (bench/README.md "Portal: SLA board").
	// Only the filters given become conditions: a catch-all such as
	// "$1 = '' OR community = $1" leaves PostgreSQL a plan that reads every
	// open referral's row, ten times slower than the index alone.
	where := boardOpen
	var args []any
	filter := func(cond string, v any) {
		args = append(args, v)
		where += fmt.Sprintf(" AND "+cond, len(args))
	}
	if len(f.Scope) > 0 {
		filter("community = ANY($%d::text[])", f.Scope)
	}
	if f.Community != "" {
		filter("community = $%d", f.Community)
	}
	if f.Need != "" {
		filter("need = $%d", string(f.Need))
	}
	if f.ServiceID != uuid.Nil {
		filter("service_id = $%d", f.ServiceID)
	}
	next := fmt.Sprintf("$%d", len(args)+1)
	// Counts come from the counters the trigger of migration 00260 keeps
	// per (state, community, need, service): a sum over a few hundred rows
	// instead of a count of every open referral on every load.
	states := make([]string, len(BoardStates))
	for i, st := range BoardStates {
		states[i] = string(st)
	}
	counts, err := referraldb.New(db).BoardCounts(ctx, referraldb.BoardCountsParams{
		States: states, Scope: f.Scope, Community: f.Community, Need: string(f.Need), ServiceID: f.ServiceID})
	if err != nil {
		return b, fmt.Errorf("referral: board counts: %w", err)
	}
	for _, st := range BoardStates {
		b.Count[st] = 0 // a state with no counter row still shows, as 0
	}
	for _, c := range counts {
		b.Count[Status(c.Status)] = int(c.N)
	}
	// Overdue counts by the state's clock alone (a referral whose serve-by
	// passed while it still waits for an answer counts by its
	// acknowledge-by; its row shows it breached). Each count is a range of
	// referral_board_idx (status, then the clock up to now), which
	// PostgreSQL counts from the index alone; only the overdue part of each
	// state is read.
	rows, err := db.Query(ctx, `SELECT st.status,
			(SELECT count(*) FROM referral WHERE status = st.status AND `+boardDue+` < `+next+` AND `+where+`)
		FROM unnest(`+fmt.Sprintf("$%d", len(args)+2)+`::text[]) st(status)`, append(slices.Clone(args), now, BoardStates)...)
	if err != nil {
		return b, fmt.Errorf("referral: board overdue: %w", err)
	}
	var (
		st      Status
		over    int
		listed  []uuid.UUID
		rowByID = map[uuid.UUID]*BoardRow{}
	)
	if _, err := pgx.ForEachRow(rows, []any{&st, &over}, func() error {
		b.Overdue[st] = over
		return nil
	}); err != nil {
		return b, fmt.Errorf("referral: board overdue: %w", err)
	}
	rows, err = db.Query(ctx, `
		SELECT r.*, s.name, COALESCE(nx.name, '')
		FROM unnest(`+next+`::text[]) st(status)
		CROSS JOIN LATERAL (
			-- ids first, from the index alone, then their rows: a narrow
			-- filter skips many index entries without reading the table.
			SELECT id FROM referral
			WHERE status = st.status AND `+where+`
			ORDER BY `+boardDue+` NULLS LAST, id
			LIMIT `+fmt.Sprintf("$%d", len(args)+2)+`) pick
		JOIN LATERAL (SELECT `+boardReferralCols+` FROM referral WHERE id = pick.id) r ON true
		JOIN service s ON s.id = r.service_id
		LEFT JOIN service nx ON nx.id = s.next_service_id`, append(args, BoardStates, f.PerState)...)
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
	for _, rs := range b.Rows {
		slices.SortFunc(rs, func(x, y BoardRow) int {
			dx, dy := x.Due(), y.Due()
			switch {
			case dx == nil && dy != nil:
				return 1
			case dx != nil && dy == nil:
				return -1
			case dx != nil && !dx.Equal(*dy):
				return dx.Compare(*dy)
			}
			return strings.Compare(x.ID.String(), y.ID.String())
		})
	}
	if len(listed) == 0 {
		return b, nil
	}
	for _, st := range BoardStates {
		for i := range b.Rows[st] {
			rowByID[b.Rows[st][i].ID] = &b.Rows[st][i]
		}
	}
	links, err := referraldb.New(db).BoardChains(ctx, listed)
	if err != nil {
		return b, fmt.Errorf("referral: board chains: %w", err)
	}
	for _, l := range links {
		row := rowByID[l.Leaf]
		row.Chain = append(row.Chain, ChainLink{Service: l.Name, Status: Status(l.Status), Reason: l.Reason, At: l.UpdatedAt})
	}
	return b, nil
}

// BoardServices lists the services a board may be filtered by: id and
// name, by name.
func (s *Service) BoardServices(ctx context.Context, db DB) ([]ServiceName, error) {
	rows, err := referraldb.New(db).BoardServices(ctx)
	if err != nil {
		return nil, fmt.Errorf("referral: service names: %w", err)
	}
	out := make([]ServiceName, len(rows))
	for i, row := range rows {
		out[i] = ServiceName{ID: row.ID, Name: row.Name}
	}
	return out, nil
}

// BoardCommunities lists the communities the directory covers, spelled as
// cases and referrals spell them ("el-porvenir"), for the board's filter:
// reading them from the directory costs nothing, where reading them from
// 100,000 open referrals would cost every load.
func (s *Service) BoardCommunities(ctx context.Context, db DB) ([]string, error) {
	cs, err := referraldb.New(db).BoardCommunities(ctx, AnyCommunity)
	if err != nil {
		return nil, fmt.Errorf("referral: communities: %w", err)
	}
	return cs, nil
}

// ServiceName names a service for a filter.
type ServiceName struct {
	ID   uuid.UUID
	Name string
}
