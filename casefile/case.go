package casefile

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// ContactPrefs is how and when she may be contacted. Hours are local, in
// [FromHour, ToHour); ToHour may be 24.
type ContactPrefs struct {
	MayText  bool
	MayCall  bool
	FromHour int
	ToHour   int
}

// CaseInput is what the triage conversation gathered.
type CaseInput struct {
	Urgent     bool
	Needs      []Need
	Community  string
	IncidentAt *time.Time    // set when the clinical deadlines apply
	Consent    map[Need]bool // consent to be referred, per need
	Contact    ContactPrefs
	CodeWord   string // set on her contact; never stored readable
	Lang       Lang
	Narrative  string
}

// Case is a case as a caseworker reads it (opened).
type Case struct {
	ID          uuid.UUID
	Reference   string // short code she and providers quote, e.g. "AMP-7K3Q"
	ContactID   uuid.UUID
	Status      Status
	Urgent      bool
	Needs       []Need
	Consent     map[Need]bool
	Community   string
	Contact     ContactPrefs
	Lang        Lang
	IncidentAt  *time.Time
	PEPDeadline *time.Time
	ECDeadline  *time.Time
	Narrative   string
	CreatedAt   time.Time
}

// CaseSummary is what lists show: plaintext columns only, so it is available
// for erased cases too and costs no decryption.
type CaseSummary struct {
	ID           uuid.UUID
	Reference    string
	ContactID    uuid.UUID
	Status       Status
	Urgent       bool
	Needs        []Need
	Community    string
	NextDeadline *time.Time // the nearest clinical deadline
	CreatedAt    time.Time
}

// maxSealedText bounds free text fields (narrative, notes): far above any SMS
// conversation, well below what would strain a row.
const maxSealedText = 64 << 10

func (in CaseInput) validate() error {
	if len(in.Needs) == 0 {
		return invalid("needs (none given)")
	}
	for i, n := range in.Needs {
		if !slices.Contains(Needs, n) {
			return invalid("needs (unknown need)")
		}
		if slices.Contains(in.Needs[:i], n) {
			return invalid("needs (duplicate)")
		}
	}
	for n, yes := range in.Consent {
		if yes && !slices.Contains(in.Needs, n) {
			return invalid("consent (for a need not asked for)")
		}
	}
	p := in.Contact
	if p.FromHour < 0 || p.FromHour > 23 || p.ToHour < 0 || p.ToHour > 24 {
		return invalid("contact hours")
	}
	if !slices.Contains(Langs, in.Lang) {
		return invalid("lang")
	}
	if len(in.Community) > 100 {
		return invalid("community (too long)")
	}
	if len(in.Narrative) > maxSealedText {
		return invalid("narrative (too long)")
	}
	// Checked here, not only where it is stored, so that no write of a case
	// happens before a bad code word is refused.
	if in.CodeWord != "" && normalizeCodeWord(in.CodeWord) == "" {
		return invalid(codeWordTooShort)
	}
	return nil
}

// Facts is what a case holds in plaintext columns: what referral and lists
// need to act on a case, read without its key and without decrypting
// anything (no narrative, no incident time).
type Facts struct {
	ID          uuid.UUID
	Reference   string
	ContactID   uuid.UUID
	Status      Status
	Urgent      bool
	Needs       []Need
	Consent     map[Need]bool
	Community   string
	Contact     ContactPrefs
	Lang        Lang
	PEPDeadline *time.Time
	ECDeadline  *time.Time
	CreatedAt   time.Time
}
