package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/pglocal"
	"github.com/amparo/amparo/sms/carrier"
)

const (
	faultAccountSID = "AC0123456789abcdef0123456789abcdef"
	faultToken      = "faulttoken0"
	faultHotline    = "+51987000000"
	// Load shape: bounded, so a run takes seconds on two cores.
	faultCallers = 40
	faultWorkers = 8
)

// faultScript is what every caller texts: Hola, not in danger, consents,
// police, El Porvenir, refer to the police (option 1: the referral question
// numbers her needs from 1). Every step answers with a different question,
// so a lost or doubled step shows in the replies. It stops before the code
// word, so no case, referral or job is created and the replies carry
// nothing per caller (no case reference, no clock-dependent deadline).
var faultScript = []string{"Hola", "2", "1", "2", "1", "1"}

// policeIntake is a whole intake that ends in a police referral in El
// Porvenir: not in danger, consent, police, El Porvenir, refer, texts only,
// mornings, code word.
var policeIntake = []string{"Hola", "2", "1", "2", "1", "1", "1", "1", "luna"}

// faultProbe is the fresh message each caller sends after everything (texts
// only): its reply is the question of the step her conversation is at.
const faultProbe = "1"

// buildAmparo builds ./cmd/amparo once for the fault tests: they SIGKILL
// it, which a server running inside the test process could not survive.
func buildAmparo(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the fault tests build the amparo binary and need the go command on PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "amparo")
	start := time.Now()
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built amparo in %s", time.Since(start).Round(time.Millisecond))
	return bin
}

// rig is one private cluster, one fake Twilio and the amparo binary serving
// against them, started and killed as a child process.
//
// It runs as the README deploys: `amparo migrate -grant-to` as the role that
// owns the schema, then `amparo serve` as a role of its own that can change
// rows but not the schema, and cannot rewrite the audit log.
type rig struct {
	t       *testing.T
	bin     string
	pgDir   string
	cluster *pglocal.Cluster
	pgUp    bool
	env     []string // serve's environment, connected as the serving role
	base    string
	sim     *carrier.Carrier
	logPath string
	srv     *child
	addr    string // where a lone copy listens: the public address
	ports   []int  // the database servers: the primary, then any standby
	// ownerURL and adminURL reach the rig's database as the schema's owner
	// and as the superuser that the test itself uses to look and to tamper.
	ownerURL, adminURL string
	// twilioDown makes the fake Twilio drop every request unanswered, as a
	// network failure does: the sender then waits for a callback (a
	// snooze), which logs no error.
	twilioDown atomic.Bool
}

const (
	rigDatabase  = "amparo"
	rigOwnerRole = "amparo_owner"
	rigServeRole = "amparo_serve"
)

// child is one run of `amparo serve`.
type child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
	err  error         // its exit, once done is closed
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func newRig(t *testing.T, bin string) *rig {
	t.Helper()
	r := newBareRig(t, bin)
	// Not Durable (fsync off): the server is the process under test, not
	// PostgreSQL. SIGKILL of amparo leaves PostgreSQL running, and a fast
	// shutdown writes a checkpoint, so every commit survives both faults.
	r.startPrimary(pglocal.Options{Dir: r.pgDir})
	r.configure()
	return r
}

// newBareRig is a rig with neither database nor configuration yet: the
// caller starts the primary (and any standby, added to ports) and then
// calls configure.
func newBareRig(t *testing.T, bin string) *rig {
	t.Helper()
	dir := t.TempDir()
	// As root the cluster runs as an unprivileged user, who must be able to
	// reach its data directory through the test's private temp folders.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	r := &rig{t: t, bin: bin, pgDir: filepath.Join(dir, "pg"), logPath: filepath.Join(dir, "amparo.log")}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("amparo log (tail):\n%s", r.logTail(8000))
		}
	})
	return r
}

