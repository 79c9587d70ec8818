package portal

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/amparo/amparo/roster"
)

// onCallRemove takes a shift off the roster, audited as the
// administrator's act.
func (p *Portal) onCallRemove(w http.ResponseWriter, r *http.Request) error {
	u, err := adminOnly(r, ActManageOnCall)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	if err := roster.RemoveShift(r.Context(), p.pool, id, u.ID.String(), p.now()); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/oncall?done=removed", http.StatusSeeOther)
	return nil
}
