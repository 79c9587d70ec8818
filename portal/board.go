package portal

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral"
)

// boardPerState bounds the referrals listed under each state: the most
// pressing ones, which a supervisor acts on; the counts above cover all.
const boardPerState = 25

// dueSoon is how close a deadline puts a referral in the "due soon" band.
const dueSoon = time.Hour

// boardRefreshSeconds is how often board.js fetches the table again.
const boardRefreshSeconds = 10

// boardCSP lets the board load its one script from us and fetch its own
// table; every other page keeps portalHeaders' policy, which has no script.
const boardCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

type boardData struct {
	Groups      []boardGroup
	Communities []string
	Community   string
	Needs       []casefile.Need
	Need        casefile.Need
	Services    []referral.ServiceName
	Service     uuid.UUID
	// ServiceParam is Service as the filter's query value ("" for any).
	ServiceParam string
	// Query is the filters as a query string, for the script.
	Query string
	At    time.Time
	Every int
}

type boardGroup struct {
	State   referral.Status
	Count   int
	Overdue int
	Rows    []boardRow
}

type boardRow struct {
	referral.BoardRow
	Reference string
	// Band is how the deadline stands: over, soon, ok or none. The page
	// shows it as a word and an icon as well as a colour.
	Band string
}

// boardPage is the supervisors' SLA board. With partial=1 it answers only
// the table, which board.js swaps in; without script the page has a link
// that reloads it.
func (p *Portal) boardPage(w http.ResponseWriter, r *http.Request) error {
	u := userFrom(r.Context())
	if err := Decide(u, ActViewBoard, nil); err != nil {
		return err
	}
	q := r.URL.Query()
	d := boardData{Needs: casefile.Needs, At: p.clk.Now(), Every: boardRefreshSeconds,
		Need: casefile.Need(q.Get("need"))}
	if c := q.Get("community"); utf8.RuneCountInString(c) > 64 || strings.ContainsFunc(c, func(r rune) bool { return r < ' ' }) {
		return errBadRequest
	} else if cs := normalizeCommunities([]string{c}); len(cs) == 1 {
		d.Community = cs[0] // "La Esperanza" as staff accounts and cases spell it
	}
	if d.Need != "" && !slices.Contains(casefile.Needs, d.Need) {
		return errBadRequest
	}
	if s := q.Get("provider"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			return errBadRequest
		}
		d.Service, d.ServiceParam = id, id.String()
	}
	ctx := r.Context()
	b, err := p.referrals.Board(ctx, p.pool, referral.BoardFilter{Scope: u.Communities, Community: d.Community,
		Need: d.Need, ServiceID: d.Service, PerState: boardPerState})
	if err != nil {
		return err
	}
	var ids []uuid.UUID
	for _, rows := range b.Rows {
		for _, row := range rows {
			ids = append(ids, row.CaseID)
		}
	}
	refs, err := p.cases.References(ctx, p.pool, ids)
	if err != nil {
		return err
	}
	for _, st := range referral.BoardStates {
		g := boardGroup{State: st, Count: b.Count[st], Overdue: b.Overdue[st]}
		for _, row := range b.Rows[st] {
			g.Rows = append(g.Rows, boardRow{BoardRow: row, Reference: refs[row.CaseID], Band: band(row, d.At)})
		}
		d.Groups = append(d.Groups, g)
	}
	d.Query = boardQuery(d)
	w.Header().Set("Content-Security-Policy", boardCSP)
	if q.Get("partial") == "1" {
		return p.renderPart(w, r, http.StatusOK, "board", "board_live", d)
	}
	if d.Communities, err = p.referrals.BoardCommunities(ctx, p.pool); err != nil {
		return err
	}
	d.Communities = append(d.Communities, u.Communities...)
	if d.Community != "" {
		d.Communities = append(d.Communities, d.Community)
	}
	slices.Sort(d.Communities)
	d.Communities = slices.Compact(d.Communities)
	if d.Services, err = p.referrals.BoardServices(ctx, p.pool); err != nil {
		return err
	}
	return p.render(w, r, "board", d)
}

// band places a referral's deadline: overdue (or breached), due within
// dueSoon, on time, or none (a need without a serve-by time).
func band(row referral.BoardRow, now time.Time) string {
	due := row.Due()
	switch {
	case row.BreachedAt != nil || (due != nil && due.Before(now)):
		return "over"
	case due == nil:
		return "none"
	case due.Sub(now) <= dueSoon:
		return "soon"
	}
	return "ok"
}

func boardQuery(d boardData) string {
	v := url.Values{}
	if d.Community != "" {
		v.Set("community", d.Community)
	}
	if d.Need != "" {
		v.Set("need", string(d.Need))
	}
	if d.Service != uuid.Nil {
		v.Set("provider", d.Service.String())
	}
	return v.Encode()
}
