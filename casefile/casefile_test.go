package casefile_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/pgtest"
	"github.com/amparo/amparo/phone"
)

var (
	pet = time.FixedZone("PET", -5*3600)
	t0  = time.Date(2026, 11, 27, 14, 20, 0, 0, pet)
)

func generate(t testing.TB) []byte {
	t.Helper()
	data, err := crypto.GenerateKeyring(t0)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func parse(t testing.TB, data []byte) *crypto.Keyring {
	t.Helper()
	k, err := crypto.ParseKeyring(data)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// without returns keyring JSON with the named keys (KEKs or index keys) left
// out, as an operator would after retiring them.
func without(t testing.TB, data []byte, ids ...string) []byte {
	t.Helper()
	var kj map[string]any
	if err := json.Unmarshal(data, &kj); err != nil {
		t.Fatal(err)
	}
	for _, list := range []string{"keks", "index_keys"} {
		var kept []any
		for _, e := range kj[list].([]any) {
			if !slices.Contains(ids, e.(map[string]any)["id"].(string)) {
				kept = append(kept, e)
			}
		}
		kj[list] = kept
	}
	out, err := json.Marshal(kj)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type fixture struct {
	ctx   context.Context
	pool  *pgxpool.Pool
	clk   *clock.Fake
	ring  []byte
	store *casefile.Store
}

func newFixture(t testing.TB, opts ...casefile.Option) *fixture {
	f := &fixture{ctx: context.Background(), pool: pgtest.New(t), clk: clock.NewFake(t0), ring: generate(t)}
	f.store = f.storeWith(t, f.ring, opts...)
	return f
}

func (f *fixture) storeWith(t testing.TB, ring []byte, opts ...casefile.Option) *casefile.Store {
	k := parse(t, ring)
	return casefile.New(f.pool, k, k.BlindIndex(), f.clk, opts...)
}

func (f *fixture) contact(t testing.TB, s *casefile.Store, phone string) casefile.Contact {
	t.Helper()
	c, err := s.CreateContact(f.ctx, f.pool, phone)
	if err != nil {
		t.Fatalf("CreateContact: %v", err)
	}
	return c
}

func input() casefile.CaseInput {
	incident := t0.Add(-30 * time.Hour)
	return casefile.CaseInput{
		Urgent:     true,
		Needs:      []casefile.Need{casefile.NeedHealth, casefile.NeedLegal, casefile.NeedShelter},
		Community:  "El Porvenir",
		IncidentAt: &incident,
		Consent:    map[casefile.Need]bool{casefile.NeedHealth: true, casefile.NeedShelter: true},
		Contact:    casefile.ContactPrefs{MayText: true, FromHour: 9, ToHour: 18},
		CodeWord:   "Girasol",
		Lang:       "es",
		Narrative:  "Relato de prueba con tildes: él volvió anoche.",
	}
}

func (f *fixture) openCase(t testing.TB, s *casefile.Store, contactID uuid.UUID, in casefile.CaseInput) casefile.Case {
	t.Helper()
	c, err := s.OpenCase(f.ctx, f.pool, contactID, in)
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	return c
}

func TestCaseRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ct := f.contact(t, f.store, "987 654 321")
	if ct.Phone != "+51987654321" || ct.HasCodeWord {
		t.Fatalf("contact = %+v", ct)
	}
	in := input()
	opened := f.openCase(t, f.store, ct.ID, in)
	if !strings.HasPrefix(opened.Reference, "AMP-") || len(opened.Reference) != 8 {
		t.Errorf("reference %q, want AMP-XXXX", opened.Reference)
	}
	got, err := f.store.GetCase(f.ctx, f.pool, opened.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, opened) {
		t.Fatalf("GetCase differs from OpenCase:\n got %+v\nwant %+v", got, opened)
	}
	wantConsent := map[casefile.Need]bool{casefile.NeedHealth: true, casefile.NeedLegal: false, casefile.NeedShelter: true}
	if got.Narrative != in.Narrative || !got.IncidentAt.Equal(*in.IncidentAt) || !reflect.DeepEqual(got.Consent, wantConsent) {
		t.Errorf("case content lost: %+v", got)
	}
	// The deadlines are exact: PEP at incident + 72 h, EC at + 120 h.
	if !got.PEPDeadline.Equal(in.IncidentAt.Add(72*time.Hour)) || !got.ECDeadline.Equal(in.IncidentAt.Add(120*time.Hour)) {
		t.Errorf("deadlines: pep %v ec %v for incident %v", got.PEPDeadline, got.ECDeadline, in.IncidentAt)
	}

	note, err := f.store.AddNote(f.ctx, f.pool, opened.ID, "u-7", "Llamó; prefiere tarde.")
	if err != nil {
		t.Fatal(err)
	}
	notes, err := f.store.Notes(f.ctx, f.pool, opened.ID)
	if err != nil || len(notes) != 1 || notes[0] != note {
		t.Fatalf("Notes = %+v, %v; want [%+v]", notes, err, note)
	}
	due := t0.Add(2 * time.Hour)
	if err := f.store.AddFollowUp(f.ctx, f.pool, opened.ID, casefile.FollowUp{Kind: "callback", DueAt: due, Urgent: true, Note: "llamar a las 16h"}); err != nil {
		t.Fatal(err)
	}
	fus, err := f.store.FollowUps(f.ctx, f.pool, opened.ID)
	if err != nil || len(fus) != 1 || fus[0].Note != "llamar a las 16h" || fus[0].Status != "open" || !fus[0].DueAt.Equal(due) {
		t.Fatalf("FollowUps = %+v, %v", fus, err)
	}

	// The contact key seals the hotline's conversation state.
	dek, err := f.store.ContactKey(f.ctx, f.pool, ct.ID)
	if err != nil {
		t.Fatal(err)
	}
	b := crypto.Binding{Table: "conversation", Column: "state", RowID: ct.ID.String()}
	sealed, _ := dek.Seal([]byte("{}"), b)
	again, _ := f.store.ContactKey(f.ctx, f.pool, ct.ID)
	if pt, err := again.Open(sealed, b); err != nil || string(pt) != "{}" {
		t.Fatalf("contact key does not reopen: %v", err)
	}

	// Nothing readable sits in the row itself.
	var narrative []byte
	if err := f.pool.QueryRow(f.ctx, `SELECT narrative_sealed FROM case_file WHERE id = $1`, opened.ID).Scan(&narrative); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(narrative), "Relato") {
		t.Fatal("narrative stored in plaintext")
	}
}

func TestOpenCaseValidates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ct := f.contact(t, f.store, "+51 912 345 678")
	const secret = "CANARY-in-a-rejected-case"
	future := t0.Add(time.Minute)
	for name, mutate := range map[string]func(*casefile.CaseInput){
		"no needs":        func(in *casefile.CaseInput) { in.Needs = nil },
		"unknown need":    func(in *casefile.CaseInput) { in.Needs = append(in.Needs, "dentist") },
		"consent outside": func(in *casefile.CaseInput) { in.Consent = map[casefile.Need]bool{casefile.NeedPolice: true} },
		"hours":           func(in *casefile.CaseInput) { in.Contact.ToHour = 25 },
		"lang":            func(in *casefile.CaseInput) { in.Lang = "fr" },
		"future incident": func(in *casefile.CaseInput) { in.IncidentAt = &future },
		"empty code word": func(in *casefile.CaseInput) { in.CodeWord = " ¡¿ " },
	} {
		in := input()
		in.Narrative = secret
		mutate(&in)
		_, err := f.store.OpenCase(f.ctx, f.pool, ct.ID, in)
		if !errors.Is(err, casefile.ErrInvalidInput) || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: err = %v; want ErrInvalidInput without content", name, err)
		}
	}
	if _, err := f.store.OpenCase(f.ctx, f.pool, uuid.New(), input()); !errors.Is(err, casefile.ErrNotFound) {
		t.Errorf("OpenCase for unknown contact: %v", err)
	}
	n, _ := f.store.CountCases(f.ctx, f.pool)
	if len(n) != 0 {
		t.Errorf("rejected cases were stored: %v", n)
	}
}

