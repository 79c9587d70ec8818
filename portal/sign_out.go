package portal

import "net/http"

// signOut destroys the session in the store, not just the cookie.
func (p *Portal) signOut(w http.ResponseWriter, r *http.Request) error {
	if err := p.sessions.Destroy(r.Context()); err != nil {
		return err
	}
	http.Redirect(w, r, "/sign-in", http.StatusSeeOther)
	return nil
}
