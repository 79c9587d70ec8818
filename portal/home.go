package portal

import "net/http"

// home sends each account to its first page: a provider to its
// organisation's inbox, an admin to the accounts she manages (she sees no
// desk), caseworkers and supervisors to the desk.
func (p *Portal) home(w http.ResponseWriter, r *http.Request) error {
	to := "/desk"
	switch userFrom(r.Context()).Role {
	case RoleProvider:
		to = "/inbox"
	case RoleAdmin:
		to = "/admin/users"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
