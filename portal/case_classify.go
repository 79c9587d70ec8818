package portal

import (
	"errors"
	"net/http"

	"github.com/amparo/amparo/casefile"
)

// caseClassify records the GBVIMS incident type.
func (p *Portal) caseClassify(w http.ResponseWriter, r *http.Request) error {
	u, sc, err := p.caseFor(r, ActClassify)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errors.Join(errBadRequest, err)
	}
	t := casefile.IncidentType(r.PostForm.Get("type"))
	if err := p.cases.SetIncidentType(r.Context(), p.pool, sc.ID, t, u.ID.String()); err != nil {
		return err
	}
	backToCase(w, r, sc.ID)
	return nil
}
