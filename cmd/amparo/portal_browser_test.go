package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/internal/pgtest"
)

// chromium starts headless Chromium (Debian's `chromium` package) and
// returns a browser context. Outside CI a machine without it skips; in CI
// (CI=true) that fails, since a browser test that silently skips there
// proves nothing. `make test` installs the package when it can.
func chromium(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: the portal's browser tests must run in CI (apt-get install chromium)")
		}
		t.Skip("chromium not installed; `make test` installs it")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		// The narrowest phone the portal must work on.
		chromedp.WindowSize(360, 800))
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// shots saves full-page screenshots into the test's artefact directory
// (kept with `go test -artifacts`; `make test` keeps them in .test-artifacts/).
type shots struct {
	t   *testing.T
	dir string
}

func (s shots) take(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, t) // 100: PNG, not JPEG
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(s.dir, name+".png"), png, 0o644)
	})
}

// outerHTML reads the outer HTML of sel into *into.
func outerHTML(sel string, into *string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var err error
		*into, err = chromedp.OuterHTML(sel)(ctx, t)
		return err
	})
}

// TestPortalInChromium walks a caseworker's morning in a real browser at
// 360 px, without JavaScript (the pages have none): sign in with a TOTP
// code, find the new case on the desk, open it (audited, with a reason, as
// it is nobody's yet), add a note, refer her to the police with a recorded
// override and see the notice reach the police duty phone on the simulated
// carrier, file a follow-up, and text her after her hours: the page says
// when it will go, and the simulated carrier gets it only when the demo's
// clock reaches her morning.
func TestPortalInChromium(t *testing.T) {
	t.Parallel()
	browser := chromium(t)
	// Tomorrow at 14:00 in Trujillo, after the mornings she allows, and
	// after everything the demo sets up on the real clock.
	at := tomorrowInLima(t, 14)
	clk := &shiftedClock{}
	clk.set(at)
	var free string // a caseworker's own text to her, below
	var demo *browserDemo
	demo = startBrowserDemo(t, clk, func() {
		if !strings.Contains(demo.stdout.String(), "demo-caseworker") {
			t.Errorf("demo did not say how to sign in as its caseworker:\n%s", demo.stdout)
		}
		if free != "" && (strings.Contains(demo.stdout.String(), free) || strings.Contains(demo.stderr.String(), free)) {
			t.Errorf("logs contain the free text %q", free)
		}
	})
	base, pool, stderr, dbURL := demo.base, demo.pool, demo.stderr, demo.dbURL

	// A survivor texts: not in danger, opens a case, needs health and a
	// police report, yesterday, El Porvenir, consents to health only,
	// texts only, mornings, code word.
	const survivor = "+51987654322"
	for _, body := range []string{"Hola", "2", "1", "1 2", "2", "1", "1", "1", "1", "luna"} {
		text(t, base, survivor, body)
	}
	page := waitPage(t, base, regexp.MustCompile(`tu caso es (AMP-[0-9A-Z]{4})`))
	ref := regexp.MustCompile(`tu caso es (AMP-[0-9A-Z]{4})`).FindStringSubmatch(page)[1]

	s := shots{t: t, dir: t.ArtifactDir()}
	var desk, casePage string
	err := chromedp.Do(browser, chromedp.Navigate(base+"/demo/staff"))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	code, err := chromedp.Run(browser, chromedp.Text(`#code-demo-caseworker`))
	if err != nil {
		t.Fatalf("demo codes page: %v", err)
	}
	err = chromedp.Do(browser,
		chromedp.Navigate(base+"/sign-in"),
		s.take("01-sign-in"),
		chromedp.SendKeys(`#username`, "demo-caseworker"),
		chromedp.SendKeys(`#password`, "amparo-demo-2026"),
		submit(`="/sign-in"`),
		chromedp.WaitVisible(`img.qr`), // first sign-in: the enrolment QR code
		s.take("02-code-with-qr"),
		chromedp.SendKeys(`#code`, strings.TrimSpace(code)),
		submit(`="/sign-in/code"`),
		chromedp.WaitVisible(`ol.queue`),
		outerHTML(`main`, &desk),
		s.take("03-desk"),
		chromedp.Click(`li[data-ref="`+ref+`"] a`),
		chromedp.WaitVisible(`#reason`),
		s.take("04-reason"),
		submit(`$="/open"`),
		chromedp.WaitVisible(`#facts`),
		s.take("05-case"),
		chromedp.SendKeys(`#note`, "Prefiere que la llamen por la mañana."),
		submit(`$="/notes"`),
		chromedp.WaitVisible(`li.note`),
		chromedp.SetValue(`#ref_need`, "police"),
		chromedp.SetValue(`#ref_override`, "imminent_danger"),
		submit(`$="/referrals"`),
		// Her health referral is on the page already: wait for the new one,
		// or the next step may act on the page being replaced.
		chromedp.WaitVisible(`li[data-referral][data-need="police"]`),
		chromedp.SetValue(`#fu_due`, "2026-12-01T10:00"),
		chromedp.SendKeys(`#fu_note`, "Confirmar la cita en la posta."),
		submit(`$="/follow-ups"`),
		chromedp.WaitVisible(`//li[contains(@class, "followup")][contains(., "Confirmar la cita")]`),
		outerHTML(`main`, &casePage),
		s.take("06-case-after"),
	)
	if err != nil {
		t.Fatalf("browser: %v\nstderr:\n%s", err, stderr)
	}
	if !strings.Contains(desk, ref) || !strings.Contains(desk, "Ventana clínica abierta") {
		t.Errorf("the desk does not show %s in its clinical window:\n%s", ref, desk)
	}
	for _, want := range []string{"Prefiere que la llamen por la mañana.", "sin su consentimiento, con motivo registrado",
		"override:imminent_danger", "Confirmar la cita en la posta.", "01/12/2026 10:00"} {
		if !strings.Contains(casePage, want) {
			t.Errorf("case page lacks %q:\n%s", want, casePage)
		}
	}
	var opened int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log a JOIN staff_user u ON u.id::text = a.actor
		WHERE a.action = 'case.open' AND u.username = 'demo-caseworker' AND a.detail = 'reason:unassigned_triage'`).Scan(&opened); err != nil || opened < 1 {
		t.Errorf("opening not audited: %d rows, %v", opened, err)
	}
	// The police duty phone of El Porvenir receives the discreet notice.
	phone := waitPage(t, base, regexp.MustCompile(`(?s)<h2>[^<]*· \+51900000201</h2>\s*<ol>(?:(?:[^<]|<li>|</li>)*?)Responda OK \d{4}`))
	if strings.Contains(phone, "Prefiere") {
		t.Error("a note reached a phone")
	}

	// A text to her at 14:00 waits for her next morning, 08:00.
	var sent string
	err = chromedp.Do(browser,
		chromedp.Click(`input[name=text][value="sms.survivor.portal.hello"]`),
		submit(`$="/messages"`),
		chromedp.WaitVisible(`[data-message]`),
		outerHTML(`main`, &sent),
		s.take("07-message-waits"),
	)
	if err != nil {
		t.Fatalf("browser: %v\nstderr:\n%s", err, stderr)
	}
	opens := at.Add(18 * time.Hour) // 08:00 the day after
	if want := "se enviará a las 08:00 del " + opens.Format("02/01/2006"); !strings.Contains(sent, want) {
		t.Fatalf("message page lacks %q:\n%s", want, sent)
	}
	// Her own words from the caseworker, confirmed discreet: sealed in the
	// outbox like every text, so nowhere in the database or the logs.
	free = "Hola, soy Rosa " + rand.Text()[:10] + ". Responde cuando puedas."
	err = chromedp.Do(browser,
		chromedp.Click(`main a[href^="/cases/"]`),
		chromedp.WaitVisible(`#message_body`),
		chromedp.Click(`input[name=text][value=free]`),
		chromedp.SendKeys(`#message_body`, free),
		chromedp.Click(`input[name=discreet]`),
		submit(`$="/messages"`),
		chromedp.WaitVisible(`[data-message="later"]`),
	)
	if err != nil {
		t.Fatalf("browser: %v\nstderr:\n%s", err, stderr)
	}
	const hello = "te escribimos de parte de quien conversaste"
	toHer := regexp.MustCompile(`(?s)<h2>[^<]*· ` + regexp.QuoteMeta(survivor) + `</h2>\s*<ol>(?:(?:[^<]|<li>|</li>)*?)` + hello)
	time.Sleep(time.Second) // a sender that ignored her hours would have sent it by now
	if page := waitPage(t, base, regexp.MustCompile(`.`)); toHer.MatchString(page) {
		t.Fatal("the text reached her outside her hours")
	}
	clk.set(opens)
	waitPage(t, base, toHer)
	waitPage(t, base, regexp.MustCompile(regexp.QuoteMeta(free)))
	var sealed int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM outbound_message WHERE purpose = 'survivor'`).Scan(&sealed); err != nil || sealed != 2 {
		t.Fatalf("outbound rows to her: %d, %v; the dump check would prove nothing", sealed, err)
	}
	dump := pgtest.Dump(t, dbURL)
	for _, table := range []string{"public.outbound_message", "public.river_job", "public.audit_log"} {
		if !strings.Contains(dump, table) {
			t.Fatalf("dump lacks %s", table)
		}
	}
	for _, form := range []string{free, strings.ToLower(free), hex.EncodeToString([]byte(free))} {
		if strings.Contains(dump, form) {
			t.Errorf("database dump contains the free text %q", form)
		}
	}
}

// shiftedClock runs at the real pace from a time the test sets, so River's
// timers and the hotline's rules see the test's hours.
type shiftedClock struct{ offset atomic.Int64 }

func (c *shiftedClock) Now() time.Time  { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *shiftedClock) set(t time.Time) { c.offset.Store(int64(time.Until(t))) }

// demoSignIn signs the demo's account user in, with the TOTP code
// /demo/staff shows for it now, and returns once the portal shows her
// signed in. It serves a first sign-in (the enrolment QR beside the code
// field) and a later one alike.
func demoSignIn(t *testing.T, browser context.Context, base, user string) {
	t.Helper()
	if err := chromedp.Do(browser, chromedp.Navigate(base+"/demo/staff")); err != nil {
		t.Fatalf("browser: %v", err)
	}
	code, err := chromedp.Run(browser, chromedp.Text(`#code-`+user))
	if err != nil {
		t.Fatalf("demo codes page: %v", err)
	}
	err = chromedp.Do(browser,
		chromedp.Navigate(base+"/sign-in"),
		chromedp.SendKeys(`#username`, user),
		chromedp.SendKeys(`#password`, "amparo-demo-2026"),
		chromedp.Click(`main form[action="/sign-in"] button[type=submit]`),
		chromedp.WaitVisible(`#code`),
		chromedp.SendKeys(`#code`, strings.TrimSpace(code)),
		chromedp.Click(`main form[action="/sign-in/code"] button[type=submit]`),
		chromedp.WaitVisible(`header form[action="/sign-out"]`),
	)
	if err != nil {
		t.Fatalf("signing in as %s: %v", user, err)
	}
}

