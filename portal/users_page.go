package portal

import (
	"net/http"

	"github.com/amparo/amparo/referral"
)

// usersData is the accounts page: every account, and the form to add one.
type usersData struct {
	Users   []User
	Roles   []Role
	Orgs    []referral.Organization
	Done    string // what the last form did: added, disabled, reset
	Problem string // catalogue key of why the add form was refused
	Form    NewUser
}

// usersPage lists the staff accounts for an administrator.
func (p *Portal) usersPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := adminOnly(r, ActManageUsers); err != nil {
		return err
	}
	return p.renderUsers(w, r, http.StatusOK, usersData{Done: done(r, "added", "disabled", "reset")})
}

func (p *Portal) renderUsers(w http.ResponseWriter, r *http.Request, status int, d usersData) error {
	var err error
	if d.Users, err = p.ListUsers(r.Context()); err != nil {
		return err
	}
	dir, err := referral.ExportDirectory(r.Context(), p.pool)
	if err != nil {
		return err
	}
	d.Orgs, d.Roles = dir.Organizations, Roles
	return p.renderStatus(w, r, status, "admin_users", d)
}
