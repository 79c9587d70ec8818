package casefile_test

import (
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/amparo/amparo/casefile"
)

// urgentInput is what the hotline knows the moment she says she is in danger
// now: nothing yet but that.
func urgentInput() casefile.CaseInput {
	return casefile.CaseInput{Urgent: true, Needs: []casefile.Need{casefile.NeedPsychosocial}, Lang: "es"}
}

// caseRow is the case_file row as text, every column, as a dump would show it.
func (f *fixture) caseRow(t testing.TB, id uuid.UUID) string {
	t.Helper()
	var row string
	if err := f.pool.QueryRow(f.ctx, `SELECT t::text FROM case_file t WHERE id = $1`, id).Scan(&row); err != nil {
		t.Fatal(err)
	}
	return row
}

func TestCompleteCaseRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ct := f.contact(t, f.store, "+51987000101")
	urgent := f.openCase(t, f.store, ct.ID, urgentInput())
	f.clk.Advance(20 * time.Minute) // she answers the rest of the triage

	in := input()
	in.Urgent = false // what the triage says does not make an urgent case routine
	done, err := f.store.CompleteCase(f.ctx, f.pool, urgent.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.store.GetCase(f.ctx, f.pool, urgent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, done) {
		t.Fatalf("GetCase differs from CompleteCase:\n got %+v\nwant %+v", got, done)
	}
	// The same case: id, reference, contact and opening time kept; still urgent.
	if got.ID != urgent.ID || got.Reference != urgent.Reference || got.ContactID != ct.ID ||
		!got.CreatedAt.Equal(urgent.CreatedAt) || got.Status != casefile.StatusOpen || !got.Urgent {
		t.Errorf("completed case lost its identity: %+v (opened as %+v)", got, urgent)
	}
	// Filled with the triage's answers, replacing the placeholder need.
	wantConsent := map[casefile.Need]bool{casefile.NeedHealth: true, casefile.NeedLegal: false, casefile.NeedShelter: true}
	if !reflect.DeepEqual(got.Needs, in.Needs) || !reflect.DeepEqual(got.Consent, wantConsent) ||
		got.Community != in.Community || got.Contact != in.Contact || got.Lang != in.Lang || got.Narrative != in.Narrative {
		t.Errorf("completed case = %+v; want the triage's answers %+v", got, in)
	}
	// Deadlines are exact, counted from the incident, not from completion.
	if got.IncidentAt == nil || !got.IncidentAt.Equal(*in.IncidentAt) ||
		!got.PEPDeadline.Equal(in.IncidentAt.Add(72*time.Hour)) || !got.ECDeadline.Equal(in.IncidentAt.Add(120*time.Hour)) {
		t.Errorf("incident %v, deadlines pep %v ec %v; incident was %v", got.IncidentAt, got.PEPDeadline, got.ECDeadline, in.IncidentAt)
	}
	list, err := f.store.ListCases(f.ctx, f.pool, casefile.ListFilter{ContactID: ct.ID})
	if err != nil || len(list) != 1 || !list[0].NextDeadline.Equal(*got.PEPDeadline) || !list[0].Urgent {
		t.Fatalf("ListCases = %+v, %v; want the one urgent case, next deadline = PEP", list, err)
	}
	// Her code word is set on her contact.
	if ok, err := f.store.CheckCodeWord(f.ctx, f.pool, ct.ID, "girasol"); !ok || err != nil {
		t.Errorf("code word after CompleteCase: %v, %v", ok, err)
	}
	if ref, err := f.store.Reference(f.ctx, f.pool, urgent.ID); err != nil || ref != urgent.Reference {
		t.Errorf("Reference = %q, %v; want %q", ref, err, urgent.Reference)
	}

	// Completed again without a narrative, code word or health need: the
	// account and code word stay; the incident time and deadlines go.
	again := casefile.CaseInput{Needs: []casefile.Need{casefile.NeedPolice}, Consent: map[casefile.Need]bool{casefile.NeedPolice: true},
		Community: "otra", Lang: "en", Contact: casefile.ContactPrefs{MayCall: true, FromHour: 20, ToHour: 8}}
	done, err = f.store.CompleteCase(f.ctx, f.pool, urgent.ID, again)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = f.store.GetCase(f.ctx, f.pool, urgent.ID); err != nil || !reflect.DeepEqual(got, done) {
		t.Fatalf("GetCase = %+v, %v; CompleteCase returned %+v", got, err, done)
	}
	if got.Narrative != in.Narrative || got.IncidentAt != nil || got.PEPDeadline != nil || got.ECDeadline != nil ||
		!got.Urgent || !reflect.DeepEqual(got.Consent, map[casefile.Need]bool{casefile.NeedPolice: true}) || got.Lang != "en" {
		t.Errorf("second completion = %+v", got)
	}
	if ok, err := f.store.CheckCodeWord(f.ctx, f.pool, ct.ID, "girasol"); !ok || err != nil {
		t.Errorf("code word lost by a completion without one: %v, %v", ok, err)
	}
	if n, _ := f.store.CountCases(f.ctx, f.pool); n[casefile.StatusOpen] != 1 || len(n) != 1 {
		t.Errorf("CountCases = %v; want one open case", n)
	}
}

