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

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/crypto"
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

// Reference returns a case's reference without opening the case: it is a
// plaintext column, so it costs no key and no decryption, and it is there
// for an erased case too (as in ListCases).
func (s *Store) Reference(ctx context.Context, db DB, caseID uuid.UUID) (string, error) {
	var ref string
	err := db.QueryRow(ctx, `SELECT reference FROM case_file WHERE id = $1`, caseID).Scan(&ref)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("casefile: reference of %s: %w", caseID, err)
	}
	return ref, nil
}

// caseKey returns the case's data key, or ErrErased. With lock it takes a
// share lock on the key row, so that a write sealed under the key cannot
// interleave with an erasure of the case.
func (s *Store) caseKey(ctx context.Context, db DB, caseID uuid.UUID, lock bool) (*crypto.DataKey, error) {
	q := `SELECT kek_id, wrapped_dek FROM case_key WHERE case_id = $1`
	if lock {
		q += ` FOR SHARE`
	}
	return s.loadKey(ctx, db, q, caseID, caseOwner(caseID), "case")
}

// loadKey reads the (kek_id, wrapped_dek) row that q selects for id and
// unwraps it for owner: ErrNotFound without a row, ErrErased when the key
// was shredded.
func (s *Store) loadKey(ctx context.Context, db DB, q string, id uuid.UUID, owner, what string) (*crypto.DataKey, error) {
	var (
		kekID   *string
		wrapped []byte
	)
	err := db.QueryRow(ctx, q, id).Scan(&kekID, &wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("casefile: %s key: %w", what, err)
	}
	if wrapped == nil {
		return nil, ErrErased
	}
	return s.unwrap(*kekID, wrapped, owner)
}

// GetCase opens a case. It does not audit: a caller acting for a person
// (the portal) records that person's opening in the same transaction.
func (s *Store) GetCase(ctx context.Context, db DB, caseID uuid.UUID) (Case, error) {
	c := Case{ID: caseID, Consent: map[Need]bool{}}
	var (
		consented                 []Need
		sealedIncident, narrative []byte
		kekID                     *string
		wrapped                   []byte
	)
	err := db.QueryRow(ctx, `
		SELECT c.reference, c.contact_id, c.status, c.urgent, c.needs, c.consented_needs, c.community,
			c.may_text, c.may_call, c.contact_from_hour, c.contact_to_hour, c.lang,
			c.pep_deadline, c.ec_deadline, c.incident_sealed, c.narrative_sealed, c.created_at,
			k.kek_id, k.wrapped_dek
		FROM case_file c JOIN case_key k ON k.case_id = c.id WHERE c.id = $1`, caseID).Scan(
		&c.Reference, &c.ContactID, &c.Status, &c.Urgent, &c.Needs, &consented, &c.Community,
		&c.Contact.MayText, &c.Contact.MayCall, &c.Contact.FromHour, &c.Contact.ToHour, &c.Lang,
		&c.PEPDeadline, &c.ECDeadline, &sealedIncident, &narrative, &c.CreatedAt,
		&kekID, &wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return Case{}, ErrNotFound
	}
	if err != nil {
		return Case{}, fmt.Errorf("casefile: get case: %w", err)
	}
	if wrapped == nil {
		return Case{}, ErrErased
	}
	utc(&c.CreatedAt)
	utcOpt(&c.PEPDeadline, &c.ECDeadline)
	dek, err := s.unwrap(*kekID, wrapped, caseOwner(caseID))
	if err != nil {
		return Case{}, err
	}
	f := sealer{dek, "case_file", caseID}
	incident, err := f.open("incident_sealed", sealedIncident)
	if err != nil {
		return Case{}, err
	}
	if incident != nil {
		var at time.Time
		if err := at.UnmarshalText(incident); err != nil {
			return Case{}, fmt.Errorf("casefile: case %s: incident time does not parse", caseID)
		}
		c.IncidentAt = &at
	}
	pt, err := f.open("narrative_sealed", narrative)
	if err != nil {
		return Case{}, err
	}
	c.Narrative = string(pt)
	for _, n := range c.Needs {
		c.Consent[n] = slices.Contains(consented, n)
	}
	return c, nil
}