func (r *rig) startPrimary(opts pglocal.Options) {
	r.t.Helper()
	cluster, err := pglocal.Start(context.Background(), opts)
	if err != nil {
		r.t.Fatal(err)
	}
	r.cluster, r.pgUp = cluster, true
	r.ports = []int{cluster.Port}
	r.t.Cleanup(func() {
		if r.pgUp {
			r.cluster.Stop()
		}
	})
}

// configure creates the database and its roles on the primary, a keyring
// and the fake Twilio, and serve's environment.
func (r *rig) configure() {
	t := r.t
	t.Helper()
	serveURL := r.createRoles()
	keyring, err := crypto.GenerateKeyring(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	r.addr, r.base = addr, "http://"+addr
	r.sim = carrier.New(carrier.Config{AccountSID: faultAccountSID, AuthToken: faultToken, PublicURL: r.base, HotlineNumber: faultHotline})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.twilioDown.Load() {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		r.sim.ServeHTTP(w, req)
	}))
	t.Cleanup(api.Close)
	r.env = []string{
		"DATABASE_URL=" + serveURL,
		"AMPARO_ADDR=" + addr,
		"AMPARO_PUBLIC_URL=" + r.base,
		"AMPARO_KEYRING=" + string(keyring),
		"TWILIO_ACCOUNT_SID=" + faultAccountSID,
		"TWILIO_AUTH_TOKEN=" + faultToken,
		"TWILIO_FROM_NUMBER=" + faultHotline,
		"TWILIO_API_URL=" + api.URL,
	}
}

