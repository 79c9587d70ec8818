package portal

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral"
)

type reasonData struct {
	ID        uuid.UUID
	Reference string
	Reasons   []string
}

type caseData struct {
	Case            casefile.Case
	Mine            bool
	Assignee        string
	Staff           []User // whom a supervisor may assign the case to
	Notes           []casefile.Note
	Authors         map[string]string // staff id → username, for notes
	FollowUps       []casefile.FollowUp
	FollowUpKinds   []casefile.FollowUpKind
	Referrals       []referralView
	IncidentType    casefile.IncidentType
	IncidentTypes   []casefile.IncidentType
	OverrideReasons []string
	Messages        []messageChoice // nil when she allowed no texts or none can be sent
}

type referralView struct {
	referral.Referral
	Events []referral.Event
}

// followUpKinds are the tasks a caseworker files by hand.
var followUpKinds = []casefile.FollowUpKind{casefile.FollowUpCallback, casefile.FollowUpCheckIn, casefile.FollowUpReferralCheck}

// caseOpen shows a case. Her own case opens at once; another's asks why
// first, unless this session already gave a reason for it. Every opening
// is audited in the transaction that reads the sealed content.
func (p *Portal) caseOpen(w http.ResponseWriter, r *http.Request) error {
	u, sc, err := p.caseFor(r, ActOpenCase)
	if err != nil {
		return err
	}
	reason := "assigned"
	if needsReason(u, sc) {
		if reason = p.openedReason(r.Context(), sc.ID); reason == "" {
			facts, err := p.cases.CaseFacts(r.Context(), p.pool, sc.ID)
			if err != nil {
				return err
			}
			return p.render(w, r, "case_reason", reasonData{ID: sc.ID, Reference: facts.Reference, Reasons: openReasons})
		}
	}
	return p.showCase(w, r, u, sc, reason)
}

// caseOpenWithReason opens a case that is not hers, with the reason given.
func (p *Portal) caseOpenWithReason(w http.ResponseWriter, r *http.Request) error {
	u, sc, err := p.caseFor(r, ActOpenCase)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errors.Join(errBadRequest, err)
	}
	reason := r.PostForm.Get("reason")
	if !slices.Contains(openReasons, reason) {
		return errBadRequest
	}
	p.noteOpened(r.Context(), sc.ID, reason)
	return p.showCase(w, r, u, sc, reason)
}

func (p *Portal) showCase(w http.ResponseWriter, r *http.Request, u User, sc casefile.Scope, reason string) error {
	ctx := r.Context()
	d := caseData{Mine: sc.AssignedTo == u.ID, FollowUpKinds: followUpKinds, IncidentTypes: casefile.IncidentTypes,
		OverrideReasons: overrideReasons, Authors: map[string]string{}}
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var err error
		if d.Case, err = p.cases.GetCase(ctx, tx, sc.ID); err != nil {
			return err
		}
		if d.Notes, err = p.cases.Notes(ctx, tx, sc.ID); err != nil {
			return err
		}
		if d.FollowUps, err = p.cases.FollowUps(ctx, tx, sc.ID); err != nil {
			return err
		}
		if d.IncidentType, err = p.cases.IncidentTypeOf(ctx, tx, sc.ID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, p.now(), audit.Entry{Actor: u.ID.String(), Action: "case.open",
			CaseID: sc.ID.String(), Detail: "reason:" + reason})
	})
	if err != nil {
		return err
	}
	if d.Referrals, err = p.referralViews(ctx, sc.ID); err != nil {
		return err
	}
	if err := p.staffNames(ctx, &d, sc, u); err != nil {
		return err
	}
	if p.messenger != nil && d.Case.Contact.MayText {
		if d.Messages, err = messageChoices(d.Case.Lang); err != nil {
			return err
		}
	}
	return p.render(w, r, "case", d)
}

func (p *Portal) referralViews(ctx context.Context, caseID uuid.UUID) ([]referralView, error) {
	refs, err := p.referrals.ForCase(ctx, p.pool, caseID)
	if err != nil {
		return nil, err
	}
	out := make([]referralView, 0, len(refs))
	for _, ref := range refs {
		ev, err := p.referrals.History(ctx, p.pool, ref.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, referralView{Referral: ref, Events: ev})
	}
	return out, nil
}

// staffNames fills the names the page shows for staff ids, and the list a
// supervisor assigns from.
func (p *Portal) staffNames(ctx context.Context, d *caseData, sc casefile.Scope, u User) error {
	users, err := p.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, s := range users {
		d.Authors[s.ID.String()] = s.Username
		if s.ID == sc.AssignedTo {
			d.Assignee = s.Username
		}
		if Decide(u, ActAssign, &sc) == nil && !s.Disabled && Decide(s, ActOpenCase, &sc) == nil {
			d.Staff = append(d.Staff, s)
		}
	}
	return nil
}
