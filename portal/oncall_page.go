package portal

import (
	"net/http"

	"github.com/amparo/amparo/roster"
)

// onCallData is the on-call roster page: shifts under way and to come,
// and the form to add one.
type onCallData struct {
	Shifts  []roster.Shift
	Roles   []roster.Role
	Done    string // added, removed
	Problem string // catalogue key of why the add form was refused
}

// onCallPage lists the roster as `amparo oncall list` does: phones show
// their last three digits only.
func (p *Portal) onCallPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := adminOnly(r, ActManageOnCall); err != nil {
		return err
	}
	return p.renderOnCall(w, r, http.StatusOK, onCallData{Done: done(r, "added", "removed")})
}

func (p *Portal) renderOnCall(w http.ResponseWriter, r *http.Request, status int, d onCallData) error {
	var err error
	if d.Shifts, err = roster.Shifts(r.Context(), p.pool, p.now()); err != nil {
		return err
	}
	d.Roles = []roster.Role{roster.Counsellor, roster.Supervisor}
	return p.renderStatus(w, r, status, "admin_oncall", d)
}
