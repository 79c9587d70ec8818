package portal

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/internal/queuehealth"
)

// figure reads a number the queue-health page shows.
func figure(t *testing.T, p page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`data-figure="` + name + `">([^<]*)<`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("queue page (status %d) lacks %s:\n%s", p.status, name, p.body)
	}
	return m[1]
}

// TestQueueHealthShowsWhatMetricsExports: stalled referrals, jobs waiting
// and failed deliveries as queuehealth reads them, for a supervisor and an
// admin alike.
func TestQueueHealthShowsWhatMetricsExports(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("sup", RoleSupervisor)
	e.user("adm", RoleAdmin)
	for range 2 {
		e.referral(e.caseIn("el-porvenir", false), casefile.NeedPolice)
	}
	e.clk.Advance(2*time.Hour + 2*time.Minute) // over a minute past acknowledge-by
	e.referral(e.caseIn("el-porvenir", false), casefile.NeedPolice)
	e.outbox.set(queuehealth.Outbox{Pending: 4, FailedLastHour: 3, OldestDue: 90 * time.Second})
	var waiting int
	if err := e.pool.QueryRow(e.ctx, `SELECT count(*) FROM river_job WHERE state IN ('available', 'retryable')`).Scan(&waiting); err != nil || waiting == 0 {
		t.Fatalf("no job waits (%d, %v): the figure below would prove nothing", waiting, err)
	}
	for _, who := range []string{"sup", "adm"} {
		b := e.browser()
		b.signIn(who)
		p := b.get("/queue")
		for name, want := range map[string]string{"stalled": "2", "failed_hour": "3", "outbox_pending": "4",
			"outbox_oldest": "90 s", "jobs_waiting": strconv.Itoa(waiting)} {
			if got := figure(t, p, name); got != want {
				t.Errorf("%s: %s = %q, want %q", who, name, got, want)
			}
		}
		mustLack(t, p, "AMP-", "Relato sellado")
	}
}

// TestCaseAuditTrailListsWhoDidWhatAndIsAuditedItself: a supervisor reads
// the rows about one case (not another's), with names for staff ids and no
// content, and her reading is a row of the trail too.
func TestCaseAuditTrailListsWhoDidWhatAndIsAuditedItself(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sup := e.user("sup", RoleSupervisor)
	cw := e.user("cw", RoleCaseworker)
	c, other := e.caseIn("el-porvenir", false), e.caseIn("el-porvenir", false)
	b := e.browser()
	b.signIn("sup")
	if p := b.post("/cases/"+c.ID.String()+"/open", url.Values{"reason": {"supervision"}}); p.status != http.StatusOK {
		t.Fatalf("open: %d", p.status)
	}
	if p := b.post("/cases/"+c.ID.String()+"/assign", url.Values{"user": {cw.ID.String()}}); p.status != http.StatusSeeOther {
		t.Fatalf("assign: %d", p.status)
	}
	e.assign(other, cw)
	p := b.get("/cases/" + c.ID.String() + "/audit")
	if p.status != http.StatusOK {
		t.Fatalf("audit page: %d", p.status)
	}
	for _, want := range []string{c.Reference, `data-action="case.open"`, "reason:supervision", `data-action="case.assign"`,
		"to:" + cw.ID.String(), "<td>sup</td>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("audit page lacks %q:\n%s", want, p.body)
		}
	}
	mustLack(t, p, "Relato sellado", other.Reference, `data-action="case.audit"`)
	var views int
	if err := e.pool.QueryRow(e.ctx, `SELECT count(*) FROM audit_log WHERE action = 'case.audit' AND actor = $1 AND case_id = $2`,
		sup.ID.String(), c.ID).Scan(&views); err != nil || views != 1 {
		t.Fatalf("reading the trail was audited %d times (%v)", views, err)
	}
	if p := b.get("/cases/" + c.ID.String() + "/audit"); !strings.Contains(p.body, `data-action="case.audit"`) {
		t.Error("the first reading is not in the trail the second shows")
	}
}

