package roster

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/templates"
)

// AlertKind is what a staff alert is about. Its text is the catalogue entry
// CatalogueKey names; its recipients are the roles alertRoles lists.
type AlertKind string

// Alert kinds.
const (
	// AlertDangerNow: she said she is in danger now. The hotline sends it
	// itself, each text with a reply code (see hotline/danger.go).
	AlertDangerNow AlertKind = "danger_now"
	// AlertEscalated: a provider did not acknowledge in time and the
	// request went to the next one.
	AlertEscalated         AlertKind = "escalated"
	AlertServeDeadlineNear AlertKind = "serve_deadline_near"
	// AlertServeDeadlineMissed: serve-by passed before the referral was
	// served; it is breached on the SLA board.
	AlertServeDeadlineMissed AlertKind = "serve_deadline_missed"
	AlertNoProvider          AlertKind = "no_provider"
	// AlertCodesLocked: a provider phone sent too many wrong reply codes;
	// its Reference is the service's name.
	AlertCodesLocked AlertKind = "codes_locked"
	// AlertCallback: a conversation that flagged danger was abandoned;
	// someone must call her back.
	AlertCallback AlertKind = "callback"
)

// alertKeys are the catalogue texts of the kinds: a kind with no entry here
// has no text, which the sms outbox refuses as a wiring mistake.
var alertKeys = map[AlertKind]string{
	AlertDangerNow:           templates.KeyStaffDangerNow,
	AlertEscalated:           templates.KeyStaffEscalated,
	AlertServeDeadlineNear:   templates.KeyStaffServeDeadlineNear,
	AlertServeDeadlineMissed: templates.KeyStaffServeDeadlineMissed,
	AlertNoProvider:          templates.KeyStaffNoProvider,
	AlertCodesLocked:         templates.KeyStaffCodesLocked,
	AlertCallback:            templates.KeyStaffCallback,
}

// CatalogueKey returns the message catalogue key of the kind's text, and
// false for a kind with none.
func (k AlertKind) CatalogueKey() (string, bool) {
	key, ok := alertKeys[k]
	return key, ok
}

// alertRoles says who is alerted for what: the roles asked, in order; the
// first with anyone on call gets the alert, and with nobody on call in any
// of them the fallback duty phones do. Decisions about her safety go to a
// counsellor first; what a provider or the service failed to do goes to a
// supervisor first.
var alertRoles = map[AlertKind][]Role{
	AlertDangerNow:           {Counsellor, Supervisor},
	AlertCallback:            {Counsellor, Supervisor},
	AlertServeDeadlineNear:   {Counsellor, Supervisor},
	AlertEscalated:           {Supervisor},
	AlertNoProvider:          {Supervisor},
	AlertServeDeadlineMissed: {Supervisor, Counsellor},
	AlertCodesLocked:         {Supervisor, Counsellor},
}

// Alert asks one on-call staff member to look at a case.
type Alert struct {
	Phone     string // E.164
	Kind      AlertKind
	CaseID    uuid.UUID // zero for an alert about no case (a locked phone)
	Reference string    // a case reference, or what the Kind says
}

// Alerter queues a staff alert in the caller's transaction; the sms
// Notifier is one.
type Alerter interface {
	AlertStaff(ctx context.Context, tx pgx.Tx, a Alert) error
}

// Responders returns the phones an alert of kind goes to now (see
// alertRoles), and whether someone on the roster is among them rather than
// the fallback duty phones.
func (r *Roster) Responders(ctx context.Context, db DB, kind AlertKind) (phones []string, rostered bool, err error) {
	return r.Duty(ctx, db, alertRoles[kind]...)
}

// Alert sends kind about the case caseID (zero for none), whose reference
// is ref, through to to whoever answers for kind now, in tx, and says
// whether someone on the roster got it. Nobody at all (an empty roster and
// no fallback phones) is not an error: the caller decides what that means.
func (r *Roster) Alert(ctx context.Context, tx pgx.Tx, to Alerter, kind AlertKind, caseID uuid.UUID, ref string) (phones int, rostered bool, err error) {
	list, rostered, err := r.Responders(ctx, tx, kind)
	if err != nil {
		return 0, false, err
	}
	for _, p := range list {
		if err := to.AlertStaff(ctx, tx, Alert{Phone: p, Kind: kind, CaseID: caseID, Reference: ref}); err != nil {
			return 0, false, fmt.Errorf("roster: alert %s: %w", kind, err)
		}
	}
	return len(list), rostered, nil
}