// createRoles makes the database, its owner and the serving role, as the
// README's production steps do, and returns serve's URL.
func (r *rig) createRoles() string {
	r.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, r.cluster.URL)
	if err != nil {
		r.t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"CREATE ROLE " + rigOwnerRole + " LOGIN",
		"CREATE ROLE " + rigServeRole + " LOGIN",
		"CREATE DATABASE " + rigDatabase + " OWNER " + rigOwnerRole,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			r.t.Fatalf("%s: %v", q, err)
		}
	}
	// Every URL names every server of the rig, and with more than one asks
	// for the one that takes writes, as a production URL in front of a
	// replicated cluster does.
	hosts := make([]string, len(r.ports))
	for i, p := range r.ports {
		hosts[i] = fmt.Sprintf("127.0.0.1:%d", p)
	}
	as := func(role string) string {
		u := url.URL{Scheme: "postgres", User: url.User(role), Host: strings.Join(hosts, ","), Path: "/" + rigDatabase}
		q := url.Values{"sslmode": {"disable"}}
		if len(hosts) > 1 {
			q.Set("target_session_attrs", "read-write")
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	r.ownerURL, r.adminURL = as(rigOwnerRole), as("postgres")
	return as(rigServeRole)
}

// start runs `amparo migrate -grant-to` as the owner, then `amparo serve` as
// the serving role on the public address, and waits until it is ready.
func (r *rig) start() {
	r.t.Helper()
	r.srv = r.startCopy(r.addr)
}

// startCopy runs one copy of serve listening on addr (several copies share
// the public URL that webhooks are signed for, as behind a load balancer).
// Every copy logs to the rig's one log file.
func (r *rig) startCopy(addr string) *child {
	r.t.Helper()
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		r.t.Fatal(err)
	}
	migrate := exec.Command(r.bin, "migrate", "-grant-to", rigServeRole)
	migrate.Env = append(slices.Clone(r.env), "DATABASE_URL="+r.ownerURL)
	if out, err := migrate.CombinedOutput(); err != nil {
		logf.Close()
		r.t.Fatalf("amparo migrate: %v\n%s", err, out)
	}
	cmd := exec.Command(r.bin, "serve")
	cmd.Env = append(slices.Clone(r.env), "AMPARO_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		r.t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		logf.Close()
		close(c.done)
	}()
	r.t.Cleanup(func() {
		if !c.exited() {
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	r.waitReady(c, "http://"+addr, 30*time.Second)
	return c
}

// kill ends the server with SIGKILL: no drain, no deferred cleanup.
func (r *rig) kill() { r.killCopy(r.srv) }

func (r *rig) killCopy(c *child) {
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		r.t.Errorf("SIGKILL: %v", err)
	}
	<-c.done
}

func (r *rig) waitReady(c *child, base string, within time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if c.exited() {
			r.t.Fatalf("amparo serve exited on its own (%v); log:\n%s", c.err, r.logTail(8000))
		}
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("amparo serve not ready within %s; log:\n%s", within, r.logTail(8000))
}

func (r *rig) logTail(n int) string {
	b, _ := os.ReadFile(r.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// stopDatabase and startDatabase may run on a goroutine of their own, so
// they report instead of failing the test.
func (r *rig) stopDatabase() error {
	if err := r.cluster.Stop(); err != nil {
		return err
	}
	r.pgUp = false
	return nil
}

func (r *rig) startDatabase() error {
	c, err := pglocal.Start(context.Background(), pglocal.Options{Dir: r.pgDir, Port: r.cluster.Port})
	if err != nil {
		return err
	}
	r.cluster, r.pgUp = c, true
	return nil
}

func (r *rig) db() *pgxpool.Pool {
	r.t.Helper()
	pool, err := pgxpool.New(context.Background(), r.adminURL)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(pool.Close)
	return pool
}

// committed returns the outcome of every recorded MessageSid, and fails on
// a MessageSid recorded more than once.
func (r *rig) committed() map[string]string {
	r.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, r.adminURL)
	if err != nil {
		r.t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT message_sid, outcome FROM inbound_message`)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var sid, outcome string
		if err := rows.Scan(&sid, &outcome); err != nil {
			r.t.Fatal(err)
		}
		if _, dup := out[sid]; dup {
			r.t.Errorf("MessageSid %s recorded twice", sid)
		}
		out[sid] = outcome
	}
	if err := rows.Err(); err != nil {
		r.t.Fatal(err)
	}
	return out
}

// webhook is one inbound SMS as Twilio would post it, and what came back
// the last time it was delivered.
type webhook struct {
	from, sid, body string
	seq             int // position in the caller's script

	status   int // 0: no HTTP answer (connection refused or cut)
	replies  []string
	err      error
	attempts int
	ackedAt  int // order among 200s of the load, 1-based; 0 if never 200
}

func newCallers(n int, script []string, firstNumber int) [][]*webhook {
	callers := make([][]*webhook, n)
	for i := range callers {
		from := fmt.Sprintf("+51955%06d", firstNumber+i)
		for seq, body := range script {
			callers[i] = append(callers[i], &webhook{from: from, sid: carrier.NewSID("SM"), body: body, seq: seq})
		}
	}
	return callers
}

func newClient() *http.Client {
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: faultWorkers, DisableCompression: true},
	}
}

// deliver posts w signed as Twilio signs it and returns the answer.
func (r *rig) deliver(c *http.Client, w *webhook) (status int, replies []string, err error) {
	params := url.Values{
		"MessageSid": {w.sid}, "SmsSid": {w.sid}, "SmsMessageSid": {w.sid}, "AccountSid": {faultAccountSID},
		"From": {w.from}, "To": {faultHotline}, "Body": {w.body},
		"NumMedia": {"0"}, "NumSegments": {"1"}, "ApiVersion": {"2010-04-01"},
	}
	req, err := http.NewRequest(http.MethodPost, r.base+"/twilio/sms", strings.NewReader(params.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", carrier.Sign(faultToken, r.base+"/twilio/sms", params))
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return 0, nil, err
	}
	if res.StatusCode != http.StatusOK {
		return res.StatusCode, nil, nil
	}
	replies, err = carrier.ParseTwiML(raw)
	return res.StatusCode, replies, err
}

// reference plays script once, cleanly, for a caller of its own, and
// returns the replies: what every caller's i-th message must be answered.
func (r *rig) reference(script []string) [][]string {
	r.t.Helper()
	c := newClient()
	defer c.CloseIdleConnections()
	var ref [][]string
	for _, w := range newCallers(1, script, 999_999)[0] {
		status, replies, err := r.deliver(c, w)
		if err != nil || status != http.StatusOK || len(replies) == 0 {
			r.t.Fatalf("reference caller, message %d %q: status %d, replies %q, err %v", w.seq, w.body, status, replies, err)
		}
		ref = append(ref, replies)
	}
	// The check is only as sharp as the script: a doubled or lost step
	// must change the answer.
	for i := 1; i < len(ref); i++ {
		if slices.Equal(ref[i], ref[i-1]) {
			r.t.Fatalf("script steps %d and %d answer alike (%q); a doubled step would go unseen", i-1, i, ref[i])
		}
	}
	return ref
}

// loadMode says what a caller does when a webhook is not answered 200.
type loadMode int

const (
	stopCaller loadMode = iota // give up on this caller (the server is gone)
	retryUntil                 // deliver the same webhook again, as Twilio-like redelivery would
)

// load delivers every caller's webhooks in order, callers in parallel on
// faultWorkers goroutines. onAck, if set, runs after the n-th 200 of the
// load; onAnswer, if set, sees every attempt's answer.
func (r *rig) load(callers [][]*webhook, mode loadMode, deadline time.Time, onAck func(n int64), onAnswer func(*webhook)) {
	c := newClient()
	defer c.CloseIdleConnections()
	var acked atomic.Int64
	next := make(chan []*webhook)
	var wg sync.WaitGroup
	for range faultWorkers {
		wg.Go(func() {
			for msgs := range next {
			caller:
				for _, w := range msgs {
					for {
						w.attempts++
						w.status, w.replies, w.err = r.deliver(c, w)
						if onAnswer != nil {
							onAnswer(w)
						}
						if w.status == http.StatusOK && w.err == nil {
							n := acked.Add(1)
							w.ackedAt = int(n)
							if onAck != nil {
								onAck(n)
							}
							break
						}
						if mode == stopCaller || time.Now().After(deadline) {
							break caller
						}
						time.Sleep(50 * time.Millisecond)
					}
				}
			}
		})
	}
	for _, msgs := range callers {
		next <- msgs
	}
	close(next)
	wg.Wait()
}

// redeliverAll posts every webhook again, as Twilio-like redelivery would,
// including those already answered 200, then one fresh probe per caller.
// Every answer must be 200 and equal to the clean delivery's.
func (r *rig) redeliverAll(callers [][]*webhook, ref [][]string) {
	r.t.Helper()
	probes := make([]*webhook, len(callers))
	for i, msgs := range callers {
		probes[i] = &webhook{from: msgs[0].from, sid: carrier.NewSID("SM"), body: faultProbe, seq: len(faultScript)}
	}
	withProbe := make([][]*webhook, len(callers))
	for i, msgs := range callers {
		// Copies: what the load got stays on the originals, for comparison.
		for _, w := range msgs {
			cp := *w
			cp.status, cp.replies, cp.err, cp.attempts = 0, nil, nil, 0
			withProbe[i] = append(withProbe[i], &cp)
		}
		withProbe[i] = append(withProbe[i], probes[i])
	}
	r.load(withProbe, stopCaller, time.Now().Add(time.Minute), nil, nil)
	for _, msgs := range withProbe {
		for _, w := range msgs {
			switch {
			case w.attempts == 0:
				r.t.Errorf("%s message %d: not redelivered (an earlier one of hers failed)", w.from, w.seq)
			case w.status != http.StatusOK || w.err != nil:
				r.t.Errorf("%s message %d %q redelivered: status %d, err %v", w.from, w.seq, w.body, w.status, w.err)
			case !slices.Equal(w.replies, ref[w.seq]):
				r.t.Errorf("%s message %d %q redelivered: replies %q, a clean delivery answers %q", w.from, w.seq, w.body, w.replies, ref[w.seq])
			}
		}
	}
	for i := range callers {
		callers[i] = append(callers[i], probes[i])
	}
}

// checkExactlyOnce asserts every webhook of callers (and the reference
// caller's) has exactly one row, processed as a survivor's message, and one
// conversation per caller.
func (r *rig) checkExactlyOnce(callers [][]*webhook, refMessages int) {
	r.t.Helper()
	rows := r.committed()
	want := refMessages
	for _, msgs := range callers {
		for _, w := range msgs {
			want++
			switch outcome, ok := rows[w.sid]; {
			case !ok:
				r.t.Errorf("%s message %d: MessageSid %s lost (no inbound_message row)", w.from, w.seq, w.sid)
			case outcome != "survivor":
				r.t.Errorf("%s message %d: outcome %q, want survivor", w.from, w.seq, outcome)
			}
		}
	}
	if len(rows) != want {
		r.t.Errorf("inbound_message holds %d rows, want %d (one per MessageSid sent)", len(rows), want)
	}
	var convs int
	if err := r.db().QueryRow(context.Background(), `SELECT count(*) FROM conversation`).Scan(&convs); err != nil {
		r.t.Fatal(err)
	}
	if convs != len(callers)+1 {
		r.t.Errorf("%d conversations, want %d (one per caller)", convs, len(callers)+1)
	}
}

// checkLoadReplies asserts every 200 of the load carried what a clean
// delivery answers: a step processed twice or out of turn would not.
func (r *rig) checkLoadReplies(callers [][]*webhook, ref [][]string) {
	r.t.Helper()
	for _, msgs := range callers {
		for _, w := range msgs {
			if w.ackedAt > 0 && !slices.Equal(w.replies, ref[w.seq]) {
				r.t.Errorf("%s message %d %q during the load: replies %q, a clean delivery answers %q", w.from, w.seq, w.body, w.replies, ref[w.seq])
			}
		}
	}
}

// testCrashMidLoad: SIGKILL the server a third of the way through a load of
// signed webhooks, restart it, redeliver everything.

// referToPolice has n survivors (numbers from first on) each finish the
// police intake, and waits until the police of El Porvenir have been
// delivered a notice for each: referrals whose acknowledge-by deadline the
// test can then move. Their webhooks count as answered for checkExactlyOnce.
func (r *rig) referToPolice(n, first int) [][]*webhook {
	r.t.Helper()
	survivors := newCallers(n, policeIntake, first)
	c := newClient()
	defer c.CloseIdleConnections()
	for _, msgs := range survivors {
		for _, w := range msgs {
			status, replies, err := r.deliver(c, w)
			if err != nil || status != http.StatusOK {
				r.t.Fatalf("%s message %d %q: status %d, err %v", w.from, w.seq, w.body, status, err)
			}
			w.replies, w.ackedAt = replies, 1
		}
	}
	pool := r.db()
	waitFor(r.t, r, 20*time.Second, fmt.Sprintf("%d police notices are delivered", n), func() bool {
		var got int
		err := pool.QueryRow(context.Background(), `SELECT count(*) FROM referral r JOIN service s ON s.id = r.service_id
			JOIN outbound_message o ON o.referral_id = r.id
			WHERE s.key = 'demo-comisaria-el-porvenir' AND r.status = 'notified' AND o.status = 'delivered'`).Scan(&got)
		return err == nil && got == n
	})
	return survivors
}

func bodies(ms []carrier.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Body)
	}
	return out
}

// waitFor polls cond until it holds, failing on timeout or if the server
// exits meanwhile.
func waitFor(t *testing.T, r *rig, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if r.srv != nil && r.srv.exited() {
			t.Fatalf("waiting for %s: amparo serve exited (%v)", what, r.srv.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