// ListFilter selects cases for ListCases; zero fields match everything.
type ListFilter struct {
	ContactID uuid.UUID
	Status    Status
	Limit     int // default and maximum 500
}

// ListCases lists cases in queue order: urgent first, then the nearest
// clinical deadline, then the oldest. Erased cases are listed too (with
// StatusErased) unless the filter excludes them.
func (s *Store) ListCases(ctx context.Context, db DB, f ListFilter) ([]CaseSummary, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 500
	}
	rows, err := db.Query(ctx, `
		SELECT id, reference, contact_id, status, urgent, needs, community, next_deadline, created_at
		FROM case_file
		WHERE ($1::uuid IS NULL OR contact_id = $1) AND ($2 = '' OR status = $2)
		ORDER BY urgent DESC, next_deadline NULLS LAST, created_at, id
		LIMIT $3`, uuidOrNil(f.ContactID), f.Status, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("casefile: list cases: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CaseSummary, error) {
		var c CaseSummary
		err := r.Scan(&c.ID, &c.Reference, &c.ContactID, &c.Status, &c.Urgent, &c.Needs, &c.Community, &c.NextDeadline, &c.CreatedAt)
		utc(&c.CreatedAt)
		utcOpt(&c.NextDeadline)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("casefile: list cases: %w", err)
	}
	return out, nil
}

