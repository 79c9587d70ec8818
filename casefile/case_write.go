package casefile

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile/internal/casefiledb"
)

// Reference alphabet: digits and capitals without 0/O, 1/I/L, which are
// misread on a phone screen and over the phone.
const refAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// newReference returns "AMP-" and n random characters. Four give ~920,000
// codes; OpenCase retries on a clash and lengthens the code if clashes keep
// coming, so the space never runs out.
func newReference(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		// 256 % 31 = 8: a bias of under 4 % on a few characters, irrelevant
		// for a label that is not a secret.
		b[i] = refAlphabet[int(b[i])%len(refAlphabet)]
	}
	return "AMP-" + string(b)
}

// caseColumns is what a case row holds of a CaseInput: the plaintext
// columns, and the incident time and narrative, which are only ever written
// sealed. OpenCase and CompleteCase both go through it, so the two cannot
// drift on what is validated or what reaches the row in the clear.
type caseColumns struct {
	needs       []Need
	consent     map[Need]bool
	consented   []Need // non-nil: pgx sends a nil slice as NULL
	community   string
	contact     ContactPrefs
	lang        Lang
	incidentAt  *time.Time
	pepDeadline *time.Time
	ecDeadline  *time.Time
	narrative   string

	incident []byte // the incident time as text; sealed by seal, never written as is
	// Set by seal; nil when there is nothing to seal.
	incidentSealed, narrativeSealed []byte
}

// newCaseColumns validates in and computes the columns of a case written at
// now, the clinical deadlines included. Nothing is sealed yet: that needs
// the case key (seal).
func newCaseColumns(in CaseInput, now time.Time) (caseColumns, error) {
	if err := in.validate(); err != nil {
		return caseColumns{}, err
	}
	cc := caseColumns{
		needs: slices.Clone(in.Needs), consent: map[Need]bool{}, consented: []Need{},
		community: in.Community, contact: in.Contact, lang: in.Lang, narrative: in.Narrative,
	}
	for _, n := range cc.needs {
		cc.consent[n] = in.Consent[n]
		if in.Consent[n] {
			cc.consented = append(cc.consented, n)
		}
	}
	if in.IncidentAt != nil {
		at := in.IncidentAt.UTC().Truncate(time.Microsecond)
		if at.After(now) {
			return caseColumns{}, invalid("incident time (in the future)")
		}
		var err error
		if cc.incident, err = at.MarshalText(); err != nil {
			return caseColumns{}, invalid("incident time (out of range)")
		}
		d := ClinicalDeadlines(at)
		cc.incidentAt, cc.pepDeadline, cc.ecDeadline = &at, &d.PEP, &d.EC
	}
	return cc, nil
}

// seal seals the incident time and the narrative with the case's sealer.
func (cc *caseColumns) seal(f sealer) error {
	var err error
	if cc.incidentSealed, err = f.seal("incident_sealed", cc.incident); err != nil {
		return err
	}
	cc.narrativeSealed, err = f.seal("narrative_sealed", []byte(cc.narrative))
	return err
}

// fill copies the columns into c as GetCase would read them back.
func (cc *caseColumns) fill(c *Case) {
	c.Needs, c.Consent, c.Community, c.Contact, c.Lang = cc.needs, cc.consent, cc.community, cc.contact, cc.lang
	c.IncidentAt, c.PEPDeadline, c.ECDeadline = cc.incidentAt, cc.pepDeadline, cc.ecDeadline
	c.Narrative = cc.narrative
}

// OpenCase opens a case for a live contact, sealing the incident time and the
// narrative under a new case key. A code word in in is set only if the
// contact has none yet: an existing word is kept, and neither it nor its
// guessing lock can be changed this way (her number may be spoofed).
func (s *Store) OpenCase(ctx context.Context, db DB, contactID uuid.UUID, in CaseInput) (Case, error) {
	now := s.now()
	cc, err := newCaseColumns(in, now)
	if err != nil {
		return Case{}, err
	}
	c := Case{ID: uuid.New(), ContactID: contactID, Status: StatusOpen, Urgent: in.Urgent, CreatedAt: now}
	cc.fill(&c)
	dek, kekID, wrapped, err := s.newKey("case_file", c.ID)
	if err != nil {
		return Case{}, err
	}
	if err := cc.seal(sealer{dek, "case_file", c.ID}); err != nil {
		return Case{}, err
	}
	err = inTx(ctx, db, func(tx pgx.Tx) error {
		q := casefiledb.New(tx)
		// FOR SHARE: an EraseContact running now either sees this case or
		// waits for it.
		erasedAt, err := q.ContactErasedForShare(ctx, contactID)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return fmt.Errorf("casefile: open case: %w", err)
		case erasedAt != nil:
			return ErrErased
		}
		for attempt := 0; c.Reference == ""; attempt++ {
			ref := newReference(4 + attempt/4)
			n, err := q.InsertCase(ctx, casefiledb.InsertCaseParams{
				ID: c.ID, Reference: ref, ContactID: contactID, Urgent: c.Urgent,
				Needs: texts(cc.needs), ConsentedNeeds: texts(cc.consented), Community: cc.community,
				MayText: cc.contact.MayText, MayCall: cc.contact.MayCall,
				ContactFromHour: int16(cc.contact.FromHour), ContactToHour: int16(cc.contact.ToHour), Lang: string(cc.lang),
				PepDeadline: cc.pepDeadline, EcDeadline: cc.ecDeadline,
				IncidentSealed: cc.incidentSealed, NarrativeSealed: cc.narrativeSealed, CreatedAt: now,
			})
			if err != nil {
				return fmt.Errorf("casefile: open case: %w", err)
			}
			if n == 1 {
				c.Reference = ref
			}
		}
		if err := q.InsertCaseKey(ctx, c.ID, kekID, wrapped); err != nil {
			return fmt.Errorf("casefile: open case: %w", err)
		}
		if in.CodeWord != "" {
			return s.addCodeWord(ctx, tx, contactID, in.CodeWord)
		}
		return nil
	})
	if err != nil {
		return Case{}, err
	}
	s.log.InfoContext(ctx, "casefile: case opened", "case_id", c.ID, "urgent", c.Urgent)
	return c, nil
}

