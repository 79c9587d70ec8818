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
		var erased bool
		// FOR SHARE: an EraseContact running now either sees this case or
		// waits for it.
		err := tx.QueryRow(ctx, `SELECT erased_at IS NOT NULL FROM contact WHERE id = $1 FOR SHARE`, contactID).Scan(&erased)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return fmt.Errorf("casefile: open case: %w", err)
		case erased:
			return ErrErased
		}
		for attempt := 0; c.Reference == ""; attempt++ {
			ref := newReference(4 + attempt/4)
			tag, err := tx.Exec(ctx, `
				INSERT INTO case_file (id, reference, contact_id, urgent, needs, consented_needs, community,
					may_text, may_call, contact_from_hour, contact_to_hour, lang,
					pep_deadline, ec_deadline, incident_sealed, narrative_sealed, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
				ON CONFLICT (reference) DO NOTHING`,
				c.ID, ref, contactID, c.Urgent, cc.needs, cc.consented, cc.community,
				cc.contact.MayText, cc.contact.MayCall, cc.contact.FromHour, cc.contact.ToHour, cc.lang,
				cc.pepDeadline, cc.ecDeadline, cc.incidentSealed, cc.narrativeSealed, now)
			if err != nil {
				return fmt.Errorf("casefile: open case: %w", err)
			}
			if tag.RowsAffected() == 1 {
				c.Reference = ref
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO case_key (case_id, kek_id, wrapped_dek) VALUES ($1, $2, $3)`,
			c.ID, kekID, wrapped); err != nil {
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
	c := Case{ID: caseID}
	err = inTx(ctx, db, func(tx pgx.Tx) error {
		// Locks in EraseContact's order (her contact, then the case, then its
		// key), so the two cannot deadlock. The contact is locked for update
		// only when her code word is written.
		var contactID uuid.UUID
		err := tx.QueryRow(ctx, `SELECT contact_id FROM case_file WHERE id = $1`, caseID).Scan(&contactID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("casefile: complete case: %w", err)
		}
		lock := `FOR SHARE`
		if in.CodeWord != "" {
			lock = `FOR NO KEY UPDATE`
		}
		var contactErased bool
		if err := tx.QueryRow(ctx, `SELECT erased_at IS NOT NULL FROM contact WHERE id = $1 `+lock, contactID).Scan(&contactErased); err != nil {
			return fmt.Errorf("casefile: complete case: %w", err)
		}
		var (
			caseErased bool
			narrative  []byte
		)
		err = tx.QueryRow(ctx, `
			SELECT reference, contact_id, status, erased_at IS NOT NULL, urgent, narrative_sealed, created_at
			FROM case_file WHERE id = $1 FOR NO KEY UPDATE`, caseID).Scan(
			&c.Reference, &c.ContactID, &c.Status, &caseErased, &c.Urgent, &narrative, &c.CreatedAt)
		switch {
		case err != nil:
			return fmt.Errorf("casefile: complete case: %w", err)
		case contactErased || caseErased || c.Status == StatusErased:
			return ErrErased
		case c.Status != StatusOpen:
			return invalid("case (not open)")
		}
		utc(&c.CreatedAt)
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
		if _, err := tx.Exec(ctx, `
			UPDATE case_file SET urgent = $2, needs = $3, consented_needs = $4, community = $5,
				may_text = $6, may_call = $7, contact_from_hour = $8, contact_to_hour = $9, lang = $10,
				pep_deadline = $11, ec_deadline = $12, incident_sealed = $13, narrative_sealed = $14
			WHERE id = $1`,
			caseID, c.Urgent, cc.needs, cc.consented, cc.community,
			cc.contact.MayText, cc.contact.MayCall, cc.contact.FromHour, cc.contact.ToHour, cc.lang,
			cc.pepDeadline, cc.ecDeadline, cc.incidentSealed, cc.narrativeSealed); err != nil {
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
