package portal

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/amparo/amparo/casefile"
)

// callerForm is what blocking and unblocking a case's caller share: the
// policy's answer for the case, the wired block store and a parsed form.
func (p *Portal) callerForm(r *http.Request) (User, casefile.Scope, error) {
	u, sc, err := p.caseFor(r, ActBlockCaller)
	if err != nil {
		return u, sc, err
	}
	if p.blocks == nil {
		return u, sc, errors.New("portal: no caller blocks wired")
	}
	if err := r.ParseForm(); err != nil {
		return u, sc, errors.Join(errBadRequest, err)
	}
	return u, sc, nil
}

// callerBlock blocks the case's caller for one of blockFor days, with a
// reason code; the store audits it against the case.
func (p *Portal) callerBlock(w http.ResponseWriter, r *http.Request) error {
	u, sc, err := p.callerForm(r)
	if err != nil {
		return err
	}
	days, err := strconv.Atoi(r.PostForm.Get("days"))
	reason := r.PostForm.Get("reason")
	if err != nil || !slices.Contains(blockFor, days) || !slices.Contains(p.blocks.BlockReasons(), reason) {
		return errBadRequest
	}
	until := p.clk.Now().Add(time.Duration(days) * 24 * time.Hour)
	if err := p.blocks.BlockCaseCaller(r.Context(), sc.ID, reason, until, u.ID.String()); err != nil {
		if errors.Is(err, ErrInvalidBlock) {
			return errors.Join(errBadRequest, err)
		}
		return err
	}
	backToCaller(w, r, sc.ID)
	return nil
}

// callerUnblock lifts one of the case's blocks before it expires; the
// store audits it against the case.
func (p *Portal) callerUnblock(w http.ResponseWriter, r *http.Request) error {
	u, sc, err := p.callerForm(r)
	if err != nil {
		return err
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