// What OpenCase seals, CompleteCase seals: no column of the row holds the
// narrative or the incident time in the clear, and the sealed values are
// bound to this case (they open through GetCase, and only there).
func TestCompleteCaseSeals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ct := f.contact(t, f.store, "+51987000102")
	other := f.openCase(t, f.store, ct.ID, input())
	urgent := f.openCase(t, f.store, ct.ID, urgentInput())
	const secret = "CANARY-narrative-of-a-completed-case"
	in := input()
	in.Narrative = secret
	incident := time.Date(2026, 11, 26, 7, 13, 59, 0, time.UTC)
	in.IncidentAt = &incident
	if _, err := f.store.CompleteCase(f.ctx, f.pool, urgent.ID, in); err != nil {
		t.Fatal(err)
	}
	// The deadlines are plaintext by design (DESIGN §3); the incident time
	// itself is not, in any encoding.
	row := strings.ToLower(f.caseRow(t, urgent.ID))
	for _, plain := range []string{secret, "CANARY", "2026-11-26", "girasol"} {
		for _, enc := range []string{plain, hex.EncodeToString([]byte(plain))} {
			if strings.Contains(row, strings.ToLower(enc)) {
				t.Errorf("case row holds %q in the clear: %s", plain, row)
			}
		}
	}
	var incidentSealed, narrativeSealed []byte
	if err := f.pool.QueryRow(f.ctx, `SELECT incident_sealed, narrative_sealed FROM case_file WHERE id = $1`, urgent.ID).
		Scan(&incidentSealed, &narrativeSealed); err != nil {
		t.Fatal(err)
	}
	if incidentSealed == nil || narrativeSealed == nil {
		t.Fatalf("sealed columns empty: incident %x narrative %x", incidentSealed, narrativeSealed)
	}
	// Sealed under this case's key and bound to this row: moved to the
	// other case, they do not open.
	if _, err := f.pool.Exec(f.ctx, `UPDATE case_file SET narrative_sealed = $2 WHERE id = $1`, other.ID, narrativeSealed); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.GetCase(f.ctx, f.pool, other.ID); err == nil {
		t.Error("a completed case's narrative opens in another case")
	}
	got, err := f.store.GetCase(f.ctx, f.pool, urgent.ID)
	if err != nil || got.Narrative != secret || !got.IncidentAt.Equal(incident) {
		t.Fatalf("GetCase = %+v, %v", got, err)
	}
}

