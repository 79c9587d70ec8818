package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
)

// TestProviderPortalInChromium is a health post's morning in a real browser
// at 360 px: a survivor's request reaches the demo's health organisation
// (and, for her police report, another organisation); the demo provider
// signs in with a TOTP code and lands on her inbox, which lists the health
// referral and not the police one, whose packet answers 404; she opens the
// packet, reveals the survivor's number (audited, inside her hours) and
// acknowledges; the "OK <code>" her duty phone then sends is answered as
// the repeat it is.
func TestProviderPortalInChromium(t *testing.T) {
	t.Parallel()
	browser := chromium(t)
	// Tomorrow at 10:00 in Trujillo: inside the mornings she allows.
	clk := &shiftedClock{}
	clk.set(tomorrowInLima(t, 10))
	demo := startBrowserDemo(t, clk, nil)
	base, pool, stderr := demo.base, demo.pool, demo.stderr

	// Not in danger, opens a case, health and a police report, yesterday,
	// El Porvenir, consents to both, texts and calls, mornings, code word.
	const survivor = "+51987654323"
	for _, body := range []string{"Hola", "2", "1", "1 2", "2", "1", "TODOS", "2", "1", "sol"} {
		text(t, base, survivor, body)
	}
	page := waitPage(t, base, regexp.MustCompile(`tu caso es (AMP-[0-9A-Z]{4})`))
	ref := regexp.MustCompile(`tu caso es (AMP-[0-9A-Z]{4})`).FindStringSubmatch(page)[1]
	// The notice to the health post says where to look, and nothing of her.
	waitPage(t, base, regexp.MustCompile(`nueva solicitud `+ref+`\. Responda OK \d{4} [^<]*Detalles: `+regexp.QuoteMeta(base)+`/inbox`))

	referralOf := func(org string) (id uuid.UUID, codePhone, code string) {
		t.Helper()
		err := pool.QueryRow(context.Background(), `
			SELECT r.id, r.code_phone, r.reply_code FROM referral r JOIN service s ON s.id = r.service_id
			JOIN organization o ON o.id = s.organization_id JOIN case_file c ON c.id = r.case_id
			WHERE o.key = $1 AND c.reference = $2`, org, ref).Scan(&id, &codePhone, &code)
		if err != nil {
			t.Fatalf("referral of %s to %s: %v", ref, org, err)
		}
		return id, codePhone, code
	}
	health, healthPhone, code := referralOf("demo-minsa-trujillo")
	police, _, _ := referralOf("demo-pnp-trujillo")

	s := shots{t: t, dir: t.ArtifactDir()}
	demoSignIn(t, browser, base, "demo-provider")
	var inbox, foreign, packet, revealed, acknowledged string
	err := chromedp.Do(browser,
		chromedp.WaitVisible(`ol.queue`),
		outerHTML(`main`, &inbox),
		s.take("p01-inbox"),
		chromedp.Navigate(base+"/referrals/"+police.String()),
		chromedp.WaitVisible(`p.error`),
		outerHTML(`main`, &foreign),
		s.take("p02-other-organisation"),
		chromedp.Navigate(base+"/inbox"),
		chromedp.Click(`li[data-referral="`+health.String()+`"] a`),
		chromedp.WaitVisible(`#contact`),
		outerHTML(`main`, &packet),
		s.take("p03-packet"),
		submit(`$="/phone"`),
		chromedp.WaitVisible(`#phone`),
		outerHTML(`main`, &revealed),
		s.take("p04-number"),
		submit(`$="/acknowledge"`),
		chromedp.WaitVisible(`dd[data-status="acknowledged"]`),
		outerHTML(`main`, &acknowledged),
		s.take("p05-acknowledged"),
	)
	if err != nil {
		t.Fatalf("browser: %v\nstderr:\n%s", err, stderr)
	}
	if !strings.Contains(inbox, ref) || !strings.Contains(inbox, health.String()) || strings.Contains(inbox, police.String()) {
		t.Errorf("the inbox does not show exactly her organisation's referral:\n%s", inbox)
	}
	if !strings.Contains(foreign, "No encontrado.") || strings.Contains(foreign, ref) {
		t.Errorf("another organisation's packet:\n%s", foreign)
	}
	for _, want := range []string{ref, "Salud", "Profilaxis post-exposición (72 h) antes de", "Mensajes de texto", "de 8 a 12 h", "Mostrar su número"} {
		if !strings.Contains(packet, want) {
			t.Errorf("packet lacks %q:\n%s", want, packet)
		}
	}
	if strings.Contains(packet, survivor) || strings.Contains(packet, "&#43;"+survivor[1:]) {
		t.Error("the packet shows her number before the click")
	}
	if !strings.Contains(revealed, `href="tel:`) || !strings.Contains(revealed, survivor[1:]) || strings.Contains(revealed, "Ahora no") {
		t.Errorf("the reveal does not show her number, in her hours:\n%s", revealed)
	}
	var audited int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log a JOIN staff_user u ON u.id::text = a.actor
		WHERE a.action = 'referral.reveal_phone' AND u.username = 'demo-provider' AND a.detail = $1`,
		"referral:"+health.String()+" in_hours").Scan(&audited); err != nil || audited != 1 {
		t.Errorf("reveal audited %d times (%v), want once", audited, err)
	}
	if strings.Contains(acknowledged, "Confirmar recepción") || !strings.Contains(acknowledged, "Aceptar la solicitud") {
		t.Errorf("after acknowledging:\n%s", acknowledged)
	}
	// Her SMS "OK" afterwards is the repeat of an acknowledgement.
	text(t, base, healthPhone, "OK "+code)
	waitPage(t, base, regexp.MustCompile(`confirmado `+ref+`\. Gracias\.`))
	var acks int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM referral_event WHERE referral_id = $1 AND to_status = 'acknowledged'`,
		health).Scan(&acks); err != nil || acks != 1 {
		t.Errorf("%d acknowledgements recorded (%v), want 1", acks, err)
	}
}
