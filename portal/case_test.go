package portal

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/amparo/amparo/audit"
)

func auditRows(t *testing.T, e *env, action string) []string {
	t.Helper()
	rows, err := e.p.pool.Query(e.ctx, `SELECT actor || ' ' || COALESCE(case_id::text, '') || ' ' || detail FROM audit_log WHERE action = $1 ORDER BY id`, action)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

func TestOpeningACaseIsAuditedAndAsksWhyWhenNotHers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cw := e.user("cw", RoleCaseworker)
	mine := e.caseIn("el-porvenir", false)
	e.assign(mine, cw)
	theirs := e.caseIn("el-porvenir", false)
	b := e.browser()
	b.signIn("cw")

	p := b.get("/cases/" + mine.ID.String())
	mustContain(t, p, mine.Narrative, "Caso "+mine.Reference, "Consentimiento por tipo de derivación", "Salud</dt><dd>sí", "Denuncia policial</dt><dd>no",
		"de 9 a 18 h", "Profilaxis post-exposición")
	if got := auditRows(t, e, "case.open"); len(got) != 1 || got[0] != cw.ID.String()+" "+mine.ID.String()+" reason:assigned" {
		t.Fatalf("audit after opening her case: %q", got)
	}
	if p.header.Get("Cache-Control") != "no-store" || !strings.Contains(p.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("case page headers: %v", p.header)
	}

	p = b.get("/cases/" + theirs.ID.String())
	mustContain(t, p, "no está asignado a usted", `name="reason"`)
	mustLack(t, p, theirs.Narrative)
	if got := auditRows(t, e, "case.open"); len(got) != 1 {
		t.Fatalf("asking why was audited as an opening: %q", got)
	}
	if p := b.post("/cases/"+theirs.ID.String()+"/open", url.Values{"reason": {"free text is not a reason"}}); p.status != http.StatusBadRequest {
		t.Fatalf("made-up reason: %d", p.status)
	}
	p = b.post("/cases/"+theirs.ID.String()+"/open", url.Values{"reason": {"covering_colleague"}})
	mustContain(t, p, theirs.Narrative)
	// Later pages of the same case in this session do not ask again, and
	// each opening is still audited with the reason.
	mustContain(t, b.get("/cases/"+theirs.ID.String()), theirs.Narrative)
	got := auditRows(t, e, "case.open")
	want := cw.ID.String() + " " + theirs.ID.String() + " reason:covering_colleague"
	if len(got) != 3 || got[1] != want || got[2] != want {
		t.Fatalf("audit rows: %q", got)
	}
	if _, _, err := audit.Verify(e.ctx, e.p.pool); err != nil {
		t.Fatal(err)
	}
}

func TestNotesAreAddedSealed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cw := e.user("cw", RoleCaseworker)
	c := e.caseIn("el-porvenir", false)
	e.assign(c, cw)
	b := e.browser()
	b.signIn("cw")
	const note = "Llamó desde el teléfono de su hermana; prefiere la tarde."
	if p := b.post("/cases/"+c.ID.String()+"/notes", url.Values{"body": {note}}); p.status != http.StatusSeeOther {
		t.Fatalf("add note: %d", p.status)
	}
	mustContain(t, b.get("/cases/"+c.ID.String()), "Llamó desde el teléfono de su hermana; prefiere la tarde.", "cw")
	var n int
	if err := e.p.pool.QueryRow(e.ctx, `SELECT count(*) FROM case_note WHERE position(convert_to('hermana', 'UTF8') in body_sealed) > 0`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("note readable at rest (%d, %v)", n, err)
	}
	if p := b.post("/cases/"+c.ID.String()+"/notes", url.Values{"body": {"   "}}); p.status != http.StatusBadRequest {
		t.Fatalf("empty note: %d", p.status)
	}
}

