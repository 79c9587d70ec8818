package portal

import (
	"errors"
	"net/http"
)

type signInData struct{ Message string }

func (p *Portal) signInPage(w http.ResponseWriter, r *http.Request) error {
	return p.render(w, r, "sign_in", signInData{})
}

// signIn checks the password. A right one leads to the code step under a
// fresh session token; anything else gets the same answer.
func (p *Portal) signIn(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errors.Join(errBadRequest, err)
	}
	id, err := p.checkPassword(r.Context(), r.PostForm.Get("username"), r.PostForm.Get("password"))
	if errors.Is(err, errBadSignIn) {
		return p.renderStatus(w, r, http.StatusUnauthorized, "sign_in", signInData{Message: "sign_in.refused"})
	}
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := p.sessions.RenewToken(ctx); err != nil {
		return err
	}
	p.sessions.Put(ctx, keyPending, id.String())
	p.sessions.Put(ctx, keyPendingAt, p.now())
	http.Redirect(w, r, "/sign-in/code", http.StatusSeeOther)
	return nil
}
