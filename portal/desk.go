package portal

import (
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/amparo/amparo/casefile"
)

// stalledShown bounds how many stalled cases the desk asks referral for.
const stalledShown = 200

// deskSize is how many cases the desk shows: the most pressing ones. Fifty
// is more than a shift works through; the filters narrow it further, and
// a longer page would cost every load its rendering time.
const deskSize = 50

type deskData struct {
	Items       []deskRow
	Communities []string
	Community   string
	Statuses    []casefile.Status
	Status      casefile.Status
	Mine        bool
}

type deskRow struct {
	casefile.DeskItem
	Assigned bool
}

func (p *Portal) deskPage(w http.ResponseWriter, r *http.Request) error {
	u := userFrom(r.Context())
	if err := Decide(u, ActViewDesk, nil); err != nil {
		return err
	}
	q := r.URL.Query()
	d := deskData{
		Community: strings.ToLower(strings.TrimSpace(q.Get("community"))),
		Statuses:  []casefile.Status{casefile.StatusOpen, casefile.StatusClosed},
		Status:    casefile.Status(q.Get("status")),
		Mine:      q.Get("mine") != "",
	}
	if !slices.Contains(d.Statuses, d.Status) {
		d.Status = casefile.StatusOpen
	}
	stalled, err := p.referrals.StalledCases(r.Context(), p.pool, stalledShown)
	if err != nil {
		return err
	}
	f := casefile.DeskFilter{Now: p.now(), Viewer: u.ID, Communities: u.Communities, Community: d.Community,
		Status: d.Status, Stalled: stalled, Limit: deskSize}
	if d.Mine {
		f.AssignedTo = u.ID
	}
	items, err := p.cases.Desk(r.Context(), p.pool, f)
	if err != nil {
		return err
	}
	d.Communities = slices.Clone(u.Communities)
	for _, it := range items {
		d.Items = append(d.Items, deskRow{DeskItem: it, Assigned: it.AssignedTo != uuid.Nil})
		d.Communities = append(d.Communities, strings.ToLower(it.Community))
	}
	if d.Community != "" {
		d.Communities = append(d.Communities, d.Community)
	}
	slices.Sort(d.Communities)
	d.Communities = slices.Compact(d.Communities)
	return p.render(w, r, "desk", d)
}
