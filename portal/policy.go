package portal

import (
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/amparo/amparo/casefile"
)

// Action is something a user asks to do; Decide rules on it.
type Action string

// Actions. Those that name a case are decided together with its Scope.
const (
	ActViewDesk   Action = "desk.view"
	ActOpenCase   Action = "case.open"
	ActAddNote    Action = "case.note"
	ActClaim      Action = "case.claim"
	ActAssign     Action = "case.assign"
	ActFollowUp   Action = "case.follow_up"
	ActClassify   Action = "case.classify"
	ActRefer      Action = "case.refer"
	ActMessageHer Action = "case.message"
)

// caseActions need a case's Scope.
var caseActions = []Action{ActOpenCase, ActAddNote, ActClaim, ActAssign, ActFollowUp, ActClassify, ActRefer, ActMessageHer}

// Decide is the one policy function: every handler asks it before acting.
// It returns nil when u may do a on the case sc (nil for actions on no
// case), errNotFound when the case is outside u's scope, or when u's role
// sees no cases at all, so that such a case does not exist for her, and
// errForbidden when the case is hers to see but the act is not her role's.
//
// Scope: caseworkers and supervisors work the cases of their communities
// (every community when they have none) and any case assigned to them.
// Supervisors alone assign a case to someone else. Providers and admins see
// no case in this part of the portal. casefile.Desk applies the same scope
// in SQL; TestDeskShowsExactlyWhatPolicyAllows holds the two together.
func Decide(u User, a Action, sc *casefile.Scope) error {
	if u.Disabled || u.ID == uuid.Nil {
		return errNotFound
	}
	staff := u.Role == RoleCaseworker || u.Role == RoleSupervisor
	if !slices.Contains(caseActions, a) {
		if a == ActViewDesk && staff {
			return nil
		}
		return errForbidden
	}
	if sc == nil || !staff || !inScope(u, *sc) {
		return errNotFound
	}
	if a == ActAssign && u.Role != RoleSupervisor {
		return errForbidden
	}
	return nil
}

func inScope(u User, sc casefile.Scope) bool {
	return len(u.Communities) == 0 || sc.AssignedTo == u.ID ||
		slices.Contains(u.Communities, strings.ToLower(sc.Community))
}

// needsReason: opening a case that is not hers asks why, and the reason is
// audited with the opening.
func needsReason(u User, sc casefile.Scope) bool { return sc.AssignedTo != u.ID }

// Reasons a user may give for opening a case that is not assigned to her.
// Codes, not free text: the audit log is read by more people than the case.
var openReasons = []string{"unassigned_triage", "covering_colleague", "supervision", "urgent_callback"}
