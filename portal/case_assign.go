package portal

import (
	"errors"
	"net/http"

	"github.com/google/uuid"
)

// caseAssign gives the case to another member of staff (supervisors only),
// who must be able to open it.
func (p *Portal) caseAssign(w http.ResponseWriter, r *http.Request) error {
	u, sc, err := p.caseFor(r, ActAssign)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errors.Join(errBadRequest, err)
	}
	to, err := uuid.Parse(r.PostForm.Get("user"))
	if err != nil {
		return errBadRequest
	}
	target, err := p.UserByID(r.Context(), to)
	if err != nil || target.Disabled || Decide(target, ActOpenCase, &sc) != nil {
		return errBadRequest
	}
	if err := p.cases.Assign(r.Context(), p.pool, sc.ID, to, u.ID.String()); err != nil {
		return err
	}
	backToCase(w, r, sc.ID)
	return nil
}
