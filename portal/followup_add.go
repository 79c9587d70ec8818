package portal

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/amparo/amparo/casefile"
)

// followUpAdd files a task on the case. The due time is typed in the
// desk's time zone.
func (p *Portal) followUpAdd(w http.ResponseWriter, r *http.Request) error {
	_, sc, err := p.caseFor(r, ActFollowUp)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errors.Join(errBadRequest, err)
	}
	kind := casefile.FollowUpKind(r.PostForm.Get("kind"))
	due, err := p.parseLocal(r.PostForm.Get("due"))
	if err != nil || !slices.Contains(followUpKinds, kind) {
		return errBadRequest
	}
	f := casefile.FollowUp{Kind: kind, DueAt: due, Urgent: r.PostForm.Get("urgent") != "",
		Note: strings.TrimSpace(r.PostForm.Get("note"))}
	if err := p.cases.AddFollowUp(r.Context(), p.pool, sc.ID, f); err != nil {
		return err
	}
	backToCase(w, r, sc.ID)
	return nil
}

// parseLocal reads an <input type=datetime-local> value in the desk's zone.
func (p *Portal) parseLocal(s string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02T15:04", s, p.cfg.TimeZone)
	if err != nil {
		return time.Time{}, errBadRequest
	}
	return t.UTC(), nil
}
