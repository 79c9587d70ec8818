package portal

import (
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral"
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
	// Supervisors' actions (issue 12).
	ActViewBoard   Action = "board.view"
	ActQueueHealth Action = "queue.view"
	ActViewAudit   Action = "case.audit"
	ActBlockCaller Action = "case.block"
)

// Provider actions. Those that name a referral are decided by
// DecideReferral together with its referral.Scope.
const (
	ActViewInbox   Action = "inbox.view"
	ActViewPacket  Action = "referral.packet"
	ActRevealPhone Action = "referral.reveal_phone"
	ActAnswer      Action = "referral.answer" // acknowledge, accept, decline, mark served
)

// Administration. They name no case, and only admins may take them.
const (
	ActManageUsers     Action = "admin.users"
	ActManageDirectory Action = "admin.directory"
	ActManageOnCall    Action = "admin.oncall"
)

var adminActions = []Action{ActManageUsers, ActManageDirectory, ActManageOnCall}

// caseActions need a case's Scope.
var caseActions = []Action{ActOpenCase, ActAddNote, ActClaim, ActAssign, ActFollowUp, ActClassify, ActRefer, ActMessageHer,
	ActViewAudit, ActBlockCaller}

// supervisorOnly are the case actions of a supervisor alone.
var supervisorOnly = []Action{ActAssign, ActViewAudit, ActBlockCaller}

// Decide is the one policy function: every handler asks it before acting.
// It returns nil when u may do a on the case sc (nil for actions on no
// case), errNotFound when the case is outside u's scope, or when u's role
// sees no cases at all, so that such a case does not exist for her, and
// errForbidden when the case is hers to see but the act is not her role's.
//
// Scope: caseworkers and supervisors work the cases of their communities
// (every community when they have none) and any case assigned to them.
// Supervisors alone assign a case to someone else, read its audit trail and
// block its caller, and they alone see the SLA board, which lists referrals
// of every case in their communities. Queue health is counts only, so
// admins see it too. Providers and admins see no case; a provider's
// referrals are decided by DecideReferral. Admins alone manage accounts, the
// service directory and the on-call roster, which no other role's page links
// to: for them those pages are forbidden, not hidden. casefile.Desk applies the same scope
// in SQL; TestDeskShowsExactlyWhatPolicyAllows holds the two together.
func Decide(u User, a Action, sc *casefile.Scope) error {
	if u.Disabled || u.ID == uuid.Nil {
		return errNotFound
	}
	staff := u.Role == RoleCaseworker || u.Role == RoleSupervisor
	if !slices.Contains(caseActions, a) {
		switch {
		case a == ActViewDesk && staff,
			a == ActViewBoard && u.Role == RoleSupervisor,
			a == ActQueueHealth && (u.Role == RoleSupervisor || u.Role == RoleAdmin):
			return nil
		}
		if slices.Contains(adminActions, a) && u.Role == RoleAdmin {
			return nil
		}
		return errForbidden
	}
	if sc == nil || !staff || !inScope(u, *sc) {
		return errNotFound
	}
	if slices.Contains(supervisorOnly, a) && u.Role != RoleSupervisor {
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

// DecideReferral is Decide for what a provider does: its inbox (rs nil) and
// the referrals sent to its organisation's services. A referral of another
// organisation, and every referral for a role other than provider, answers
// errNotFound (staff work referrals from the case page, under Decide); the
// inbox is errForbidden to other roles, as the desk is to providers. Her
// number is revealed only while the referral is open: a provider whose
// request was declined, passed on or closed has no reason to reach her.
func DecideReferral(u User, a Action, rs *referral.Scope) error {
	if u.Disabled || u.ID == uuid.Nil {
		return errNotFound
	}
	provider := u.Role == RoleProvider && u.OrgKey != ""
	if a == ActViewInbox {
		if provider {
			return nil
		}
		return errForbidden
	}
	if !slices.Contains([]Action{ActViewPacket, ActRevealPhone, ActAnswer}, a) {
		return errForbidden
	}
	if rs == nil || !provider || rs.OrgKey != u.OrgKey {
		return errNotFound
	}
	if a == ActRevealPhone && !rs.Status.Open() {
		return errForbidden
	}
	return nil
}
