package referral

import (
	"errors"
	"fmt"
	"regexp"
)

// Status is where a referral stands.
type Status string

// The referral states (DESIGN.md §5).
const (
	Pending      Status = "pending"
	Notified     Status = "notified"
	Acknowledged Status = "acknowledged"
	Accepted     Status = "accepted"
	Declined     Status = "declined"
	Completed    Status = "completed"
	Revoked      Status = "revoked"
	Expired      Status = "expired"
	Escalated    Status = "escalated"
)

// Statuses lists every state, for tests and for the portal's filters.
var Statuses = []Status{Pending, Notified, Acknowledged, Accepted, Declined, Completed, Revoked, Expired, Escalated}

// transitions is the whole state machine: nothing moves a referral except
// along an edge listed here. A pending referral may be acknowledged or
// declined directly because a provider can answer in the portal before the
// SMS dispatch has run. Declined and escalated are final: re-routing creates
// a new referral, so each provider's answer stays on its own record.
var transitions = map[Status][]Status{
	Pending:      {Notified, Acknowledged, Declined, Escalated, Revoked, Expired},
	Notified:     {Acknowledged, Declined, Escalated, Revoked, Expired},
	Acknowledged: {Accepted, Declined, Revoked, Expired},
	Accepted:     {Completed, Revoked, Expired},
}

// CanTransition reports whether the state machine has an edge from → to.
func CanTransition(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Open reports whether the referral still holds a place at its provider:
// it counts against capacity and keeps its reply code. Must match the
// partial indexes in migrations/sql/00020_referral.sql.
func (s Status) Open() bool {
	switch s {
	case Pending, Notified, Acknowledged, Accepted:
		return true
	}
	return false
}

// openStatuses is Open as an SQL array argument.
var openStatuses = []string{string(Pending), string(Notified), string(Acknowledged), string(Accepted)}

// ErrIllegalTransition is wrapped by every *TransitionError.
var ErrIllegalTransition = errors.New("referral: illegal transition")

// TransitionError is a refused move; errors.Is(err, ErrIllegalTransition).
type TransitionError struct{ From, To Status }

func (e *TransitionError) Error() string {
	return fmt.Sprintf("referral: illegal transition %s → %s", e.From, e.To)
}

func (e *TransitionError) Unwrap() error { return ErrIllegalTransition }

// ErrBadReason: a reason must be a short code, not prose, because reasons
// are stored and audited in plaintext and prose invites survivor details.
var ErrBadReason = errors.New("referral: reason must be a short code like \"override:imminent_danger\" (a-z, 0-9, _ . : -; at most 64)")

var reasonRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.:-]{0,63}$`)

func checkReason(reason string) error {
	if !reasonRE.MatchString(reason) {
		return ErrBadReason
	}
	return nil
}
