package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSupervisorWatchesTheBoardInChromium: a supervisor keeps the SLA
// board open, filtered to police referrals, with its script running. A
// police station acknowledges one referral by SMS and the board shows it
// acknowledged without a reload; another is left unanswered past its
// acknowledge-by time, the escalation job passes it on, and the board
// shows the chain from the station to the next provider. Queue health
// shows what /metrics exports.
func TestSupervisorWatchesTheBoardInChromium(t *testing.T) {
	t.Parallel()
	browser := chromium(t)
	at := tomorrowInLima(t, 10)
	clk := &shiftedClock{}
	clk.set(at)
	demo := startBrowserDemo(t, clk, nil)
	base, stderr := demo.base, demo.stderr

	// Two survivors in El Porvenir, each consenting to every referral:
	// health and a police report.
	refs := map[string]string{}
	for _, phone := range []string{"+51987650001", "+51987650002"} {
		for _, body := range []string{"Hola", "2", "1", "1 2", "2", "1", "TODOS", "1", "1", "luna"} {
			text(t, base, phone, body)
		}
		re := regexp.MustCompile(`(?s)` + regexp.QuoteMeta(phone) + `</h2>.*?tu caso es (AMP-[0-9A-Z]{4})`)
		refs[phone] = re.FindStringSubmatch(waitPage(t, base, re))[1]
	}
	acked, ignored := refs["+51987650001"], refs["+51987650002"]
	// The police station of El Porvenir gets a notice for each.
	const station = "+51900000201"
	notice := func(ref string) *regexp.Regexp {
		return regexp.MustCompile(`(?s)· \+51900000201</h2>.*?` + ref + `[^<]*?Responda OK (\d{4})`)
	}
	code := notice(acked).FindStringSubmatch(waitPage(t, base, notice(acked)))[1]
	waitPage(t, base, notice(ignored))

	s := shots{t: t, dir: t.ArtifactDir()}
	demoSignIn(t, browser, base, "demo-supervisor")
	row := func(state, ref string) string {
		return `section[data-state="` + state + `"] tr[data-ref="` + ref + `"]`
	}
	var before string
	err := chromedp.Do(browser,
		chromedp.WaitVisible(`ol.queue`),
		chromedp.Click(`header a[href="/board"]`),
		chromedp.WaitVisible(`#board-live`),
		chromedp.SetValue(`#need`, "police"),
		chromedp.Click(`main form.filters button[type=submit]`),
		chromedp.WaitVisible(row("notified", acked)),
		chromedp.WaitVisible(row("notified", ignored)),
		outerHTML(`main`, &before),
		s.take("01-board-both-notified"),
	)
	if err != nil {
		t.Fatalf("browser: %v\nstderr:\n%s", err, stderr)
	}
	for _, want := range []string{"A tiempo", "●", "Comisaría", "si no responde: "} {
		if !strings.Contains(before, want) {
			t.Errorf("the board lacks %q:\n%s", want, before)
		}
	}

	// The station acknowledges the first by SMS; the board, left alone,
	// moves it.
	text(t, base, station, "OK "+code)
	var after string
	err = chromedp.Do(browser,
		chromedp.WaitVisible(row("acknowledged", acked)),
		outerHTML(`main`, &after),
		s.take("02-board-acknowledged-by-sms"),
	)
	if err != nil {
		t.Fatalf("the board never showed %s acknowledged: %v\nstderr:\n%s", acked, err, stderr)
	}
	notified := regexp.MustCompile(`(?s)<section class="board-state" data-state="notified".*?</section>`).FindString(after)
	if notified == "" || strings.Contains(notified, `data-ref="`+acked+`"`) {
		t.Errorf("%s is still listed as notified:\n%s", acked, after)
	}

	// Nobody answers the second: past its 120 minutes the escalation job
	// passes it to the next provider in the station's chain. Two hours on
	// the demo's clock outlast her session too, so she signs in again.
	clk.set(at.Add(2*time.Hour + 5*time.Minute))
	demoSignIn(t, browser, base, "demo-supervisor")
	var escalated string
	err = chromedp.Do(browser,
		chromedp.Navigate(base+"/board?need=police"),
		chromedp.WaitVisible(`tr[data-ref="`+ignored+`"] td.chain .was`),
		outerHTML(`tr[data-ref="`+ignored+`"]`, &escalated),
		s.take("03-board-escalated"),
	)
	if err != nil {
		t.Fatalf("the board never showed %s escalated: %v\nstderr:\n%s", ignored, err, stderr)
	}
	if !regexp.MustCompile(`Comisaría[^<]*\(escalada: ack_deadline_missed\)</span> → <strong>DEMO – CEM`).MatchString(escalated) {
		t.Errorf("the escalated row does not show the chain from the station to the CEM:\n%s", escalated)
	}

	// Queue health reads what /metrics exports.
	var stalled string
	err = chromedp.Do(browser,
		chromedp.Click(`header a[href="/queue"]`),
		chromedp.WaitVisible(`[data-figure="failed_hour"]`),
		textOf(`[data-figure="stalled"]`, &stalled),
		s.take("04-queue-health"),
	)
	if err != nil {
		t.Fatalf("queue health: %v", err)
	}
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if want := "amparo_referrals_ack_stalled " + strings.TrimSpace(stalled) + "\n"; !strings.Contains(string(metrics), want) {
		t.Errorf("queue health shows %q stalled; /metrics lacks %q", stalled, want)
	}
	if !strings.Contains(string(metrics), "amparo_outbox_failed_last_hour 0") {
		t.Error("/metrics lacks the failed deliveries of the last hour")
	}
}

// textOf reads the text of sel into *into.
func textOf(sel string, into *string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var err error
		*into, err = chromedp.Text(sel)(ctx, t)
		return err
	})
}