func TestFollowUpsAreCreatedDoneAndRescheduled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cw := e.user("cw", RoleCaseworker)
	c := e.caseIn("el-porvenir", false)
	e.assign(c, cw)
	b := e.browser()
	b.signIn("cw")
	p := b.post("/cases/"+c.ID.String()+"/follow-ups", url.Values{"kind": {"check_in"}, "due": {"2026-03-11T09:30"}, "note": {"preguntar por la cita"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("create: %d", p.status)
	}
	fus, err := e.cases.FollowUps(e.ctx, e.p.pool, c.ID)
	if err != nil || len(fus) != 1 {
		t.Fatalf("follow-ups: %v %v", fus, err)
	}
	if want := time.Date(2026, 3, 11, 9, 30, 0, 0, lima); !fus[0].DueAt.Equal(want) || fus[0].Note != "preguntar por la cita" {
		t.Fatalf("follow-up due %v (want %v), note %q", fus[0].DueAt, want, fus[0].Note)
	}
	mustContain(t, b.get("/cases/"+c.ID.String()), "Consultar cómo está · 11/03/2026 09:30 · pendiente")
	id := fus[0].ID.String()
	if p := b.post("/follow-ups/"+id+"/reschedule", url.Values{"due": {"2026-03-12T16:00"}}); p.status != http.StatusSeeOther {
		t.Fatalf("reschedule: %d", p.status)
	}
	mustContain(t, b.get("/cases/"+c.ID.String()), "12/03/2026 16:00 · pendiente")
	if p := b.post("/follow-ups/"+id+"/done", nil); p.status != http.StatusSeeOther {
		t.Fatalf("done: %d", p.status)
	}
	mustContain(t, b.get("/cases/"+c.ID.String()), "12/03/2026 16:00 · hecho")
	if p := b.post("/follow-ups/"+id+"/done", nil); p.status != http.StatusNotFound {
		t.Fatalf("done twice: %d", p.status)
	}
	if p := b.post("/cases/"+c.ID.String()+"/follow-ups", url.Values{"kind": {"check_in"}, "due": {"mañana"}}); p.status != http.StatusBadRequest {
		t.Fatalf("bad due time: %d", p.status)
	}
}

func TestIncidentTypeIsRecordedAsAGBVIMSCategory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cw := e.user("cw", RoleCaseworker)
	c := e.caseIn("el-porvenir", false)
	e.assign(c, cw)
	b := e.browser()
	b.signIn("cw")
	if p := b.post("/cases/"+c.ID.String()+"/incident-type", url.Values{"type": {"psychological_abuse"}}); p.status != http.StatusSeeOther {
		t.Fatalf("classify: %d", p.status)
	}
	mustContain(t, b.get("/cases/"+c.ID.String()), `<option value="psychological_abuse" selected>Abuso psicológico o emocional`)
	if p := b.post("/cases/"+c.ID.String()+"/incident-type", url.Values{"type": {"something else"}}); p.status != http.StatusBadRequest {
		t.Fatalf("unknown type: %d", p.status)
	}
}

func TestErrorPagesShowAnIdAndNoDetail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("cw", RoleCaseworker)
	b := e.browser()
	b.signIn("cw")
	p := b.post("/cases/"+e.caseIn("el-porvenir", false).ID.String()+"/open", url.Values{"reason": {"x"}})
	mustContain(t, p, "Faltan datos o no son válidos.", "Referencia del error: ")
	mustLack(t, p, "portal:", "casefile:")
}

func TestEnglishSwitch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("cw", RoleCaseworker)
	b := e.browser()
	mustContain(t, b.get("/sign-in"), `lang="es"`, "Iniciar sesión")
	if p := b.post("/lang", url.Values{"lang": {"en"}, "back": {"//evil.example/"}}); p.location != "/sign-in" {
		t.Fatalf("open redirect: %q", p.location)
	}
	mustContain(t, b.get("/sign-in"), `lang="en"`, "Sign in")
	b.signIn("cw")
	mustContain(t, b.get("/desk"), "Case desk", "Signed in as cw (caseworker)")
}