// TestSupervisorBlocksAndUnblocksACaseCaller: the caller page blocks her
// number (never shown) for a listed number of days with a listed reason,
// lists the block, and lifts it; anything else is a clear 400 or 404.
func TestSupervisorBlocksAndUnblocksACaseCaller(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sup := e.user("sup", RoleSupervisor)
	c := e.caseIn("el-porvenir", false)
	b := e.browser()
	b.signIn("sup")
	path := "/cases/" + c.ID.String() + "/caller"
	if p := b.get(path); p.status != http.StatusOK || !strings.Contains(p.body, "Ninguno.") {
		t.Fatalf("caller page: %d\n%s", p.status, p.body)
	}
	for _, bad := range []url.Values{{"reason": {"prank"}, "days": {"5"}}, {"reason": {"prank"}, "days": {"-7"}},
		{"reason": {"ella dijo cosas"}, "days": {"7"}}, {"reason": {"prank"}}} {
		if p := b.post(path+"/block", bad); p.status != http.StatusBadRequest {
			t.Errorf("block %v: %d", bad, p.status)
		}
	}
	if n := len(e.blocks.blocksOf(c.ID)); n != 0 {
		t.Fatalf("refused forms blocked her %d times", n)
	}
	p := b.post(path+"/block", url.Values{"reason": {"prank"}, "days": {"7"}})
	if p.status != http.StatusSeeOther || p.location != path {
		t.Fatalf("block: %d %q", p.status, p.location)
	}
	blocks := e.blocks.blocksOf(c.ID)
	if len(blocks) != 1 || blocks[0].Reason != "prank" || blocks[0].SetBy != sup.ID.String() ||
		!blocks[0].Until.Equal(e.clk.Now().Add(7*24*time.Hour)) {
		t.Fatalf("blocks = %+v", blocks)
	}
	p = b.get(path)
	mustContain(t, p, "Broma", "hasta 17/03/2026", `value="`+blocks[0].ID.String()+`"`, "<li data-block")
	if p := b.post(path+"/unblock", url.Values{"block": {uuid.NewString()}}); p.status != http.StatusNotFound {
		t.Errorf("lifting a block that is not the case's: %d", p.status)
	}
	if p := b.post(path+"/unblock", url.Values{"block": {"x"}}); p.status != http.StatusBadRequest {
		t.Errorf("a malformed block id: %d", p.status)
	}
	if p := b.post(path+"/unblock", url.Values{"block": {blocks[0].ID.String()}}); p.status != http.StatusSeeOther {
		t.Fatalf("unblock: %d", p.status)
	}
	if n := len(e.blocks.blocksOf(c.ID)); n != 0 {
		t.Fatalf("still %d blocks", n)
	}
	// The case page leads a supervisor here, and a caseworker nowhere.
	why := url.Values{"reason": {"supervision"}}
	mustContain(t, b.post("/cases/"+c.ID.String()+"/open", why), `href="/cases/`+c.ID.String()+`/caller"`, `href="/cases/`+c.ID.String()+`/audit"`)
	e.user("cw", RoleCaseworker)
	cw := e.browser()
	cw.signIn("cw")
	p = cw.post("/cases/"+c.ID.String()+"/open", why)
	mustContain(t, p, "Relato sellado")
	mustLack(t, p, "/caller", "/audit")
}

// TestSupervisorReassignsACaseFromOneCaseworkerToAnother: the case moves to
// the new caseworker (her "mine" desk lists it, the old one's does not),
// the move is audited, and nobody who could not open the case may get it.
func TestSupervisorReassignsACaseFromOneCaseworkerToAnother(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("sup", RoleSupervisor)
	first, second := e.user("cw1", RoleCaseworker, "el-porvenir"), e.user("cw2", RoleCaseworker, "el-porvenir")
	elsewhere := e.user("cw3", RoleCaseworker, "la-esperanza")
	adm := e.user("adm", RoleAdmin)
	c := e.caseIn("el-porvenir", false)
	e.assign(c, first)
	b := e.browser()
	b.signIn("sup")
	for _, to := range []uuid.UUID{elsewhere.ID, adm.ID, uuid.New()} {
		if p := b.post("/cases/"+c.ID.String()+"/assign", url.Values{"user": {to.String()}}); p.status != http.StatusBadRequest {
			t.Errorf("assigning to %s: %d", to, p.status)
		}
	}
	if p := b.post("/cases/"+c.ID.String()+"/assign", url.Values{"user": {second.ID.String()}}); p.status != http.StatusSeeOther {
		t.Fatalf("reassign: %d", p.status)
	}
	for _, cw := range []struct {
		name string
		has  bool
	}{{"cw1", false}, {"cw2", true}} {
		br := e.browser()
		br.signIn(cw.name)
		if got := strings.Contains(br.get("/desk?mine=1").body, c.Reference); got != cw.has {
			t.Errorf("%s's own desk lists the case: %v, want %v", cw.name, got, cw.has)
		}
	}
	var moves int
	if err := e.pool.QueryRow(e.ctx, `SELECT count(*) FROM audit_log WHERE action = 'case.assign' AND case_id = $1 AND detail = $2`,
		c.ID, "to:"+second.ID.String()).Scan(&moves); err != nil || moves != 1 {
		t.Fatalf("reassignment audited %d times (%v)", moves, err)
	}
}