// CompleteCase fills an open case in place with what a later, fuller triage
// gathered: the hotline opens an urgent case the moment she says she is in
// danger, before it knows her needs, and completes that same case when she
// finishes the triage. Needs, consent, community, contact preferences,
// language, the incident time (sealed under the case's own key) and the
// clinical deadlines are replaced by in; the narrative is replaced only if
// in has one, and a code word in in is set only if her contact has none
// (as in OpenCase). The reference, the
// contact and the opening time stay; a case that was urgent stays urgent.
// An erased case gives ErrErased, a closed one ErrInvalidInput, an unknown
// one ErrNotFound; none of them changes anything.
func (s *Store) CompleteCase(ctx context.Context, db DB, caseID uuid.UUID, in CaseInput) (Case, error) {
	now := s.now()
	cc, err := newCaseColumns(in, now)
	if err != nil {
		return Case{}, err
	}
	var c Case
	err = inTx(ctx, db, func(tx pgx.Tx) error {
		q := casefiledb.New(tx)
		// Locks in EraseContact's order (her contact, then the case, then its
		// key), so the two cannot deadlock. The contact is locked for update
		// only when her code word is written.
		contactID, err := q.CaseContact(ctx, caseID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("casefile: complete case: %w", err)
		}
		lockContact := q.ContactErasedForShare
		if in.CodeWord != "" {
			lockContact = q.ContactErasedForNoKeyUpdate
		}
		contactErasedAt, err := lockContact(ctx, contactID)
		if err != nil {
			return fmt.Errorf("casefile: complete case: %w", err)
		}
		row, err := q.CaseRowForNoKeyUpdate(ctx, caseID)
		if err != nil {
			return fmt.Errorf("casefile: complete case: %w", err)
		}
		c = caseOf(row)
		switch {
		case contactErasedAt != nil || row.ErasedAt != nil || c.Status == StatusErased:
			return ErrErased
		case c.Status != StatusOpen:
			return invalid("case (not open)")
		}
		narrative := row.NarrativeSealed
		dek, err := s.caseKey(ctx, tx, caseID, true)
		if err != nil {
			return err
		}
		f := sealer{dek, "case_file", caseID}
		if err := cc.seal(f); err != nil {
			return err
		}
		if cc.narrativeSealed == nil {
			// Nothing new said: the stored account stays, and is returned.
			pt, err := f.open("narrative_sealed", narrative)
			if err != nil {
				return err
			}
			cc.narrative, cc.narrativeSealed = string(pt), narrative
		}
		c.Urgent = c.Urgent || in.Urgent
		cc.fill(&c)
		if err := q.CompleteCase(ctx, casefiledb.CompleteCaseParams{
			ID: caseID, Urgent: c.Urgent,
			Needs: texts(cc.needs), ConsentedNeeds: texts(cc.consented), Community: cc.community,
			MayText: cc.contact.MayText, MayCall: cc.contact.MayCall,
			ContactFromHour: int16(cc.contact.FromHour), ContactToHour: int16(cc.contact.ToHour), Lang: string(cc.lang),
			PepDeadline: cc.pepDeadline, EcDeadline: cc.ecDeadline,
			IncidentSealed: cc.incidentSealed, NarrativeSealed: cc.narrativeSealed,
		}); err != nil {
			return fmt.Errorf("casefile: complete case: %w", err)
		}
		if in.CodeWord != "" {
			return s.addCodeWord(ctx, tx, c.ContactID, in.CodeWord)
		}
		return nil
	})
	if err != nil {
		return Case{}, err
	}
	s.log.InfoContext(ctx, "casefile: case completed", "case_id", c.ID, "urgent", c.Urgent)
	return c, nil
}
