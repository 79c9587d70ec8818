package portal

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amparo/amparo/templates"
)

func TestMessagingHerOffersCatalogueTextsAndAuditsWithoutTheText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cw := e.user("cw", RoleCaseworker, "el-porvenir")
	c := e.caseIn("el-porvenir", false)
	e.assign(c, cw)
	b := e.browser()
	b.signIn("cw")
	path := "/cases/" + c.ID.String() + "/messages"

	hello, err := templates.Render(templates.ES, templates.KeySurvivorPortalHello, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, b.get("/cases/"+c.ID.String()), `action="`+path+`"`, hello, `value="sms.survivor.portal.callback"`, "no menciona violencia")

	for _, bad := range []url.Values{{"text": {"sms.survivor.where"}}, {"text": {""}}, {}} {
		if p := b.post(path, bad); p.status != http.StatusBadRequest {
			t.Errorf("text %q: %d, want 400", bad.Get("text"), p.status)
		}
	}
	p := b.post(path, url.Values{"text": {templates.KeySurvivorPortalHello}})
	if p.status != http.StatusOK {
		t.Fatalf("send: %d", p.status)
	}
	mustContain(t, p, "Mensaje enviado.")
	if got := e.msgs.bodies(); !slices.Equal(got, []string{hello}) {
		t.Fatalf("sent %q, want the catalogue text", got)
	}
	if got := auditRows(t, e, "case.message"); len(got) != 1 || got[0] != cw.ID.String()+" "+c.ID.String()+" template:hello" {
		t.Fatalf("audit: %q", got)
	}
}

func TestFreeTextNeedsTheDiscreetConfirmation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cw := e.user("cw", RoleCaseworker, "el-porvenir")
	c := e.caseIn("el-porvenir", false)
	e.assign(c, cw)
	b := e.browser()
	b.signIn("cw")
	path := "/cases/" + c.ID.String() + "/messages"
	const body = "Hola, ¿mañana a las 3 está bien? Responde cuando puedas."
	if p := b.post(path, url.Values{"text": {"free"}, "body": {body}}); p.status != http.StatusBadRequest {
		t.Fatalf("without confirmation: %d, want 400", p.status)
	}
	for _, bad := range []string{"   ", strings.Repeat("x", 307)} {
		if p := b.post(path, url.Values{"text": {"free"}, "body": {bad}, "discreet": {"1"}}); p.status != http.StatusBadRequest {
			t.Fatalf("free text of %d characters: %d, want 400", len(bad), p.status)
		}
	}
	if got := e.msgs.bodies(); len(got) != 0 {
		t.Fatalf("refused texts were sent: %q", got)
	}
	if p := b.post(path, url.Values{"text": {"free"}, "body": {body}, "discreet": {"1"}}); p.status != http.StatusOK {
		t.Fatalf("confirmed: %d", p.status)
	}
	// Folded to GSM-7, so one accent does not halve its room.
	if got := e.msgs.bodies(); !slices.Equal(got, []string{"Hola, ¿mañana a las 3 esta bien? Responde cuando puedas."}) {
		t.Fatalf("sent %q", got)
	}
	if got := auditRows(t, e, "case.message"); len(got) != 1 || got[0] != cw.ID.String()+" "+c.ID.String()+" free_text" {
		t.Fatalf("audit: %q", got)
	}
}

func TestMessageOutsideHerHoursSaysWhenItWillGo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cw := e.user("cw", RoleCaseworker, "el-porvenir")
	c := e.caseIn("el-porvenir", false)
	e.assign(c, cw)
	b := e.browser()
	b.signIn("cw")
	e.msgs.mu.Lock()
	e.msgs.opens = time.Date(2026, 3, 11, 9, 0, 0, 0, lima)
	e.msgs.mu.Unlock()
	p := b.post("/cases/"+c.ID.String()+"/messages", url.Values{"text": {templates.KeySurvivorPortalCheckIn}})
	if p.status != http.StatusOK {
		t.Fatalf("send: %d", p.status)
	}
	mustContain(t, p, "se enviará a las 09:00 del 11/03/2026")
	mustLack(t, p, "Mensaje enviado.")
}

func TestMessageRefusedAfterSalirOutOfScopeOrErased(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cw := e.user("cw", RoleCaseworker, "el-porvenir")
	mine := e.caseIn("el-porvenir", false)
	e.assign(mine, cw)
	other := e.caseIn("la-esperanza", false)
	b := e.browser()
	b.signIn("cw")
	hello := url.Values{"text": {templates.KeySurvivorPortalHello}}
	if p := b.post("/cases/"+other.ID.String()+"/messages", hello); p.status != http.StatusNotFound {
		t.Fatalf("another team's case: %d, want 404", p.status)
	}
	erased := e.caseIn("el-porvenir", false)
	e.assign(erased, cw)
	if err := e.cases.EraseCase(e.ctx, e.pool, erased.ID, "survivor"); err != nil {
		t.Fatal(err)
	}
	if p := b.post("/cases/"+erased.ID.String()+"/messages", hello); p.status != http.StatusNotFound {
		t.Fatalf("erased case: %d, want 404", p.status)
	}
	if got := e.msgs.bodies(); len(got) != 0 {
		t.Fatalf("sent to a case out of scope or erased: %q", got)
	}
	e.msgs.mu.Lock()
	e.msgs.refuse = true
	e.msgs.mu.Unlock()
	p := b.post("/cases/"+mine.ID.String()+"/messages", hello)
	if p.status != http.StatusConflict {
		t.Fatalf("after SALIR: %d, want 409", p.status)
	}
	mustContain(t, p, "No se envió")
	if got := auditRows(t, e, "case.message"); len(got) != 0 {
		t.Fatalf("a text never sent was audited as sent: %q", got)
	}
}
