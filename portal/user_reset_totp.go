package portal

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// userResetTOTP gives an account a new TOTP secret: its old authenticator
// stops working and its next sign-in shows the new QR code to its owner,
// not to the administrator.
func (p *Portal) userResetTOTP(w http.ResponseWriter, r *http.Request) error {
	u, err := adminOnly(r, ActManageUsers)
	if err != nil {
		return err
	}
	if _, err := p.ResetTOTP(r.Context(), chi.URLParam(r, "name"), u.ID.String()); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/users?done=reset", http.StatusSeeOther)
	return nil
}
