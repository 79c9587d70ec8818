package portal

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
)

// followUpDone closes an open follow-up.
func (p *Portal) followUpDone(w http.ResponseWriter, r *http.Request) error {
	caseID, fid, err := p.followUpFor(r)
	if err != nil {
		return err
	}
	if err := p.cases.CompleteFollowUp(r.Context(), p.pool, fid); err != nil {
		return err
	}
	backToCase(w, r, caseID)
	return nil
}

// followUpFor is the follow-up of the route's {id} and its case, if she
// may file follow-ups on that case.
func (p *Portal) followUpFor(r *http.Request) (caseID, followUpID uuid.UUID, err error) {
	fid, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		return uuid.Nil, uuid.Nil, errNotFound
	}
	caseID, err = p.cases.FollowUpCase(r.Context(), p.pool, fid)
	if err != nil {
		return uuid.Nil, uuid.Nil, err
	}
	if _, _, err := p.caseByID(r, userFrom(r.Context()), caseID, ActFollowUp); err != nil {
		return uuid.Nil, uuid.Nil, err
	}
	return caseID, fid, nil
}
