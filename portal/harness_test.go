package portal

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/pgtest"
	"github.com/amparo/amparo/internal/queuehealth"
	"github.com/amparo/amparo/internal/web"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/roster"
)

var lima = func() *time.Location {
	l, err := time.LoadLocation("America/Lima")
	if err != nil {
		panic(err)
	}
	return l
}()

// t0 is a Tuesday, 10:00 in Trujillo.
var t0 = time.Date(2026, 3, 10, 10, 0, 0, 0, lima)

const testPassword = "correct horse battery"

// env is a portal on its own database, served over HTTP, with a fake clock.
type env struct {
	t       testing.TB
	ctx     context.Context
	clk     *clock.Fake
	p       *Portal
	cases   *casefile.Store
	refs    *referral.Service
	srv     *httptest.Server
	notices *notices
	msgs    *messenger
	outbox  *outboxFigures
	blocks  *blockStore
	pool    *pgxpool.Pool
	raw     []byte // the keyring as its file holds it
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvLog(t, pgtest.Logger(t))
}

// newEnvLog is newEnv whose portal logs to log.
func newEnvLog(t testing.TB, log *slog.Logger) *env {
	t.Helper()
	raw, err := crypto.GenerateKeyring(t0)
	if err != nil {
		t.Fatal(err)
	}
	return newEnvOn(t, log, pgtest.New(t), raw)
}

// newEnvOn is a portal on pool with the keyring raw (as its file holds it),
// for tests that rotate keys under an existing database.
func newEnvOn(t testing.TB, log *slog.Logger, pool *pgxpool.Pool, raw []byte) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ring, err := crypto.ParseKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	cases := casefile.New(pool, ring, ring.BlindIndex(), clk, casefile.WithLogger(log))
	// An insert-only River client: referral's jobs are written, not run.
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	notices := &notices{}
	refs := referral.New(pool, cases, rc, notices, clk, referral.WithLogger(log))
	msgs := &messenger{clk: clk}
	outbox, blocks := &outboxFigures{}, &blockStore{}
	health := &queuehealth.Reader{Pool: pool, Cases: cases, Referrals: refs, Outbox: outbox, Clock: clk, Log: log}
	p, err := New(ctx, Config{Log: log, TimeZone: lima},
		Deps{Pool: pool, Keys: ring, Cases: cases, Referrals: refs, Clock: clk, Messenger: msgs, Health: health, Blocks: blocks})
	if err != nil {
		t.Fatal(err)
	}
	r := web.NewRouter(log, func(context.Context) error { return nil }, prometheus.NewRegistry())
	p.Routes(r)
	srv := httptest.NewTLSServer(r)
	t.Cleanup(srv.Close)
	return &env{t: t, ctx: ctx, clk: clk, p: p, cases: cases, refs: refs, srv: srv, notices: notices, msgs: msgs,
		outbox: outbox, blocks: blocks, pool: pool, raw: raw}
}

// notices is referral's Notifier in these tests. Notices go out from
// River jobs, which these tests do not run; the browser test runs them.
type notices struct{}

func (*notices) NotifyProvider(context.Context, pgx.Tx, referral.ProviderNotice) error  { return nil }
func (*notices) NotifyWithdrawn(context.Context, pgx.Tx, referral.ProviderNotice) error { return nil }
func (*notices) NotifyPassedOn(context.Context, pgx.Tx, referral.ProviderNotice) error  { return nil }
func (*notices) AlertStaff(context.Context, pgx.Tx, roster.Alert) error                 { return nil }
func (*notices) TellSurvivor(context.Context, pgx.Tx, referral.SurvivorNotice) error    { return nil }

// messenger is the portal's Messenger in these tests: it answers as the
// sms Notifier would for a profile the test sets (cmd/amparo's browser
// test drives the real one), and keeps what it was given.
type messenger struct {
	mu     sync.Mutex
	clk    clock.Clock
	opens  time.Time // zero: inside her hours
	refuse bool      // she said SALIR
	sent   []string
}

func (m *messenger) MessageSurvivor(_ context.Context, _ pgx.Tx, _ uuid.UUID, body string) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refuse {
		return time.Time{}, false, nil
	}
	m.sent = append(m.sent, body)
	if m.opens.IsZero() {
		return m.clk.Now(), true, nil
	}
	return m.opens, true, nil
}

func (m *messenger) SaidStop(context.Context, pgx.Tx, uuid.UUID) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.refuse, nil
}

func (m *messenger) bodies() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.sent)
}

// user creates an account.
func (e *env) user(name string, role Role, communities ...string) User {
	e.t.Helper()
	in := NewUser{Username: name, Role: role, Password: testPassword, Communities: communities}
	if role == RoleProvider {
		e.directory()
		in.OrgKey = "org"
	}
	u, uri, err := e.p.CreateUser(e.ctx, in)
	if err != nil {
		e.t.Fatalf("CreateUser %s: %v", name, err)
	}
	if !strings.HasPrefix(uri, "otpauth://totp/Amparo:"+name+"?") {
		e.t.Fatalf("enrolment URI = %q", uri)
	}
	return u
}

func (e *env) directory() {
	e.t.Helper()
	var n int
	_ = e.p.pool.QueryRow(e.ctx, `SELECT count(*) FROM organization WHERE key = 'org'`).Scan(&n)
	if n > 0 {
		return
	}
	if err := referral.LoadDirectory(e.ctx, e.p.pool, strings.NewReader(testDirectory)); err != nil {
		e.t.Fatal(err)
	}
}

