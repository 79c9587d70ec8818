package triage

import "time"

// Effect is something the hotline must do for a step: the closed set below.
// Effects come in the order they must run, before the replies are sent.
type Effect interface{ effect() }

// DangerNow: she says she is in danger now. Create an urgent case at once
// and alert the on-call counsellor. If the conversation later emits
// OpenCase, it describes this same case (OpenCase.Urgent is true): attach it
// to the urgent case instead of opening a second one.
//
// Agreed is set when she had already answered how she may be contacted
// (MayText, MayCall and the hours as in OpenCase; both hours 0 to 24 while
// she has not said when): the counsellor keeps to that. Otherwise she has
// been told a counsellor will write to her in this conversation.
type DangerNow struct {
	Agreed           bool
	MayText, MayCall bool
	FromHour, ToHour int
}

// OpenCase: she consented and answered the triage. Store the case, then
// send the replies after filling the reference with Output.WithReference.
type OpenCase struct {
	Urgent    bool
	Needs     []string // "health", "police", "shelter", "legal", "psychosocial"; at least one
	Community string   // a Community.Key of the Place, or OtherCommunity
	// IncidentAt is the earliest time consistent with her answer, so the
	// deadlines derived from it (casefile.ClinicalDeadlines) are never later than the
	// true ones; nil when there is no health need or she preferred not to say.
	IncidentAt *time.Time
	Consent    map[string]bool // per need: may it be referred
	MayText    bool
	MayCall    bool
	// FromHour (inclusive) and ToHour (exclusive) bound when she may be
	// contacted, in Peru time, 0–24; FromHour > ToHour wraps past midnight.
	// Both are 0 when she may not be contacted at all.
	FromHour, ToHour int
	CodeWord         string // normalised: lower case, no accents (see CheckCodeWord)
	Lang             string
}

// Stop: she asked to stop (SALIR). Record her opt-out: nothing the system
// starts goes to her any more. Her own messages are still answered.
type Stop struct{}

// Resume: she chose to come back, by INICIO or by her code word in answer
// to the welcome. If her number is opted out (SALIR), lift it when her code
// word matched in this conversation (Verified) or her number has no code
// word; never otherwise, since anyone can send INICIO from her number.
// Before her code word matched, the replies must be the same whether or not
// it was lifted, so they say nothing of whether her number has a record.
type Resume struct{ Verified bool }

// EraseConfirmed: she confirmed BORRAR. Verified says her code word matched
// in this conversation: erase everything held about her (contact and cases)
// and this conversation's stored state. Without it, erase only what no code
// word protects: nothing of a number that has a code word (even one chosen
// a minute ago) or a case from before this conversation, and never a danger
// alert still owed its callback (State.OwesCallback); triage's reply is true
// either way.
type EraseConfirmed struct{ Verified bool }

// CheckCodeWord: she gave what may be her code word, at the danger question
// (to reach her returning menu) or to confirm BORRAR. Compare Word with the
// stored one and answer with CodeWordResult; Step sends no reply of its own
// in this case. Word is normalised like OpenCase.CodeWord. A word that
// cannot be checked (no contact, none stored, checks locked) is answered
// as not matching, so the reply is the same as for a wrong word.
type CheckCodeWord struct{ Word string }

// Callback: a verified returning survivor asks a counsellor to contact her,
// within the ways and hours she agreed for her case.
type Callback struct{}

func (DangerNow) effect()      {}
func (OpenCase) effect()       {}
func (Stop) effect()           {}
func (Resume) effect()         {}
func (EraseConfirmed) effect() {}
func (CheckCodeWord) effect()  {}
func (Callback) effect()       {}
