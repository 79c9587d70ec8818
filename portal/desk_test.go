package portal

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDeskOrdersWhatCannotWaitFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.directory()
	cw := e.user("cw", RoleCaseworker)
	now := e.clk.Now()
	old := now.Add(-100 * time.Hour)   // only the EC window (120 h) is open: 20 h left
	recent := now.Add(-30 * time.Hour) // PEP closes in 42 h, before this case's EC
	danger := e.caseWith("el-porvenir", true, nil)
	callback := e.caseWith("el-porvenir", false, nil)
	e.followUp(callback, "callback", now.Add(5*time.Minute), false) // waited less than the danger case
	windowSoon := e.caseWith("la-esperanza", false, &old)
	windowLater := e.caseWith("el-porvenir", false, &recent)
	stalled := e.caseWith("el-porvenir", false, nil)
	_, err := e.p.pool.Exec(e.ctx, `INSERT INTO referral (id, case_id, service_id, need, status, urgent, ack_by, reply_code, code_phone, created_at, updated_at)
		SELECT gen_random_uuid(), $1, id, 'health', 'notified', false, $2, '1234', duty_phone, $2, $2 FROM service WHERE key = 'hp'`,
		stalled.ID, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	due := e.caseWith("el-porvenir", false, nil)
	e.followUp(due, "check_in", now.Add(3*time.Hour), false)
	quiet := e.caseWith("florencia-de-mora", false, nil)
	e.assign(quiet, cw)

	b := e.browser()
	b.signIn("cw")
	p := b.get("/desk")
	order := []string{danger.Reference, callback.Reference, windowSoon.Reference, windowLater.Reference,
		stalled.Reference, due.Reference, quiet.Reference}
	last := -1
	for i, ref := range order {
		at := strings.Index(p.body, `data-ref="`+ref+`"`)
		if at < 0 || at < last {
			t.Fatalf("desk order: %s (item %d) at %d, after %d:\n%s", ref, i, at, last, p.body)
		}
		last = at
	}
	mustContain(t, p, "Ventana clínica abierta", "Derivación sin respuesta", "Seguimiento pendiente",
		// EC of windowSoon: incident + 120 h = now + 20 h, shown in Lima time.
		now.Add(20*time.Hour).In(lima).Format("02/01/2006 15:04"), "quedan 20 h 00 min")

	// Filters: community, status, mine.
	p = b.get("/desk?community=la-esperanza")
	if !strings.Contains(p.body, windowSoon.Reference) || strings.Contains(p.body, danger.Reference) {
		t.Fatal("community filter")
	}
	p = b.get("/desk?mine=1")
	if !strings.Contains(p.body, quiet.Reference) || strings.Contains(p.body, danger.Reference) {
		t.Fatal("mine filter")
	}
	p = b.get("/desk?status=closed")
	if strings.Contains(p.body, danger.Reference) || p.status != http.StatusOK {
		t.Fatal("status filter")
	}
}

func TestClaimingACase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cw := e.user("cw", RoleCaseworker)
	c := e.caseIn("el-porvenir", false)
	b := e.browser()
	b.signIn("cw")
	mustContain(t, b.get("/desk"), `action="/cases/`+c.ID.String()+`/claim"`, "nadie")
	if p := b.post("/cases/"+c.ID.String()+"/claim", nil); p.status != http.StatusSeeOther {
		t.Fatalf("claim: %d", p.status)
	}
	sc, _ := e.cases.CaseScope(e.ctx, e.p.pool, c.ID)
	if sc.AssignedTo != cw.ID {
		t.Fatal("not assigned after claim")
	}
	mustContain(t, b.get("/desk?mine=1"), c.Reference, "a mí")
}
