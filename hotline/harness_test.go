package hotline

import (
	"bytes"
	"context"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/jobs"
	"github.com/amparo/amparo/internal/pgtest"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/roster"
	"github.com/amparo/amparo/sms"
	"github.com/amparo/amparo/sms/carrier"
	"github.com/amparo/amparo/templates"
)

// lima is the test directory's zone, where her hours are read.
var lima = func() *time.Location {
	l, err := time.LoadLocation("America/Lima")
	if err != nil {
		panic(err)
	}
	return l
}()

// tuesday10 is a Tuesday, 10:00 in Trujillo: every test provider is open.
var tuesday10 = time.Date(2026, 3, 10, 10, 0, 0, 0, lima)

const (
	testAccount   = "AC0123456789abcdef0123456789abcdef"
	testToken     = "testauthtoken0123"
	hotlineNumber = "+51440000000"
	survivorPhone = "+51987654321"
	counsellor    = "+51900000802"
	healthPhone   = "+51900000902"
	policePhone   = "+51900000904"
)

const testDirectory = `{
  "timezone": "America/Lima",
  "communities": [{"key": "el-porvenir", "name": "El Porvenir"}, {"key": "la-esperanza", "name": "La Esperanza"},
                  {"key": "florencia-de-mora", "name": "Florencia de Mora"}],
  "organizations": [{
    "key": "org", "name": "Org",
    "services": [
      {"key": "hp", "name": "H", "address": "Av. Sol 123", "kind": "health_post", "needs": ["health"], "communities": ["*"],
       "hours": "always", "capacity": 50, "duty_phone": "` + healthPhone + `", "ack_minutes": {"urgent": 15, "routine": 120},
       "priority": 10},
      {"key": "pol", "name": "P", "kind": "police", "needs": ["police"], "communities": ["*"],
       "hours": "always", "capacity": 100000, "duty_phone": "` + policePhone + `", "ack_minutes": {"urgent": 15, "routine": 120},
       "priority": 10}
    ]
  }]
}`

// communityQuestion is the community question (retry: its re-prompt) as
// testDirectory's communities make it.
func communityQuestion(t testing.TB, lang string, retry bool) string {
	t.Helper()
	opts, err := templates.CommunityOptions(lang, []string{"El Porvenir", "La Esperanza", "Florencia de Mora"}, retry)
	if err != nil {
		t.Fatal(err)
	}
	key := templates.KeyCommunity
	if retry {
		key = templates.KeyCommunityRetry
	}
	return text(t, lang, key, "options", opts)
}

type riverTime struct{ c *clock.Fake }

func (r riverTime) Now() time.Time { return r.c.Now() }
func (r riverTime) NowOrNil() *time.Time {
	t := r.c.Now()
	return &t
}

type env struct {
	t    testing.TB
	ctx  context.Context
	pool *pgxpool.Pool
	clk  *clock.Fake
	kr   *crypto.Keyring
	// rawKeyring is kr as its file holds it, for tests that rotate it.
	rawKeyring []byte
	cases      *casefile.Store
	refs       *referral.Service
	roster     *roster.Roster
	out        *sms.Notifier
	sender     *sms.Sender
	smsConfig  sms.Config
	h          *Hotline
	sim        *carrier.Carrier
	srv        *httptest.Server
	router     *chi.Mux
	river      *river.Client[pgx.Tx]
}

// envSetup is what a test may change before newEnv wires the hotline: its
// Config, and the roster's fallback duty phones.
type envSetup struct {
	Config
	fallback  []string
	directory string // testDirectory when empty
}

type envOpt func(*envSetup)

