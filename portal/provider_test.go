package portal

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral"
)

// otherOrg adds a second organisation, "other", whose one service takes
// legal aid, so that a case's legal referral goes to it.
func (e *env) otherOrg() {
	e.t.Helper()
	e.directory()
	_, err := e.pool.Exec(e.ctx, `
		WITH o AS (INSERT INTO organization (key, name) VALUES ('other', 'Otra') RETURNING id)
		INSERT INTO service (key, organization_id, name, kind, needs, communities, hours, capacity, duty_phone,
			ack_urgent_min, ack_routine_min)
		SELECT 'legal', o.id, 'Consultorio', 'legal_aid', '{legal}', '{*}', '"always"', 50, '+51900000906', 15, 120 FROM o`)
	if err != nil {
		e.t.Fatal(err)
	}
}

// providerOf creates a provider account of the organisation org.
func (e *env) providerOf(name, org string) User {
	e.t.Helper()
	u, _, err := e.p.CreateUser(e.ctx, NewUser{Username: name, Role: RoleProvider, OrgKey: org, Password: testPassword})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) status(id uuid.UUID) referral.Status {
	e.t.Helper()
	r, err := e.refs.Get(e.ctx, e.pool, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.Status
}

// smsReply is the provider answering the referral's notice by SMS from the
// phone its code went to, as the hotline hands such a reply to referral.
func (e *env) smsReply(id uuid.UUID, verb string) referral.ReplyOutcome {
	e.t.Helper()
	r, err := e.refs.Get(e.ctx, e.pool, id)
	if err != nil {
		e.t.Fatal(err)
	}
	var out referral.ReplyOutcome
	err = pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error {
		out, err = e.refs.HandleProviderReply(e.ctx, tx, r.CodePhone, verb+" "+r.ReplyCode)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func TestProviderInboxShowsOnlyHerOrganisationsReferrals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.otherOrg()
	e.user("prov", RoleProvider)
	e.user("cw", RoleCaseworker)
	mine := e.caseIn("el-porvenir", true)
	theirs := e.caseIn("la-esperanza", false)
	own := e.referral(mine, casefile.NeedHealth)
	other := e.referral(theirs, casefile.NeedLegal)
	closed := e.referral(e.caseIn("florencia-de-mora", false), casefile.NeedPolice)
	if err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error {
		return e.refs.Transition(e.ctx, tx, closed, referral.Revoked, "test", "caseworker_revoked")
	}); err != nil {
		t.Fatal(err)
	}

	b := e.browser()
	b.signIn("prov")
	if p := b.get("/"); p.location != "/inbox" {
		t.Fatalf("a provider's / goes to %q, want /inbox", p.location)
	}
	p := b.get("/inbox")
	if p.status != http.StatusOK {
		t.Fatalf("inbox: %d", p.status)
	}
	mustContain(t, p, mine.Reference, `href="/referrals/`+own.String()+`"`, "Salud", "urgente", "Abiertas", "Cerradas recientemente", "revocada")
	mustLack(t, p, theirs.Reference, other.String(), "Relato sellado")
	// Open ones come before closed ones.
	if strings.Index(p.body, own.String()) > strings.Index(p.body, closed.String()) {
		t.Error("a closed referral is listed before an open one")
	}
	// Another organisation's referral does not exist for her; a malformed
	// or unknown id neither.
	for _, path := range []string{"/referrals/" + other.String(), "/referrals/" + uuid.NewString(), "/referrals/nope"} {
		if p := b.get(path); p.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, p.status)
		} else {
			mustLack(t, p, theirs.Reference)
		}
	}
	cw := e.browser()
	cw.signIn("cw")
	if p := cw.get("/"); p.location != "/desk" {
		t.Errorf("a caseworker's / goes to %q, want /desk", p.location)
	}
}

