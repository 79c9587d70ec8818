package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/amparo/amparo/referral"
)

// TestAdminPortalInChromium: an administrator, in a real browser at 360 px,
// uploads a directory file (checked, then applied), takes the demo's
// counsellor off the roster and puts a new one on call; the next survivor
// who says she is in danger gets her alert to the new counsellor's phone
// on the simulated carrier, and the old phone hears nothing.
func TestAdminPortalInChromium(t *testing.T) {
	t.Parallel()
	browser := chromium(t)
	demo := startBrowserDemo(t, nil, nil)
	base, pool, stderr := demo.base, demo.pool, demo.stderr

	// The demo directory with one more service: a night clinic.
	var d referral.Directory
	raw, err := io.ReadAll(referral.DemoDirectory())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	night := d.Organizations[0].Services[0]
	night.Key, night.Name, night.DutyPhone, night.Next = "demo-clinica-nocturna", "DEMO – Clinica nocturna", "+51900000111", ""
	d.Organizations[0].Services = append(d.Organizations[0].Services, night)
	file := filepath.Join(t.TempDir(), "directorio.json")
	raw, _ = json.MarshalIndent(d, "", "  ")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	const (
		oldCounsellor = "+51900000001" // the demo roster's
		newCounsellor = "+51900000077"
	)
	lima, err := time.LoadLocation("America/Lima")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(lima)
	s := shots{t: t, dir: t.ArtifactDir()}
	demoSignIn(t, browser, base, "demo-admin")
	var checked, applied, roster string
	err = chromedp.Do(browser,
		chromedp.WaitVisible(`header a[href="/admin/directory"]`),
		chromedp.Navigate(base+"/admin/directory"),
		chromedp.WaitVisible(`tr[data-service="demo-cs-el-porvenir"]`),
		s.take("admin-01-directory"),
		chromedp.SetUploadFiles(`#file`, []string{file}),
		chromedp.Click(`#check`),
		chromedp.WaitVisible(`#apply`),
		outerHTML(`main`, &checked),
		s.take("admin-02-directory-checked"),
		chromedp.Click(`#apply`),
		chromedp.WaitVisible(`tr[data-service="demo-clinica-nocturna"]`),
		outerHTML(`main`, &applied),
		s.take("admin-03-directory-applied"),
		chromedp.Navigate(base+"/admin/oncall"),
		chromedp.WaitVisible(`form[action="/admin/oncall"]`),
		s.take("admin-04-roster"),
	)
	if err != nil {
		t.Fatalf("browser: %v\nstderr:\n%s", err, stderr)
	}
	if !strings.Contains(checked, `data-op="add"`) || !strings.Contains(checked, "demo-clinica-nocturna") || strings.Contains(checked, `data-op="change"`) {
		t.Errorf("the check does not show exactly the new service:\n%s", checked)
	}
	if !strings.Contains(applied, "Directorio actualizado") || !strings.Contains(applied, "<li>Florencia de Mora <code>florencia-de-mora</code></li>") {
		t.Errorf("apply page:\n%s", applied)
	}
	var dutyPhone string
	if err := pool.QueryRow(context.Background(), `SELECT duty_phone FROM service WHERE key = 'demo-clinica-nocturna' AND demo`).Scan(&dutyPhone); err != nil || dutyPhone != "+51900000111" {
		t.Fatalf("imported service: %q %v", dutyPhone, err)
	}

	var oldShift int64
	if err := pool.QueryRow(context.Background(), `SELECT id FROM on_call WHERE phone = $1`, oldCounsellor).Scan(&oldShift); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(browser,
		chromedp.Click(`tr[data-shift="`+strconv.FormatInt(oldShift, 10)+`"] button`),
		chromedp.WaitVisible(`//p[contains(., "Turno quitado")]`),
		chromedp.SendKeys(`#name`, "Lucia"),
		chromedp.SetValue(`#role`, "counsellor"),
		chromedp.SendKeys(`#phone`, newCounsellor),
		chromedp.SetValue(`#from`, now.Add(-time.Hour).Format("2006-01-02T15:04")),
		chromedp.SetValue(`#to`, now.Add(8*time.Hour).Format("2006-01-02T15:04")),
		submit(`="/admin/oncall"`),
		chromedp.WaitVisible(`//p[contains(., "Turno agregado")]`),
		outerHTML(`main`, &roster),
		s.take("admin-05-roster-after"),
	)
	if err != nil {
		t.Fatalf("browser: %v\nstderr:\n%s", err, stderr)
	}
	if !strings.Contains(roster, "Turno agregado") || !strings.Contains(roster, "Lucia") || !strings.Contains(roster, "*********077") || strings.Contains(roster, "*********001") {
		t.Errorf("roster page after the changes:\n%s", roster)
	}

	// A survivor in danger: her first words raise the alarm.
	text(t, base, "+51987654399", "auxilio me quiere pegar")
	page := waitPage(t, base, regexp.MustCompile(`(?s)<h2>[^<]*· `+regexp.QuoteMeta(newCounsellor)+`</h2>\s*<ol>(?:(?:[^<]|<li>|</li>)*?)caso prioritario AMP-`))
	if regexp.MustCompile(`(?s)<h2>[^<]*· ` + regexp.QuoteMeta(oldCounsellor) + `</h2>\s*<ol>(?:(?:[^<]|<li>|</li>)*?)caso prioritario`).MatchString(page) {
		t.Error("the counsellor taken off the roster still got the alert")
	}
	var actors int
	if err := pool.QueryRow(context.Background(), `SELECT count(DISTINCT a.action) FROM audit_log a JOIN staff_user u ON u.id::text = a.actor
		WHERE u.username = 'demo-admin' AND a.action IN ('directory.import', 'oncall.add', 'oncall.remove')`).Scan(&actors); err != nil || actors != 3 {
		t.Errorf("the administrator's acts audited: %d of 3 (%v)", actors, err)
	}
}
