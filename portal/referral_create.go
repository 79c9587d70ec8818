package portal

import (
	"errors"
	"net/http"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral"
)

// overrideReasons are the recorded reasons for referring her without her
// consent for that kind of service. Codes, not prose: they go on the
// referral's timeline and the audit log; details belong in a sealed note.
var overrideReasons = []string{"imminent_danger", "medical_emergency", "child_at_risk"}

// referralCreate refers the case for one need. Without her consent for it
// the form must carry an override reason, which referral records on the
// timeline and in the audit log.
func (p *Portal) referralCreate(w http.ResponseWriter, r *http.Request) error {
	u, sc, err := p.caseFor(r, ActRefer)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errors.Join(errBadRequest, err)
	}
	need := casefile.Need(r.PostForm.Get("need"))
	override := r.PostForm.Get("override")
	if !slices.Contains(casefile.Needs, need) || (override != "" && !slices.Contains(overrideReasons, override)) {
		return errBadRequest
	}
	err = pgx.BeginFunc(r.Context(), p.pool, func(tx pgx.Tx) error {
		_, _, err := p.referrals.Refer(r.Context(), tx, sc.ID, need, u.ID.String(), override)
		return err
	})
	if errors.Is(err, referral.ErrNoConsent) {
		return errors.Join(errBadRequest, err)
	}
	if err != nil {
		return err
	}
	backToCase(w, r, sc.ID)
	return nil
}