// caseIn opens a case in community with the given urgency, an incident
// 30 hours ago (so both clinical windows are open).
func (e *env) caseIn(community string, urgent bool) casefile.Case {
	e.t.Helper()
	incident := e.clk.Now().Add(-30 * time.Hour)
	return e.caseWith(community, urgent, &incident)
}

// caseWith opens a case she may be texted and called about from 09:00 to
// 18:00; incident nil means no clinical deadlines.
func (e *env) caseWith(community string, urgent bool, incident *time.Time) casefile.Case {
	e.t.Helper()
	return e.caseContact(community, urgent, incident, casefile.ContactPrefs{MayText: true, FromHour: 9, ToHour: 18})
}

// caseContact is caseWith with the contact profile she gave.
func (e *env) caseContact(community string, urgent bool, incident *time.Time, prefs casefile.ContactPrefs) casefile.Case {
	e.t.Helper()
	c, err := e.cases.CreateContact(e.ctx, e.p.pool, fmt.Sprintf("+519%08d", uuid.New().ID()%100000000))
	if err != nil {
		e.t.Fatal(err)
	}
	kase, err := e.cases.OpenCase(e.ctx, e.p.pool, c.ID, casefile.CaseInput{
		Urgent: urgent, Needs: []casefile.Need{casefile.NeedHealth, casefile.NeedPolice}, Community: community,
		IncidentAt: incident, Consent: map[casefile.Need]bool{casefile.NeedHealth: true},
		Contact: prefs, Lang: "es",
		Narrative: "Relato sellado de prueba " + uuid.NewString(),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return kase
}

// browser is an HTTP client with its own cookie jar that behaves like a
// same-origin browser for unsafe requests.
type browser struct {
	e      *env
	client *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, client: &http.Client{Jar: jar, Transport: e.srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (b *browser) do(method, path string, form url.Values, hdr map[string]string) page {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method != http.MethodGet {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(raw), location: resp.Header.Get("Location"), header: resp.Header}
}

func (b *browser) get(path string) page                { return b.do(http.MethodGet, path, nil, nil) }
func (b *browser) post(path string, f url.Values) page { return b.do(http.MethodPost, path, f, nil) }

// code is the account's current TOTP code at the fake clock's time.
func (e *env) code(name string) string {
	e.t.Helper()
	c, err := e.p.CurrentCode(e.ctx, name, e.clk.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// signIn signs b in as name, moving the clock on a step first so that the
// code is one the account has not used yet.
func (b *browser) signIn(name string) {
	b.e.t.Helper()
	p := b.post("/sign-in", url.Values{"username": {name}, "password": {testPassword}})
	if p.status != http.StatusSeeOther || p.location != "/sign-in/code" {
		b.e.t.Fatalf("password step: %d %q", p.status, p.location)
	}
	b.e.clk.Advance(30 * time.Second)
	p = b.post("/sign-in/code", url.Values{"code": {b.e.code(name)}})
	if p.status != http.StatusSeeOther || p.location != "/" {
		b.e.t.Fatalf("code step: %d %q %s", p.status, p.location, p.body)
	}
}

// assign makes u the one who works c.
func (e *env) assign(c casefile.Case, u User) {
	e.t.Helper()
	if err := e.cases.Assign(e.ctx, e.p.pool, c.ID, u.ID, "test"); err != nil {
		e.t.Fatal(err)
	}
}

// followUp files a follow-up on c and returns its id.
func (e *env) followUp(c casefile.Case, kind casefile.FollowUpKind, due time.Time, urgent bool) uuid.UUID {
	e.t.Helper()
	if err := e.cases.AddFollowUp(e.ctx, e.p.pool, c.ID, casefile.FollowUp{Kind: kind, DueAt: due, Urgent: urgent, Note: "nota de seguimiento"}); err != nil {
		e.t.Fatal(err)
	}
	var id uuid.UUID
	if err := e.p.pool.QueryRow(e.ctx, `SELECT id FROM follow_up WHERE case_id = $1 ORDER BY created_at DESC, id LIMIT 1`, c.ID).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// referral refers c for need (with an override when she did not consent)
// and returns the referral's id; the notice counts as sent.
func (e *env) referral(c casefile.Case, need casefile.Need) uuid.UUID {
	e.t.Helper()
	e.directory()
	var id uuid.UUID
	err := pgx.BeginFunc(e.ctx, e.p.pool, func(tx pgx.Tx) error {
		override := ""
		if !c.Consent[need] {
			override = "imminent_danger"
		}
		r, routed, err := e.refs.Refer(e.ctx, tx, c.ID, need, "test", override)
		if err == nil && !routed {
			err = fmt.Errorf("not routed")
		}
		id = r.ID
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.p.pool.Exec(e.ctx, `UPDATE referral SET status = 'notified' WHERE id = $1`, id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func mustLack(t testing.TB, p page, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(p.body, w) {
			t.Fatalf("page (status %d) shows %q", p.status, w)
		}
	}
}

func mustContain(t testing.TB, p page, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			t.Fatalf("page (status %d) lacks %q:\n%s", p.status, w, p.body)
		}
	}
}

const testDirectory = `{
  "timezone": "America/Lima",
  "organizations": [{
    "key": "org", "name": "Org",
    "services": [
      {"key": "hp", "name": "Posta", "kind": "health_post", "needs": ["health"], "communities": ["*"],
       "hours": "always", "capacity": 50, "duty_phone": "+51900000902", "ack_minutes": {"urgent": 15, "routine": 120},
       "priority": 20},
      {"key": "pol", "name": "Comisaría", "kind": "police", "needs": ["police"], "communities": ["*"],
       "hours": "always", "capacity": 500, "duty_phone": "+51900000904", "ack_minutes": {"urgent": 15, "routine": 120},
       "priority": 10}
    ]
  }]
}`
