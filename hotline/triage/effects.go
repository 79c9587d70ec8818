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
	Community string   // "el-porvenir", "la-esperanza", "florencia-de-mora" or "other"
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

// Stop: she asked to stop. End the conversation and send nothing more,
// neither replies nor anything the system would start. Repeated while the
// conversation stays stopped, so the hotline may treat it as idempotent.
type Stop struct{}

// EraseConfirmed: she confirmed BORRAR. Erase everything held about her
// (contact and cases) and this conversation's stored state. In a returning
// conversation it comes only after her code word matched; in any other it
// reaches only what this conversation itself stored, so a hotline that
// finds an earlier case of hers must not erase, but step again from
// AsReturning(previous state).
type EraseConfirmed struct{}

// CheckCodeWord: a returning survivor gave her code word, to go on with her
// case or to confirm BORRAR. Compare Word with the stored one and answer
// with CodeWordResult; Step sends no reply of its own in this case. Word is
// normalised like OpenCase.CodeWord. A word that cannot be checked (none
// stored, checks locked) is answered as not matching.
type CheckCodeWord struct{ Word string }

// Callback: a verified returning survivor asks a counsellor to contact her,
// within the ways and hours she agreed for her case.
type Callback struct{}

func (DangerNow) effect()      {}
func (OpenCase) effect()       {}
func (Stop) effect()           {}
func (EraseConfirmed) effect() {}
func (CheckCodeWord) effect()  {}
func (Callback) effect()       {}
