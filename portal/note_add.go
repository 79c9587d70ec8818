package portal

import (
	"errors"
	"net/http"
	"strings"
)

// noteAdd seals a note on the case, authored by her.
func (p *Portal) noteAdd(w http.ResponseWriter, r *http.Request) error {
	u, sc, err := p.caseFor(r, ActAddNote)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errors.Join(errBadRequest, err)
	}
	body := strings.TrimSpace(r.PostForm.Get("body"))
	if _, err := p.cases.AddNote(r.Context(), p.pool, sc.ID, u.ID.String(), body); err != nil {
		return err
	}
	backToCase(w, r, sc.ID)
	return nil
}