// A sealed value copied, at the database level, to another row, column or
// owner must not open: the binding is part of the ciphertext's authentication.
func TestSwappedCiphertextsDoNotOpen(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.contact(t, f.store, "+51987000001")
	b := f.contact(t, f.store, "+51987000002")
	ca := f.openCase(t, f.store, a.ID, input())
	cb := f.openCase(t, f.store, b.ID, input())
	ca2 := f.openCase(t, f.store, a.ID, input())
	na, err := f.store.AddNote(f.ctx, f.pool, ca.ID, "u-1", "nota A")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.AddNote(f.ctx, f.pool, ca.ID, "u-1", "nota B"); err != nil {
		t.Fatal(err)
	}

	getCase := func(id uuid.UUID) func() error {
		return func() error { _, err := f.store.GetCase(f.ctx, f.pool, id); return err }
	}
	for _, tc := range []struct {
		name, sql string
		args      []any
		check     func() error
	}{
		{"narrative to another case", `UPDATE case_file SET narrative_sealed = (SELECT narrative_sealed FROM case_file WHERE id = $1) WHERE id = $2`,
			[]any{ca.ID, cb.ID}, getCase(cb.ID)},
		{"incident into the narrative column", `UPDATE case_file SET narrative_sealed = incident_sealed WHERE id = $1`,
			[]any{ca.ID}, getCase(ca.ID)},
		{"wrapped case key to another case", `UPDATE case_key SET wrapped_dek = (SELECT wrapped_dek FROM case_key WHERE case_id = $1) WHERE case_id = $2`,
			[]any{ca.ID, ca2.ID}, getCase(ca2.ID)},
		{"note body to another note", `UPDATE case_note SET body_sealed = (SELECT body_sealed FROM case_note WHERE id = $1) WHERE id <> $1 AND case_id = $2`,
			[]any{na.ID, ca.ID}, func() error { _, err := f.store.Notes(f.ctx, f.pool, ca.ID); return err }},
		{"phone to another contact", `UPDATE contact SET phone_sealed = (SELECT phone_sealed FROM contact WHERE id = $1) WHERE id = $2`,
			[]any{a.ID, b.ID}, func() error { _, _, err := f.store.FindContact(f.ctx, f.pool, b.Phone); return err }},
		{"contact key to another contact", `UPDATE contact SET wrapped_dek = (SELECT wrapped_dek FROM contact WHERE id = $1) WHERE id = $2`,
			[]any{a.ID, b.ID}, func() error { _, err := f.store.ContactKey(f.ctx, f.pool, b.ID); return err }},
	} {
		if tag, err := f.pool.Exec(f.ctx, tc.sql, tc.args...); err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("%s: swap: %v (%d rows)", tc.name, err, tag.RowsAffected())
		}
		if err := tc.check(); !errors.Is(err, crypto.ErrDecrypt) {
			t.Errorf("%s: err = %v; want crypto.ErrDecrypt", tc.name, err)
		}
	}
}

