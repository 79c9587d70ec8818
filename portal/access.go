package portal

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/amparo/amparo/casefile"
)

// caseFor reads the case named by the route's {id} and asks Decide whether
// the signed-in user may do a on it. A malformed id is as unknown as a
// case outside her scope: 404.
func (p *Portal) caseFor(r *http.Request, a Action) (User, casefile.Scope, error) {
	u := userFrom(r.Context())
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		return u, casefile.Scope{}, errNotFound
	}
	return p.caseByID(r, u, id, a)
}

func (p *Portal) caseByID(r *http.Request, u User, id uuid.UUID, a Action) (User, casefile.Scope, error) {
	sc, err := p.cases.CaseScope(r.Context(), p.pool, id)
	if err != nil {
		return u, sc, err
	}
	if err := Decide(u, a, &sc); err != nil {
		return u, sc, err
	}
	return u, sc, nil
}

// backToCase answers a form on the case page by showing the page again.
func backToCase(w http.ResponseWriter, r *http.Request, id uuid.UUID) {
	http.Redirect(w, r, "/cases/"+id.String(), http.StatusSeeOther)
}