// CountCases counts cases by status, erased ones included.
func (s *Store) CountCases(ctx context.Context, db DB) (map[Status]int, error) {
	rows, err := db.Query(ctx, `SELECT status, count(*) FROM case_file GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("casefile: count cases: %w", err)
	}
	out := map[Status]int{}
	var (
		st Status
		n  int
	)
	_, err = pgx.ForEachRow(rows, []any{&st, &n}, func() error { out[st] = n; return nil })
	if err != nil {
		return nil, fmt.Errorf("casefile: count cases: %w", err)
	}
	return out, nil
}

func uuidOrNil(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// EraseCase shreds one case: its data key is destroyed, so every sealed
// value of the case (narrative, incident time, notes, follow-up notes) is
// unreadable on every code path and in every later copy of the database;
// the ciphertexts are dropped from the live tables too, as are the clinical
// deadlines (they imply the incident time) and open follow-ups. Erasing an
// erased case is a no-op.
func (s *Store) EraseCase(ctx context.Context, db DB, caseID uuid.UUID, actor string) error {
	return inTx(ctx, db, func(tx pgx.Tx) error {
		var (
			erased bool
			ref    string
		)
		// FOR NO KEY UPDATE, not FOR UPDATE: AddNote, AddFollowUp and
		// referral inserts check their foreign key with FOR KEY SHARE on
		// this row while holding locks this erasure needs next (the case
		// key, the audit chain), so a FOR UPDATE here deadlocks with them
		// and PostgreSQL aborts the erasure. Shredding changes no key
		// column, so the weaker lock is all the UPDATEs below need.
		err := tx.QueryRow(ctx, `SELECT erased_at IS NOT NULL, reference FROM case_file WHERE id = $1 FOR NO KEY UPDATE`, caseID).Scan(&erased, &ref)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("casefile: erase case: %w", err)
		}
		if erased {
			return nil
		}
		now := s.now()
		if err := s.runEraseHook(ctx, tx, []ErasedCase{{ID: caseID, Reference: ref}}, now); err != nil {
			return err
		}
		return s.shredCase(ctx, tx, caseID, actor, now)
	})
}

// runEraseHook runs the erase hook, if any, for cases whose rows the caller
// has locked. It runs before shredCase: a referral worker that holds one of
// the case's referrals may still need the case key (to file a follow-up),
// and must get it before this transaction waits for that referral.
func (s *Store) runEraseHook(ctx context.Context, tx pgx.Tx, cases []ErasedCase, now time.Time) error {
	if len(cases) == 0 {
		return nil
	}
	for _, h := range s.eraseHooks {
		if err := h(ctx, tx, cases, now); err != nil {
			return fmt.Errorf("casefile: erase hook: %w", err)
		}
	}
	return nil
}

// shredCase erases a case whose case_file row the caller has locked.
func (s *Store) shredCase(ctx context.Context, tx pgx.Tx, caseID uuid.UUID, actor string, now time.Time) error {
	steps := []struct {
		sql  string
		args []any
	}{
		{`UPDATE case_key SET kek_id = NULL, wrapped_dek = NULL, destroyed_at = $2 WHERE case_id = $1`, []any{caseID, now}},
		{`UPDATE case_file SET status = 'erased', erased_at = $2, incident_sealed = NULL, narrative_sealed = NULL,
			pep_deadline = NULL, ec_deadline = NULL WHERE id = $1`, []any{caseID, now}},
		{`UPDATE case_note SET body_sealed = NULL WHERE case_id = $1`, []any{caseID}},
		// Some tasks are timed by a clinical deadline (referral's "serve
		// deadline near"), so their times would tell the incident time.
		{`UPDATE follow_up SET note_sealed = NULL, status = CASE WHEN status = 'open' THEN 'canceled' ELSE status END,
			due_at = $2, created_at = $2 WHERE case_id = $1`, []any{caseID, now}},
	}
	for _, st := range steps {
		if _, err := tx.Exec(ctx, st.sql, st.args...); err != nil {
			return fmt.Errorf("casefile: erase case %s: %w", caseID, err)
		}
	}
	if err := audit.Append(ctx, tx, now, audit.Entry{Actor: actor, Action: "case.erase", CaseID: caseID.String()}); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "casefile: case erased", "case_id", caseID)
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

// CaseFacts reads a case's plaintext facts. Like GetCase it gives
// ErrNotFound for an unknown case and ErrErased for an erased one, but it
// opens nothing, so it needs no key and is no opening of sealed content.
func (s *Store) CaseFacts(ctx context.Context, db DB, caseID uuid.UUID) (Facts, error) {
	return s.caseFacts(ctx, db, caseID, "")
}

// LockCaseFacts is CaseFacts holding the case row FOR SHARE until tx ends:
// an erasure of the case waits for tx, and one that committed first gives
// ErrErased. Callers that go on to write rows about the case (a referral)
// use it so that nothing about her is created after her erasure. Take it
// before the audit chain lock (audit.Append) in the same transaction, as
// erasures take the case row before the audit lock.
func (s *Store) LockCaseFacts(ctx context.Context, tx pgx.Tx, caseID uuid.UUID) (Facts, error) {
	return s.caseFacts(ctx, tx, caseID, " FOR SHARE")
}

func (s *Store) caseFacts(ctx context.Context, db DB, caseID uuid.UUID, lock string) (Facts, error) {
	c := Facts{ID: caseID, Consent: map[Need]bool{}}
	var (
		consented []Need
		erased    bool
	)
	err := db.QueryRow(ctx, `
		SELECT reference, contact_id, status, erased_at IS NOT NULL, urgent, needs, consented_needs, community,
			may_text, may_call, contact_from_hour, contact_to_hour, lang, pep_deadline, ec_deadline, created_at
		FROM case_file WHERE id = $1`+lock, caseID).Scan(
		&c.Reference, &c.ContactID, &c.Status, &erased, &c.Urgent, &c.Needs, &consented, &c.Community,
		&c.Contact.MayText, &c.Contact.MayCall, &c.Contact.FromHour, &c.Contact.ToHour, &c.Lang,
		&c.PEPDeadline, &c.ECDeadline, &c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Facts{}, ErrNotFound
	}
	if err != nil {
		return Facts{}, fmt.Errorf("casefile: facts of %s: %w", caseID, err)
	}
	if erased || c.Status == StatusErased {
		return Facts{}, ErrErased
	}
	utc(&c.CreatedAt)
	utcOpt(&c.PEPDeadline, &c.ECDeadline)
	for _, n := range c.Needs {
		c.Consent[n] = slices.Contains(consented, n)
	}
	return c, nil
}