func TestPacketShowsWhatSheNeedsAndNeverHerStory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("prov", RoleProvider)
	incident := e.clk.Now().Add(-30 * time.Hour) // Sunday 04:00 in Trujillo
	c := e.caseContact("el-porvenir", false, &incident, casefile.ContactPrefs{MayText: true, MayCall: true, FromHour: 9, ToHour: 18})
	id := e.referral(c, casefile.NeedHealth)
	phone := e.shownPhone(c)
	b := e.browser()
	b.signIn("prov")
	p := b.get("/referrals/" + id.String())
	if p.status != http.StatusOK {
		t.Fatalf("packet: %d %s", p.status, p.body)
	}
	// PEP closes at incident + 72 h and EC at + 120 h, shown in Trujillo's time.
	pep, ec := incident.Add(72*time.Hour).In(lima), incident.Add(120*time.Hour).In(lima)
	mustContain(t, p, c.Reference, "Salud", "ordinaria", "notificada",
		"Profilaxis post-exposición (72 h) antes de", pep.Format("02/01/2006 15:04"), "42 h 00 min",
		"Anticoncepción de emergencia (120 h) antes de", ec.Format("02/01/2006 15:04"),
		"español", "de 9 a 18 h", "Mostrar su número", "Confirmar recepción", "No podemos atenderla")
	mustLack(t, p, "Relato sellado", incident.In(lima).Format("02/01/2006 15:04"), phone, "Aceptar la solicitud", "Ahora no")
	if got := p.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}
	// Past the PEP window the packet says it closed; EC is still open.
	e.clk.Set(pep.Add(time.Minute))
	b.signIn("prov") // the session timed out meanwhile
	p = b.get("/referrals/" + id.String())
	mustContain(t, p, "plazo vencido")
	// Once her case is erased there is no packet.
	if err := e.cases.EraseCase(e.ctx, e.pool, c.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/referrals/" + id.String()); p.status != http.StatusNotFound {
		t.Errorf("packet of an erased case: %d, want 404", p.status)
	}
}