func auditActions(t testing.TB, f *fixture) []string {
	t.Helper()
	rows, err := f.pool.Query(f.ctx, `SELECT action || ':' || COALESCE(case_id::text, '') FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if n, _, err := audit.Verify(f.ctx, f.pool); err != nil || n != len(out) {
		t.Fatalf("audit chain: %d rows, %v", n, err)
	}
	return out
}

func TestEraseCase(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ct := f.contact(t, f.store, "+51987000003")
	gone := f.openCase(t, f.store, ct.ID, input())
	kept := f.openCase(t, f.store, ct.ID, input())
	if _, err := f.store.AddNote(f.ctx, f.pool, gone.ID, "u-1", "nota"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.AddFollowUp(f.ctx, f.pool, gone.ID, casefile.FollowUp{Kind: "serve_deadline_near", DueAt: t0.Add(37*time.Minute + 11*time.Second), Note: "x"}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second erase is a no-op
		if err := f.store.EraseCase(f.ctx, f.pool, gone.ID, "u-9"); err != nil {
			t.Fatal(err)
		}
	}
	paths := map[string]error{}
	_, paths["GetCase"] = f.store.GetCase(f.ctx, f.pool, gone.ID)
	_, paths["Notes"] = f.store.Notes(f.ctx, f.pool, gone.ID)
	_, paths["FollowUps"] = f.store.FollowUps(f.ctx, f.pool, gone.ID)
	_, paths["AddNote"] = f.store.AddNote(f.ctx, f.pool, gone.ID, "u-1", "más")
	paths["AddFollowUp"] = f.store.AddFollowUp(f.ctx, f.pool, gone.ID, casefile.FollowUp{Kind: "callback", DueAt: t0})
	for name, err := range paths {
		if !errors.Is(err, casefile.ErrErased) {
			t.Errorf("%s after erasure: %v; want ErrErased", name, err)
		}
	}
	if _, err := f.store.GetCase(f.ctx, f.pool, kept.ID); err != nil {
		t.Errorf("the other case of the contact: %v", err)
	}

	// Lists and counts keep working.
	list, err := f.store.ListCases(f.ctx, f.pool, casefile.ListFilter{ContactID: ct.ID})
	if err != nil || len(list) != 2 {
		t.Fatalf("ListCases = %d, %v", len(list), err)
	}
	for _, c := range list {
		if c.ID == gone.ID && (c.Status != casefile.StatusErased || c.NextDeadline != nil || c.Reference != gone.Reference || len(c.Needs) != 3) {
			t.Errorf("erased case listed as %+v", c)
		}
	}
	counts, err := f.store.CountCases(f.ctx, f.pool)
	if err != nil || counts[casefile.StatusErased] != 1 || counts[casefile.StatusOpen] != 1 {
		t.Errorf("CountCases = %v, %v", counts, err)
	}

	// The key is gone from the row, not just flagged.
	var (
		wrapped   []byte
		destroyed *time.Time
		sealedN   int
		fuStatus  string
	)
	if err := f.pool.QueryRow(f.ctx, `SELECT wrapped_dek, destroyed_at FROM case_key WHERE case_id = $1`, gone.ID).Scan(&wrapped, &destroyed); err != nil {
		t.Fatal(err)
	}
	if wrapped != nil || destroyed == nil || !destroyed.Equal(t0) {
		t.Errorf("case_key after erase: wrapped=%x destroyed=%v", wrapped, destroyed)
	}
	if err := f.pool.QueryRow(f.ctx, `SELECT (SELECT count(*) FROM case_note WHERE case_id = $1 AND body_sealed IS NOT NULL)
		+ (SELECT count(*) FROM follow_up WHERE case_id = $1 AND note_sealed IS NOT NULL)`, gone.ID).Scan(&sealedN); err != nil || sealedN != 0 {
		t.Errorf("sealed notes left after erase: %d, %v", sealedN, err)
	}
	var fuDue time.Time
	if err := f.pool.QueryRow(f.ctx, `SELECT status, due_at FROM follow_up WHERE case_id = $1`, gone.ID).Scan(&fuStatus, &fuDue); err != nil ||
		fuStatus != "canceled" || !fuDue.Equal(t0) {
		t.Errorf("follow-up after erase: %q due %v, %v; want canceled, due at the erasure (its own time may tell the incident's)", fuStatus, fuDue, err)
	}
	if got, want := auditActions(t, f), []string{"case.erase:" + gone.ID.String()}; !slices.Equal(got, want) {
		t.Errorf("audit = %v; want %v", got, want)
	}
}

func TestEraseContact(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ct := f.contact(t, f.store, "+51 987 000 004")
	c1 := f.openCase(t, f.store, ct.ID, input())
	c2 := f.openCase(t, f.store, ct.ID, input())
	other := f.contact(t, f.store, "+51987000005")
	oc := f.openCase(t, f.store, other.ID, input())

	if err := f.store.EraseContact(f.ctx, f.pool, ct.ID, "survivor"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.EraseContact(f.ctx, f.pool, ct.ID, "survivor"); err != nil {
		t.Fatalf("second erase: %v", err)
	}
	for _, id := range []uuid.UUID{c1.ID, c2.ID} {
		if _, err := f.store.GetCase(f.ctx, f.pool, id); !errors.Is(err, casefile.ErrErased) {
			t.Errorf("GetCase of her case: %v; want ErrErased", err)
		}
	}
	if _, err := f.store.GetCase(f.ctx, f.pool, oc.ID); err != nil {
		t.Errorf("someone else's case: %v", err)
	}
	if _, err := f.store.ContactKey(f.ctx, f.pool, ct.ID); !errors.Is(err, casefile.ErrErased) {
		t.Errorf("ContactKey: %v", err)
	}
	if _, err := f.store.CheckCodeWord(f.ctx, f.pool, ct.ID, "Girasol"); !errors.Is(err, casefile.ErrErased) {
		t.Errorf("CheckCodeWord: %v", err)
	}
	if _, err := f.store.OpenCase(f.ctx, f.pool, ct.ID, input()); !errors.Is(err, casefile.ErrErased) {
		t.Errorf("OpenCase on erased contact: %v", err)
	}
	// She is no longer recognised; writing again makes her a new contact.
	if _, found, err := f.store.FindContact(f.ctx, f.pool, "987000004"); found || err != nil {
		t.Errorf("FindContact after erase: found=%v err=%v", found, err)
	}
	again := f.contact(t, f.store, "987000004")
	if again.ID == ct.ID || again.HasCodeWord {
		t.Errorf("new contact after erase: %+v", again)
	}
	var leftovers int
	if err := f.pool.QueryRow(f.ctx, `SELECT count(*) FROM contact WHERE id = $1 AND
		(phone_index IS NOT NULL OR phone_sealed IS NOT NULL OR wrapped_dek IS NOT NULL OR code_word_token IS NOT NULL)`, ct.ID).Scan(&leftovers); err != nil || leftovers != 0 {
		t.Errorf("contact row keeps data after erase: %d, %v", leftovers, err)
	}
	got := auditActions(t, f)
	want := []string{"case.erase:" + min(c1.ID.String(), c2.ID.String()), "case.erase:" + max(c1.ID.String(), c2.ID.String()), "contact.erase:"}
	if !slices.Equal(got, want) {
		t.Errorf("audit = %v; want %v", got, want)
	}
}

func TestFindContactInAnyFormat(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ct := f.contact(t, f.store, "+51 (987) 654-321")
	for _, phone := range []string{"+51987654321", "51987654321", "987654321", "987 654 321", "987-654-321", "0051987654321", "+51-987-654-321"} {
		got, found, err := f.store.FindContact(f.ctx, f.pool, phone)
		if err != nil || !found || got.ID != ct.ID || got.Phone != "+51987654321" {
			t.Errorf("FindContact(%q) = %+v, %v, %v", phone, got, found, err)
		}
	}
	if _, found, err := f.store.FindContact(f.ctx, f.pool, "+51987654322"); found || err != nil {
		t.Errorf("another number found: %v, %v", found, err)
	}
	if _, err := f.store.CreateContact(f.ctx, f.pool, "987654321"); !errors.Is(err, casefile.ErrContactExists) {
		t.Errorf("duplicate CreateContact: %v", err)
	}
	_, _, err := f.store.FindContact(f.ctx, f.pool, "12")
	if !errors.Is(err, phone.ErrInvalid) {
		t.Errorf("FindContact(bad) = %v; want phone.ErrInvalid", err)
	}
}

func TestCodeWord(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ct := f.contact(t, f.store, "+51987000006")
	if _, err := f.store.CheckCodeWord(f.ctx, f.pool, ct.ID, "x"); !errors.Is(err, casefile.ErrNoCodeWord) {
		t.Fatalf("without code word: %v", err)
	}
	in := input()
	in.CodeWord = "Mi Gatíta"
	f.openCase(t, f.store, ct.ID, in)
	check := func(word string) (bool, error) { return f.store.CheckCodeWord(f.ctx, f.pool, ct.ID, word) }
	for word, want := range map[string]bool{
		"mi gatita": true, "MIGATITA.": true, "  mi  GATÍTA ": true,
		"mi gato": false, "": false, "migatitas": false,
	} {
		if ok, err := check(word); ok != want || err != nil {
			t.Errorf("CheckCodeWord(%q) = %v, %v; want %v", word, ok, err, want)
		}
	}

	// Same word, another contact: different token, so equal code words are
	// not visible as equal rows.
	other := f.contact(t, f.store, "+51987000007")
	f.openCase(t, f.store, other.ID, in)
	var same bool
	if err := f.pool.QueryRow(f.ctx, `SELECT a.code_word_token = b.code_word_token FROM contact a, contact b WHERE a.id = $1 AND b.id = $2`,
		ct.ID, other.ID).Scan(&same); err != nil || same {
		t.Errorf("equal code words give equal tokens: %v, %v", same, err)
	}

	// Guessing locks; the right word is refused while locked.
	if ok, _ := check("mi gatita"); !ok { // resets the count of misses above
		t.Fatal("right word refused")
	}
	for i := range 5 {
		if ok, err := check(fmt.Sprintf("guess%d", i)); ok || err != nil {
			t.Fatalf("guess %d: %v, %v", i, ok, err)
		}
	}
	if _, err := check("mi gatita"); !errors.Is(err, casefile.ErrCodeWordLocked) {
		t.Fatalf("while locked: %v; want ErrCodeWordLocked", err)
	}
	f.clk.Advance(61 * time.Minute)
	if ok, err := check("mi gatita"); !ok || err != nil {
		t.Fatalf("after the lock: %v, %v", ok, err)
	}
	// A success resets the count: four more misses do not lock.
	for range 4 {
		check("no")
	}
	if ok, err := check("mi gatita"); !ok || err != nil {
		t.Fatalf("after four misses: %v, %v", ok, err)
	}
}

func TestNormalizeCodeWord(t *testing.T) {
	for in, want := range map[string]string{"Mi Gatíta.": "migatita", "ÑANDÚ 7": "nandu7", "  ": "", "Öl-Café!": "olcafe"} {
		if got := casefile.NormalizeCodeWord(in); got != want {
			t.Errorf("normalize(%q) = %q; want %q", in, got, want)
		}
	}
}