// The clinical windows are counted exactly: an incident at the very moment
// of completion is accepted, one a microsecond later is not.
func TestCompleteCaseDeadlineBoundaries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ct := f.contact(t, f.store, "+51987000103")
	urgent := f.openCase(t, f.store, ct.ID, urgentInput())
	now := f.clk.Now()
	in := input()
	in.IncidentAt = &now
	c, err := f.store.CompleteCase(f.ctx, f.pool, urgent.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if !c.PEPDeadline.Equal(now.Add(casefile.PEPWindow)) || !c.ECDeadline.Equal(now.Add(casefile.ECWindow)) ||
		c.PEPDeadline.Sub(*c.IncidentAt) != 72*time.Hour || c.ECDeadline.Sub(*c.IncidentAt) != 120*time.Hour {
		t.Errorf("deadlines pep %v ec %v for incident %v", c.PEPDeadline, c.ECDeadline, c.IncidentAt)
	}
	future := now.Add(time.Microsecond)
	in.IncidentAt = &future
	if _, err := f.store.CompleteCase(f.ctx, f.pool, urgent.ID, in); !errors.Is(err, casefile.ErrInvalidInput) {
		t.Errorf("incident in the future: %v; want ErrInvalidInput", err)
	}
	if got, err := f.store.GetCase(f.ctx, f.pool, urgent.ID); err != nil || !reflect.DeepEqual(got, c) {
		t.Errorf("refused completion changed the case: %+v, %v", got, err)
	}
}

func TestCompleteCaseRefuses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ct := f.contact(t, f.store, "+51987000104")
	erased := f.openCase(t, f.store, ct.ID, urgentInput())
	closed := f.openCase(t, f.store, ct.ID, urgentInput())
	live := f.openCase(t, f.store, ct.ID, urgentInput())
	if err := f.store.EraseCase(f.ctx, f.pool, erased.ID, "u-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(f.ctx, `UPDATE case_file SET status = 'closed' WHERE id = $1`, closed.ID); err != nil {
		t.Fatal(err)
	}
	const secret = "CANARY-in-a-refused-completion"
	in := input()
	in.Narrative = secret
	before := map[uuid.UUID]string{}
	for _, id := range []uuid.UUID{erased.ID, closed.ID, live.ID} {
		before[id] = f.caseRow(t, id)
	}
	check := func(name string, id uuid.UUID, in casefile.CaseInput, want error) {
		t.Helper()
		_, err := f.store.CompleteCase(f.ctx, f.pool, id, in)
		if !errors.Is(err, want) || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: err = %v; want %v without content", name, err, want)
		}
	}
	check("erased case", erased.ID, in, casefile.ErrErased)
	check("closed case", closed.ID, in, casefile.ErrInvalidInput)
	check("unknown case", uuid.New(), in, casefile.ErrNotFound)
	bad := in
	bad.Needs = nil
	check("no needs", live.ID, bad, casefile.ErrInvalidInput)
	bad = in
	bad.CodeWord = " ¡¿ "
	check("empty code word", live.ID, bad, casefile.ErrInvalidInput)
	for id, row := range before {
		if got := f.caseRow(t, id); got != row {
			t.Errorf("refused completion changed the row:\n got %s\nwant %s", got, row)
		}
	}
	if _, err := f.store.CheckCodeWord(f.ctx, f.pool, ct.ID, "girasol"); !errors.Is(err, casefile.ErrNoCodeWord) {
		t.Errorf("a refused completion set the code word: %v", err)
	}
	// Her erasure refuses every case of hers.
	if err := f.store.EraseContact(f.ctx, f.pool, ct.ID, "survivor"); err != nil {
		t.Fatal(err)
	}
	check("case of an erased contact", live.ID, input(), casefile.ErrErased)
	// The reference is a plaintext column: still there after erasure.
	if ref, err := f.store.Reference(f.ctx, f.pool, erased.ID); err != nil || ref != erased.Reference {
		t.Errorf("Reference of an erased case = %q, %v", ref, err)
	}
	if _, err := f.store.Reference(f.ctx, f.pool, uuid.New()); !errors.Is(err, casefile.ErrNotFound) {
		t.Errorf("Reference of an unknown case: %v", err)
	}
}

// In the caller's transaction, a completion commits or rolls back with it.
func TestCompleteCaseInCallersTransaction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ct := f.contact(t, f.store, "+51987000105")
	urgent := f.openCase(t, f.store, ct.ID, urgentInput())
	tx, err := f.pool.Begin(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.CompleteCase(f.ctx, tx, urgent.ID, input()); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(f.ctx); err != nil {
		t.Fatal(err)
	}
	got, err := f.store.GetCase(f.ctx, f.pool, urgent.ID)
	if err != nil || !reflect.DeepEqual(got, urgent) {
		t.Errorf("after rollback: %+v, %v; want %+v", got, err, urgent)
	}
}
