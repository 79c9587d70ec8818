package casefile

import "github.com/amparo/amparo/templates"

// The words casefile's tables are written in. Each is a Go type with one
// constant per value, spelled exactly as the column's CHECK constraint in
// migrations/sql spells it; vocab_test.go reads the migrated schema and
// fails when the two drift apart.

// Need is a kind of service a survivor may be referred to.
type Need string

// The needs the hotline asks about (DESIGN §4, step 3).
const (
	NeedHealth       Need = "health"
	NeedPolice       Need = "police"
	NeedShelter      Need = "shelter"
	NeedLegal        Need = "legal"
	NeedPsychosocial Need = "psychosocial"
)

// Needs lists every Need, in the order prompts offer them.
var Needs = []Need{NeedHealth, NeedPolice, NeedShelter, NeedLegal, NeedPsychosocial}

// Status of a case.
type Status string

// Case statuses. StatusErased is set by EraseCase and EraseContact.
const (
	StatusOpen   Status = "open"
	StatusClosed Status = "closed"
	StatusErased Status = "erased"
)

// Statuses lists every Status.
var Statuses = []Status{StatusOpen, StatusClosed, StatusErased}

// IncidentType is a GBVIMS core incident type: a coarse category kept in
// plaintext for statistics, never a description.
type IncidentType string

// The six GBVIMS core types, spelled as case_file's CHECK constraint.
const (
	IncidentRape               IncidentType = "rape"
	IncidentSexualAssault      IncidentType = "sexual_assault"
	IncidentPhysicalAssault    IncidentType = "physical_assault"
	IncidentForcedMarriage     IncidentType = "forced_marriage"
	IncidentDenialOfResources  IncidentType = "denial_of_resources"
	IncidentPsychologicalAbuse IncidentType = "psychological_abuse"
)

// IncidentTypes lists every IncidentType in GBVIMS order.
var IncidentTypes = []IncidentType{IncidentRape, IncidentSexualAssault, IncidentPhysicalAssault,
	IncidentForcedMarriage, IncidentDenialOfResources, IncidentPsychologicalAbuse}

// FollowUpStatus is where a caseworker task stands.
type FollowUpStatus string

// Follow-up statuses. FollowUpCanceled is set when the case is erased.
const (
	FollowUpOpen     FollowUpStatus = "open"
	FollowUpDone     FollowUpStatus = "done"
	FollowUpCanceled FollowUpStatus = "canceled"
)

// FollowUpStatuses lists every FollowUpStatus.
var FollowUpStatuses = []FollowUpStatus{FollowUpOpen, FollowUpDone, FollowUpCanceled}

// FollowUpKind says what a caseworker task is for. It is a plaintext
// column, so it is a code from this list, never free text.
type FollowUpKind string

// Follow-up kinds: the first three a caseworker files in the portal, the
// rest the system files when something needs a person.
const (
	FollowUpCallback       FollowUpKind = "callback"
	FollowUpCheckIn        FollowUpKind = "check_in"
	FollowUpReferralCheck  FollowUpKind = "referral_check"
	FollowUpNoProvider     FollowUpKind = "no_provider"
	FollowUpEscalated      FollowUpKind = "escalated"
	FollowUpServeDeadline  FollowUpKind = "serve_deadline_near"
	FollowUpDeliveryFailed FollowUpKind = "delivery_failed"
)

// FollowUpKinds lists every FollowUpKind.
var FollowUpKinds = []FollowUpKind{FollowUpCallback, FollowUpCheckIn, FollowUpReferralCheck,
	FollowUpNoProvider, FollowUpEscalated, FollowUpServeDeadline, FollowUpDeliveryFailed}

// Lang is the language a case is kept in: the one she chose, in which
// every text to her is written. Each has a message catalogue in templates.
type Lang string

// Languages.
const (
	LangES Lang = templates.ES
	LangEN Lang = templates.EN
)

// Langs lists every Lang.
var Langs = []Lang{LangES, LangEN}

// texts spells needs as a text[] column holds them; never nil (pgx sends a
// nil slice as NULL).
func texts(needs []Need) []string {
	out := make([]string, len(needs))
	for i, n := range needs {
		out[i] = string(n)
	}
	return out
}

// needsOf reads needs from a text[] column; never nil.
func needsOf(column []string) []Need {
	out := make([]Need, len(column))
	for i, n := range column {
		out[i] = Need(n)
	}
	return out
}
