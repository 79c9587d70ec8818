package casefile_test

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/amparo/amparo/casefile"
)

// VerifyKeys opens what belongs with the keyring, names by id what does not
// (a key moved to another row, a key under a KEK the keyring lacks, a note
// altered), and leaves erased cases out: they hold nothing to open.
func TestVerifyKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := f.contact(t, f.store, "987 000 001"), f.contact(t, f.store, "987 000 002")
	caseA, caseB := f.openCase(t, f.store, a.ID, input()), f.openCase(t, f.store, b.ID, input())
	gone := f.openCase(t, f.store, f.contact(t, f.store, "987 000 003").ID, input())
	if err := f.store.EraseCase(f.ctx, f.pool, gone.ID, "u-test"); err != nil {
		t.Fatal(err)
	}
	note, err := f.store.AddNote(f.ctx, f.pool, caseB.ID, "u-test", "nota")
	if err != nil {
		t.Fatal(err)
	}

	checks := verify(t, f)
	if c := checks["contact"]; c.OK != 3 || len(c.Failed) != 0 {
		t.Errorf("contact: %+v, want 3 opened", c)
	}
	if c := checks["case_file"]; c.OK != 2 || len(c.Failed) != 0 {
		t.Errorf("case_file: %+v, want the 2 cases not erased opened", c)
	}

	foreign := f.contact(t, f.storeWith(t, generate(t)), "987 000 004")
	if _, err := f.pool.Exec(f.ctx, `UPDATE case_key SET wrapped_dek = (SELECT wrapped_dek FROM case_key WHERE case_id = $2)
		WHERE case_id = $1`, caseA.ID, caseB.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(f.ctx, `UPDATE case_note SET body_sealed = set_byte(body_sealed, 20, get_byte(body_sealed, 20) # 1)
		WHERE id = $1`, note.ID); err != nil {
		t.Fatal(err)
	}
	checks = verify(t, f)
	for table, want := range map[string][]uuid.UUID{
		"contact":   {foreign.ID},
		"case_key":  {caseA.ID},
		"case_file": sorted(caseA.ID, caseB.ID),
	} {
		if got := checks[table].Failed; !slices.Equal(got, want) {
			t.Errorf("%s failed %v, want %v", table, got, want)
		}
	}
}

func verify(t *testing.T, f *fixture) map[string]casefile.TableCheck {
	t.Helper()
	checks, err := f.store.VerifyKeys(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]casefile.TableCheck{}
	for _, c := range checks {
		out[c.Table] = c
	}
	return out
}

func sorted(ids ...uuid.UUID) []uuid.UUID {
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return ids
}
