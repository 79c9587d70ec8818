package portal

import (
	"errors"
	"net/http"

	"github.com/amparo/amparo/roster"
)

// onCallAdd puts a phone on the roster for a shift, as `amparo oncall add`
// does, audited as the administrator's act. Times are typed in the desk's
// time zone.
func (p *Portal) onCallAdd(w http.ResponseWriter, r *http.Request) error {
	u, err := adminOnly(r, ActManageOnCall)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errors.Join(errBadRequest, err)
	}
	f := r.PostForm
	sh := roster.Shift{Role: roster.Role(f.Get("role")), Phone: f.Get("phone"), Name: f.Get("name")}
	from, ferr := p.parseLocal(f.Get("from"))
	to, terr := p.parseLocal(f.Get("to"))
	if ferr != nil || terr != nil {
		return p.renderOnCall(w, r, http.StatusBadRequest, onCallData{Problem: "admin.oncall.bad_time"})
	}
	sh.Starts, sh.Ends = from, to
	_, err = roster.AddShift(r.Context(), p.pool, sh, u.ID.String(), p.now())
	if errors.Is(err, roster.ErrBadInput) {
		return p.renderOnCall(w, r, http.StatusBadRequest, onCallData{Problem: "admin.oncall.invalid"})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/oncall?done=added", http.StatusSeeOther)
	return nil
}
