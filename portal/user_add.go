package portal

import (
	"errors"
	"net/http"
	"strings"
)

// userAdd creates an account as `amparo users add` does, audited as the
// administrator's act. The new account enrols its authenticator at its
// first sign-in, so the page never shows the TOTP secret.
func (p *Portal) userAdd(w http.ResponseWriter, r *http.Request) error {
	u, err := adminOnly(r, ActManageUsers)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errors.Join(errBadRequest, err)
	}
	f := r.PostForm
	in := NewUser{Username: f.Get("username"), Role: Role(f.Get("role")), OrgKey: strings.TrimSpace(f.Get("org")),
		Password: f.Get("password"), By: u.ID.String()}
	if in.Role != RoleProvider {
		// The form offers organisations to every role; only a provider's counts.
		in.OrgKey = ""
	}
	for _, c := range strings.Split(f.Get("communities"), ",") {
		if c = strings.TrimSpace(c); c != "" {
			in.Communities = append(in.Communities, c)
		}
	}
	_, _, err = p.CreateUser(r.Context(), in)
	problem := ""
	switch {
	case errors.Is(err, ErrUserExists):
		problem = "admin.users.taken"
	case errors.Is(err, ErrInvalidUser):
		problem = "admin.users.invalid"
	case err != nil:
		return err
	}
	if problem != "" {
		in.Password = ""
		return p.renderUsers(w, r, http.StatusBadRequest, usersData{Problem: problem, Form: in})
	}
	http.Redirect(w, r, "/admin/users?done=added", http.StatusSeeOther)
	return nil
}
