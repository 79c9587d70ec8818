package portal

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// userDisable disables an account; its sessions end at their next request.
// An administrator cannot disable herself: the last admin doing so would
// leave nobody to undo it but the command line.
func (p *Portal) userDisable(w http.ResponseWriter, r *http.Request) error {
	u, err := adminOnly(r, ActManageUsers)
	if err != nil {
		return err
	}
	name := chi.URLParam(r, "name")
	if strings.EqualFold(name, u.Username) {
		return p.renderUsers(w, r, http.StatusBadRequest, usersData{Problem: "admin.users.self"})
	}
	if err := p.DisableUser(r.Context(), name, u.ID.String()); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/users?done=disabled", http.StatusSeeOther)
	return nil
}
