package portal

import (
	"errors"
	"net/http"
)

// followUpReschedule moves an open follow-up to a new due time.
func (p *Portal) followUpReschedule(w http.ResponseWriter, r *http.Request) error {
	caseID, fid, err := p.followUpFor(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errors.Join(errBadRequest, err)
	}
	due, err := p.parseLocal(r.PostForm.Get("due"))
	if err != nil {
		return err
	}
	if err := p.cases.RescheduleFollowUp(r.Context(), p.pool, fid, due); err != nil {
		return err
	}
	backToCase(w, r, caseID)
	return nil
}
