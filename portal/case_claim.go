package portal

import "net/http"

// caseClaim makes the case hers.
func (p *Portal) caseClaim(w http.ResponseWriter, r *http.Request) error {
	u, sc, err := p.caseFor(r, ActClaim)
	if err != nil {
		return err
	}
	if err := p.cases.Assign(r.Context(), p.pool, sc.ID, u.ID, u.ID.String()); err != nil {
		return err
	}
	backToCase(w, r, sc.ID)
	return nil
}
