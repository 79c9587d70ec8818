package portal

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// callerBlock blocks the case's caller for one of blockFor days, with a
// reason code; the store audits it against the case.
func (p *Portal) callerBlock(w http.ResponseWriter, r *http.Request) error {
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
