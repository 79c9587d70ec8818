package portal

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral"
)

// boardSection is the part of a board page listing one state.
func boardSection(t *testing.T, p page, state referral.Status) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<section class="board-state" data-state="` + string(state) + `".*?</section>`).FindString(p.body)
	if m == "" {
		t.Fatalf("board (status %d) has no %s section:\n%s", p.status, state, p.body)
	}
	return m
}

// boardRowOf is the row of the referral id in section, or "".
func boardRowOf(section string, id uuid.UUID) string {
	return regexp.MustCompile(`(?s)<tr [^>]*data-referral="` + id.String() + `".*?</tr>`).FindString(section)
}

func (e *env) move(id uuid.UUID, to referral.Status, reason string) {
	e.t.Helper()
	err := pgx.BeginFunc(e.ctx, e.pool, func(tx pgx.Tx) error { return e.refs.Transition(e.ctx, tx, id, to, "test", reason) })
	if err != nil {
		e.t.Fatal(err)
	}
}

// chainDirectory adds a second health post that the first escalates to.
const chainDirectory = `{
  "timezone": "America/Lima",
  "organizations": [{
    "key": "org", "name": "Org",
    "services": [
      {"key": "hp", "name": "Posta", "kind": "health_post", "needs": ["health"], "communities": ["*"],
       "hours": "always", "capacity": 50, "duty_phone": "+51900000902", "ack_minutes": {"urgent": 15, "routine": 120},
       "priority": 20, "next": "hp2"},
      {"key": "hp2", "name": "Hospital de guardia", "kind": "health_post", "needs": ["health"], "communities": ["*"],
       "hours": "always", "capacity": 50, "duty_phone": "+51900000903", "ack_minutes": {"urgent": 15, "routine": 60},
       "priority": 90}
    ]
  }]
}`

// TestBoardShowsEveryOpenReferralByStateWithItsDeadline: the board counts
// and lists open referrals under their state, marks deadlines with a word
// and an icon (not colour alone), shows the escalation chain, filters by
// community, need and provider, keeps to the supervisor's communities, and
// answers its script with the table alone.
func TestBoardShowsEveryOpenReferralByStateWithItsDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.directory()
	if err := referral.LoadDirectory(e.ctx, e.pool, strings.NewReader(chainDirectory)); err != nil {
		t.Fatal(err)
	}
	e.user("sup", RoleSupervisor)
	e.user("sup-ep", RoleSupervisor, "El Porvenir")
	early, acked, late := e.caseIn("el-porvenir", false), e.caseIn("la-esperanza", false), e.caseIn("el-porvenir", false)
	earlyHealth := e.referral(early, casefile.NeedHealth)
	e.referral(early, casefile.NeedPolice)
	ackedHealth := e.referral(acked, casefile.NeedHealth)
	e.move(ackedHealth, referral.Acknowledged, "portal")
	e.clk.Advance(2*time.Hour + time.Minute) // past the police's and the post's 120 minutes
	lateHealth := e.referral(late, casefile.NeedHealth)

	b := e.browser()
	b.signIn("sup")
	p := b.get("/board")
	if p.status != http.StatusOK {
		t.Fatalf("board: %d", p.status)
	}
	notified := boardSection(t, p, referral.Notified)
	mustContain(t, page{body: notified}, "3 abiertas, 2 vencidas")
	overdue := boardRowOf(notified, earlyHealth)
	for _, want := range []string{`data-band="over"`, "▲", "Vencido", "Posta", "si no responde: Hospital de guardia"} {
		if !strings.Contains(overdue, want) {
			t.Errorf("the overdue row lacks %q:\n%s", want, overdue)
		}
	}
	if row := boardRowOf(notified, lateHealth); !strings.Contains(row, `data-band="ok"`) || !strings.Contains(row, "A tiempo") {
		t.Errorf("a referral with two hours left is not on time:\n%s", row)
	}
	// Acknowledged runs on serve-by: the PEP window, 72 h after an incident 30 h ago.
	if row := boardRowOf(boardSection(t, p, referral.Acknowledged), ackedHealth); !strings.Contains(row, `data-band="ok"`) {
		t.Errorf("the acknowledged referral is not listed on time:\n%s", row)
	}
	mustLack(t, p, "Relato sellado")

	// The post did not answer: the need moves on to the next in its chain.
	e.move(earlyHealth, referral.Escalated, "ack_deadline_missed")
	p = b.get("/board")
	pending := boardSection(t, p, referral.Pending)
	if !regexp.MustCompile(`Posta \(escalada: ack_deadline_missed\)</span> → <strong>Hospital de guardia</strong>`).MatchString(pending) ||
		!strings.Contains(pending, early.Reference) {
		t.Errorf("the escalated referral's chain is not shown:\n%s", pending)
	}
	if boardRowOf(boardSection(t, p, referral.Notified), earlyHealth) != "" {
		t.Error("the escalated referral is still listed as notified")
	}

	filtered := map[string][]casefile.Case{
		"/board?need=police":                              {early},
		"/board?community=La%20Esperanza":                 {acked},
		"/board?community=la-esperanza":                   {acked},
		"/board?provider=" + e.service(t, "hp2").String(): {early},
	}
	for path, want := range filtered {
		p := b.get(path)
		for _, c := range []casefile.Case{early, acked, late} {
			shown := strings.Contains(p.body, `data-ref="`+c.Reference+`"`)
			if shown != (c.ID == want[0].ID) {
				t.Errorf("%s: %s shown=%v", path, c.Reference, shown)
			}
		}
	}
	for _, bad := range []string{"/board?need=fire", "/board?provider=posta", "/board?community=" + strings.Repeat("x", 65)} {
		if p := b.get(bad); p.status != http.StatusBadRequest || !strings.Contains(p.body, "no son válidos") {
			t.Errorf("%s: %d", bad, p.status)
		}
	}

	// A supervisor of El Porvenir sees none of La Esperanza's.
	ep := e.browser()
	ep.signIn("sup-ep")
	if p := ep.get("/board"); !strings.Contains(p.body, early.Reference) || strings.Contains(p.body, acked.Reference) {
		t.Errorf("El Porvenir's supervisor: early shown=%v, La Esperanza shown=%v",
			strings.Contains(p.body, early.Reference), strings.Contains(p.body, acked.Reference))
	}

	// The script's request: the table alone, under a policy that lets
	// the page run its one script from us and fetch.
	part := b.get("/board?partial=1&need=health")
	if !strings.HasPrefix(part.body, `<div id="board-live"`) || strings.Contains(part.body, "<html") || !strings.Contains(part.body, late.Reference) {
		t.Errorf("partial board:\n%s", part.body)
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("board CSP = %q", csp)
	}
	if csp := b.get("/desk").header.Get("Content-Security-Policy"); strings.Contains(csp, "script-src") {
		t.Errorf("the desk, which has no script, allows one: %q", csp)
	}
	if !strings.Contains(p.body, `<script src="/static/board.js" defer></script>`) {
		t.Error("the board does not load its script")
	}
	if js := b.get("/static/board.js"); js.status != http.StatusOK || !strings.Contains(js.body, "partial=1") {
		t.Errorf("board.js: %d", js.status)
	}
}

// service returns the id of the directory's service key.
func (e *env) service(t *testing.T, key string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := e.pool.QueryRow(e.ctx, `SELECT id FROM service WHERE key = $1`, key).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}