// newEnv wires the hotline as cmd/amparo does, against a fresh database,
// with the simulated carrier as Twilio. River runs only when work is true.
func newEnv(t testing.TB, work bool, opts ...envOpt) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), pool: pgtest.New(t), clk: clock.NewFake(tuesday10)}
	var err error
	if e.rawKeyring, err = crypto.GenerateKeyring(tuesday10); err != nil {
		t.Fatal(err)
	}
	if e.kr, err = crypto.ParseKeyring(e.rawKeyring); err != nil {
		t.Fatal(err)
	}
	ins := &jobs.Deferred{}
	outbox := sms.NewOutbox(e.kr, e.kr.BlindIndex(), ins, e.clk)
	e.cases = casefile.New(e.pool, e.kr, e.kr.BlindIndex(), e.clk, casefile.WithEraseHook(referral.EraseHook(outbox, ins)),
		casefile.WithEraseHook(EraseHook(ins, e.clk)))
	e.out = sms.NewNotifier(outbox, e.cases)
	setup := envSetup{}
	for _, o := range opts {
		o(&setup)
	}
	e.roster = roster.New(e.clk, setup.fallback)
	e.refs = referral.New(e.pool, e.cases, ins, e.out, e.clk, referral.WithRoster(e.roster))

	// Routes are registered before the server starts: the race detector
	// sees no ordering through the socket between the two.
	e.router = chi.NewRouter()
	e.srv = httptest.NewUnstartedServer(e.router)
	base := "http://" + e.srv.Listener.Addr().String() // what Start will set as URL
	t.Cleanup(e.srv.Close)
	e.sim = carrier.New(carrier.Config{AccountSID: testAccount, AuthToken: testToken, PublicURL: base,
		HotlineNumber: hotlineNumber, T: t, Wait: 15 * time.Second})
	api := httptest.NewServer(e.sim)
	t.Cleanup(api.Close)
	t.Cleanup(e.sim.Settle)

	cfg := setup.Config
	cfg.PublicURL, cfg.AuthToken, cfg.AccountSID, cfg.FromNumber = base, testToken, testAccount, hotlineNumber
	if cfg.Log == nil {
		cfg.Log = bufferedLogger(t)
	}
	e.smsConfig = sms.Config{PublicURL: base, AuthToken: testToken, AccountSID: testAccount, FromNumber: hotlineNumber, APIURL: api.URL}
	e.sender, err = sms.NewSender(e.smsConfig, sms.SenderDeps{Pool: e.pool, Keys: e.kr, Notifier: e.out, Referrals: e.refs,
		Clock: e.clk, Log: cfg.Log})
	if err != nil {
		t.Fatal(err)
	}
	e.h, err = New(cfg, Deps{Pool: e.pool, Cases: e.cases, Referrals: e.refs, Outbox: outbox, Sender: e.sender, Roster: e.roster, Jobs: ins,
		Keys: e.kr, Index: e.kr.BlindIndex(), Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	e.h.Routes(e.router)
	e.h.DemoRoutes(e.router, e.sim)
	e.srv.Start()

	workers := river.NewWorkers()
	AddWorkers(workers, e.h)
	sms.AddWorkers(workers, e.sender)
	referral.AddWorkers(workers, e.refs)
	rcfg := &river.Config{Workers: workers, Test: river.TestConfig{Time: riverTime{e.clk}}}
	if work {
		rcfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 8}}
		rcfg.FetchCooldown = 5 * time.Millisecond
		rcfg.FetchPollInterval = 20 * time.Millisecond
	}
	if e.river, err = river.NewClient(riverpgxv5.New(e.pool), rcfg); err != nil {
		t.Fatal(err)
	}
	ins.Set(e.river)
	if work {
		if err := e.river.Start(e.ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = e.river.Stop(ctx)
		})
	}
	if setup.directory == "" {
		setup.directory = testDirectory
	}
	if err := referral.LoadDirectory(e.ctx, e.pool, strings.NewReader(setup.directory)); err != nil {
		t.Fatal(err)
	}
	if err := e.roster.Add(e.ctx, e.pool, roster.Counsellor, counsellor, tuesday10.Add(-time.Hour), tuesday10.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	return e
}

// post sends a form to path, signed with sign (empty: unsigned).
func (e *env) post(path string, form url.Values, token string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set("X-Twilio-Signature", carrier.Sign(token, e.srv.URL+path, form))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func smsForm(sid, from, body string) url.Values {
	return url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {testAccount},
		"From": {from}, "To": {hotlineNumber}, "Body": {body}, "NumMedia": {"0"}}
}

// count returns SELECT count(*) FROM table [WHERE where].
func (e *env) count(table, where string, args ...any) int {
	e.t.Helper()
	q := "SELECT count(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	if err := e.pool.QueryRow(e.ctx, q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// assertNotStored fails the test for every secret that appears in any
// table, in the clear or hex-encoded inside a bytea: the check that nothing
// is stored readable.
func (e *env) assertNotStored(secrets ...string) {
	e.t.Helper()
	for _, s := range secrets {
		if hits := e.tablesContaining(s); len(hits) > 0 {
			e.t.Errorf("%q stored readable in %v", s, hits)
		}
	}
}

func (e *env) tablesContaining(needle string) []string {
	e.t.Helper()
	var hits []string
	for _, table := range []string{"inbound_message", "outbound_message", "conversation", "caller_rate", "caller_block",
		"sms_opt_out", "voice_call", "voice_event", "contact", "case_file", "case_note", "follow_up", "referral", "referral_event",
		"river_job", "audit_log"} {
		var n int
		err := e.pool.QueryRow(e.ctx, "SELECT count(*) FROM "+table+" t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0",
			needle, hex.EncodeToString([]byte(needle))).Scan(&n)
		if err != nil {
			e.t.Fatalf("%s: %v", table, err)
		}
		if n > 0 {
			hits = append(hits, table)
		}
	}
	return hits
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// bufferedLogger keeps the log in memory and prints it only for a failed
// test: handlers still answering carrier callbacks as a test returns must
// not write to its testing.T.
func bufferedLogger(t testing.TB) *slog.Logger {
	w := &pgtest.LogBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(w.String())
		}
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