// submit clicks the submit button of the page's form whose action matches
// the attribute-selector tail form (`="/sign-in"`, `$="/notes"`).
func submit(form string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(`main form[action` + form + `] button[type=submit]`)
}

// browserDemo is `amparo demo` run for a browser test, on a database and
// an address of its own.
type browserDemo struct {
	base           string // http://host:port
	dbURL          string
	pool           *pgxpool.Pool
	stdout, stderr *bytes.Buffer
}

// startBrowserDemo runs the demo on clk (the real clock when nil) and
// returns once it is ready; afterExit, when set, runs after it has exited
// at the end of the test.
func startBrowserDemo(t *testing.T, clk *shiftedClock, afterExit func()) *browserDemo {
	t.Helper()
	d := &browserDemo{dbURL: pgtest.NewDatabase(t)}
	addr := freeAddr(t)
	var env Env
	env, d.stdout, d.stderr = testEnv(map[string]string{"DATABASE_URL": d.dbURL}, nil)
	if clk != nil {
		env.Clock = clk
	}
	ctx, cancel := context.WithCancel(context.Background())
	exited := start(ctx, env, "demo", "-addr", addr, "-dir", t.TempDir())
	t.Cleanup(func() {
		cancel()
		<-exited.done
		if afterExit != nil {
			afterExit()
		}
	})
	d.base = "http://" + addr
	waitStatus(t, exited, d.stderr, d.base+"/readyz", 200, 30*time.Second)
	pool, err := pgxpool.New(context.Background(), d.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	d.pool = pool
	return d
}

// tomorrowInLima is tomorrow at hour:00 in Trujillo's time zone.
func tomorrowInLima(t *testing.T, hour int) time.Time {
	t.Helper()
	lima, err := time.LoadLocation("America/Lima")
	if err != nil {
		t.Fatal(err)
	}
	y, m, d := time.Now().In(lima).AddDate(0, 0, 1).Date()
	return time.Date(y, m, d, hour, 0, 0, 0, lima)
}
