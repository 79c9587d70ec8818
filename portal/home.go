package portal

import "net/http"

// home sends each account to its first page: a provider to its
// organisation's inbox, staff of the hotline to the desk.
func (p *Portal) home(w http.ResponseWriter, r *http.Request) error {
	to := "/desk"
	if userFrom(r.Context()).Role == RoleProvider {
		to = "/inbox"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
