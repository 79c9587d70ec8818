package portal

import (
	"errors"
	"net/http"

	"github.com/google/uuid"
)

// callerUnblock lifts one of the case's blocks before it expires; the
// store audits it against the case.
func (p *Portal) callerUnblock(w http.ResponseWriter, r *http.Request) error {
	u, sc, err := p.caseFor(r, ActBlockCaller)
	if err != nil {
		return err
	}
	if p.blocks == nil {
		return errors.New("portal: no caller blocks wired")
	}
	if err := r.ParseForm(); err != nil {
		return errors.Join(errBadRequest, err)
	}
	id, err := uuid.Parse(r.PostForm.Get("block"))
	if err != nil {
		return errBadRequest
	}
	if err := p.blocks.LiftCaseBlock(r.Context(), sc.ID, id, u.ID.String()); err != nil {
		if errors.Is(err, ErrBlockNotFound) {
			return errors.Join(errNotFound, err)
		}
		return err
	}
	backToCaller(w, r, sc.ID)
	return nil
}