func TestRevealingHerNumberIsExplicitAuditedAndSaysNotNowOutsideHerHours(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prov := e.user("prov", RoleProvider)
	c := e.caseIn("el-porvenir", false) // texts allowed, 09:00-18:00
	id := e.referral(c, casefile.NeedHealth)
	phone := e.shownPhone(c)
	audits := func() []string {
		t.Helper()
		rows, err := e.pool.Query(e.ctx, `SELECT actor || ' ' || case_id || ' ' || detail FROM audit_log
			WHERE action = 'referral.reveal_phone' ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	b := e.browser()
	b.signIn("prov")
	if p := b.get("/referrals/" + id.String()); strings.Contains(p.body, phone) || len(audits()) != 0 {
		t.Fatal("the packet shows her number, or audits a reveal, before the click")
	}
	// 10:00 in Trujillo: inside her hours.
	p := b.post("/referrals/"+id.String()+"/phone", nil)
	if p.status != http.StatusOK {
		t.Fatalf("reveal: %d %s", p.status, p.body)
	}
	mustContain(t, p, phone, `href="tel:`+phone+`"`)
	mustLack(t, p, "Ahora no", "Relato sellado")
	if got := p.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("reveal Cache-Control %q", got)
	}
	want := prov.ID.String() + " " + c.ID.String() + " referral:" + id.String()
	if got := audits(); len(got) != 1 || got[0] != want+" in_hours" {
		t.Fatalf("audit rows %q, want one %q", got, want+" in_hours")
	}
	// 20:30: outside her hours. The number shows, marked not now, with the
	// time her hours open; the reveal is audited as outside them.
	e.clk.Set(time.Date(2026, 3, 10, 20, 30, 0, 0, lima))
	b.signIn("prov") // the session timed out meanwhile
	p = b.post("/referrals/"+id.String()+"/phone", nil)
	mustContain(t, p, phone, "Ahora no: fuera de sus horas. Puede contactarla desde las 09:00 del 11/03/2026.")
	if got := audits(); len(got) != 2 || got[1] != want+" outside_hours" {
		t.Fatalf("audit rows %q", got)
	}

	// She said SALIR since: her number is not shown, nothing is audited.
	e.msgs.mu.Lock()
	e.msgs.refuse = true
	e.msgs.mu.Unlock()
	p = b.post("/referrals/"+id.String()+"/phone", nil)
	mustContain(t, p, "Ella pidió no recibir más mensajes (SALIR)")
	mustLack(t, p, phone)
	if got := audits(); len(got) != 2 {
		t.Fatalf("a reveal after SALIR was audited: %q", got)
	}
	e.msgs.mu.Lock()
	e.msgs.refuse = false
	e.msgs.mu.Unlock()

	// She allowed no contact: nothing to reveal, nothing opened or audited.
	silent := e.caseContact("el-porvenir", false, nil, casefile.ContactPrefs{})
	sid := e.referral(silent, casefile.NeedPolice)
	mustContain(t, b.get("/referrals/"+sid.String()), "No autorizó que la contacten")
	if p := b.post("/referrals/"+sid.String()+"/phone", nil); p.status != http.StatusForbidden {
		t.Errorf("reveal without her consent: %d, want 403", p.status)
	}
	// A referral that is no longer open reveals nothing either.
	if err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error {
		return e.refs.Transition(e.ctx, tx, id, referral.Revoked, "test", "caseworker_revoked")
	}); err != nil {
		t.Fatal(err)
	}
	if p := b.post("/referrals/"+id.String()+"/phone", nil); p.status != http.StatusForbidden || strings.Contains(p.body, phone) {
		t.Errorf("reveal on a revoked referral: %d", p.status)
	}
	if got := audits(); len(got) != 2 {
		t.Fatalf("refused reveals were audited: %q", got)
	}
}

func TestAnSMSAcknowledgementShowsOnTheWeb(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("prov", RoleProvider)
	c := e.caseIn("el-porvenir", false)
	id := e.referral(c, casefile.NeedHealth)
	b := e.browser()
	b.signIn("prov")
	mustContain(t, b.get("/referrals/"+id.String()), "Confirmar recepción")
	if out := e.smsReply(id, "OK"); out.Result != referral.ReplyAcknowledged {
		t.Fatalf("SMS OK: %q", out.Result)
	}
	p := b.get("/referrals/" + id.String())
	mustContain(t, p, `data-status="acknowledged"`, "Aceptar la solicitud")
	mustLack(t, p, "Confirmar recepción")
	mustContain(t, b.get("/inbox"), `data-referral="`+id.String()+`" data-status="acknowledged"`)
	// Her stale web form (the page loaded before the SMS) changes nothing
	// and is no error.
	if p := b.post("/referrals/"+id.String()+"/acknowledge", nil); p.status != http.StatusSeeOther {
		t.Fatalf("late web acknowledgement: %d", p.status)
	}
	if n := e.events(id, referral.Acknowledged); n != 1 {
		t.Fatalf("%d acknowledgements recorded, want 1", n)
	}
}

func TestAWebAcknowledgementLeavesTheSMSCodeNothingToDo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prov := e.user("prov", RoleProvider)
	c := e.caseIn("el-porvenir", false)
	id := e.referral(c, casefile.NeedHealth)
	b := e.browser()
	b.signIn("prov")
	if p := b.post("/referrals/"+id.String()+"/acknowledge", nil); p.status != http.StatusSeeOther || p.location != "/referrals/"+id.String() {
		t.Fatalf("acknowledge: %d %q", p.status, p.location)
	}
	if s := e.status(id); s != referral.Acknowledged {
		t.Fatalf("status %s after the web acknowledgement", s)
	}
	// Her later "OK <code>" is a repeat: the same answer as a second SMS
	// OK, and no second acknowledgement.
	if out := e.smsReply(id, "OK"); out.Result != referral.ReplyAcknowledged || out.ReferralID != id {
		t.Fatalf("SMS OK after the web: %+v", out)
	}
	if n := e.events(id, referral.Acknowledged); n != 1 {
		t.Fatalf("%d acknowledgements recorded, want 1", n)
	}
	var actor, reason string
	if err := e.pool.QueryRow(e.ctx, `SELECT actor, reason FROM referral_event WHERE referral_id = $1 AND to_status = 'acknowledged'`,
		id).Scan(&actor, &reason); err != nil || actor != prov.ID.String() || reason != "portal_ok" {
		t.Fatalf("acknowledgement by %q for %q (%v)", actor, reason, err)
	}
	// Accept, then serve: each on the state machine.
	if p := b.post("/referrals/"+id.String()+"/accept", nil); p.status != http.StatusSeeOther || e.status(id) != referral.Accepted {
		t.Fatalf("accept: %d, status %s", p.status, e.status(id))
	}
	// Once accepted, an SMS "NO" can no longer decline it.
	if out := e.smsReply(id, "NO"); out.Result != referral.ReplyStale || e.status(id) != referral.Accepted {
		t.Fatalf("SMS NO after accepting: %q, status %s", out.Result, e.status(id))
	}
	if p := b.post("/referrals/"+id.String()+"/served", nil); p.status != http.StatusSeeOther || e.status(id) != referral.Completed {
		t.Fatalf("served: %d, status %s", p.status, e.status(id))
	}
	mustContain(t, b.get("/referrals/"+id.String()), "Esta solicitud ya no espera respuesta.")
	// A completed referral cannot be declined: the state machine refuses.
	if p := b.post("/referrals/"+id.String()+"/decline", url.Values{"reason": {"no_capacity"}}); p.status != http.StatusBadRequest {
		t.Errorf("decline after completion: %d, want 400", p.status)
	}
}

func TestDecliningTakesACodedReasonAndSendsTheNeedOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("prov", RoleProvider)
	c := e.caseIn("el-porvenir", false)
	id := e.referral(c, casefile.NeedPolice)
	b := e.browser()
	b.signIn("prov")
	for _, form := range []url.Values{nil, {"reason": {""}}, {"reason": {"she lives at the corner"}}} {
		if p := b.post("/referrals/"+id.String()+"/decline", form); p.status != http.StatusBadRequest {
			t.Errorf("decline with %v: %d, want 400", form, p.status)
		}
	}
	if s := e.status(id); s != referral.Notified {
		t.Fatalf("a refused decline moved it to %s", s)
	}
	if p := b.post("/referrals/"+id.String()+"/decline", url.Values{"reason": {"no_capacity"}}); p.status != http.StatusSeeOther {
		t.Fatalf("decline: %d", p.status)
	}
	var reason string
	if err := e.pool.QueryRow(e.ctx, `SELECT reason FROM referral_event WHERE referral_id = $1 AND to_status = 'declined'`,
		id).Scan(&reason); err != nil || reason != "portal_no:no_capacity" {
		t.Fatalf("decline reason %q (%v)", reason, err)
	}
	// Her later "NO <code>" finds nothing open under that code.
	if out := e.smsReply(id, "NO"); out.Result == referral.ReplyDeclined {
		t.Fatalf("SMS NO declined again: %+v", out)
	}
}

// events counts a referral's transitions to status.
func (e *env) events(id uuid.UUID, to referral.Status) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(e.ctx, `SELECT count(*) FROM referral_event WHERE referral_id = $1 AND to_status = $2`,
		id, to).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// shownPhone is her number as a page would carry it (html/template writes
// "+" as "&#43;"), so that a test looking for a leak finds it.
func (e *env) shownPhone(c casefile.Case) string {
	e.t.Helper()
	phone, err := e.cases.ContactPhone(e.ctx, e.pool, c.ContactID)
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.ReplaceAll(phone, "+", "&#43;")
}
