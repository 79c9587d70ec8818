package portal

import (
	"errors"
	"net/http"
)

type codeData struct {
	Message string
	Enrol   bool
}

func (p *Portal) codePage(w http.ResponseWriter, r *http.Request) error {
	id, ok := p.pendingUser(r.Context())
	if !ok {
		return p.renderStatus(w, r, http.StatusUnauthorized, "sign_in", signInData{Message: "sign_in.expired"})
	}
	u, err := p.UserByID(r.Context(), id)
	if err != nil {
		return err
	}
	return p.render(w, r, "sign_in_code", codeData{Enrol: !u.Enrolled})
}

// signInCode checks the TOTP code of the pending sign-in and, if it is
// right and unused, signs her in under yet another fresh token.
func (p *Portal) signInCode(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, ok := p.pendingUser(ctx)
	if !ok {
		return p.renderStatus(w, r, http.StatusUnauthorized, "sign_in", signInData{Message: "sign_in.expired"})
	}
	if err := r.ParseForm(); err != nil {
		return errors.Join(errBadRequest, err)
	}
	err := p.checkCode(ctx, id, r.PostForm.Get("code"))
	if errors.Is(err, errBadSignIn) {
		u, uerr := p.UserByID(ctx, id)
		if uerr != nil {
			return uerr
		}
		return p.renderStatus(w, r, http.StatusUnauthorized, "sign_in_code", codeData{Message: "sign_in.refused", Enrol: !u.Enrolled})
	}
	if err != nil {
		return err
	}
	if err := p.startSession(ctx, id); err != nil {
		return err
	}
	p.log.InfoContext(ctx, "portal: signed in", "user_id", id)
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}
