package hotline

import (
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/amparo/amparo/internal/web"
	"github.com/amparo/amparo/phone"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/sms/carrier"
	"github.com/amparo/amparo/templates"
)

// demoPage is parsed once: a broken template stops the demo at start-up.
var demoPage = template.Must(template.ParseFS(templates.FS, "html/base.html", "html/demo_phone.html"))

// demo serves the simulated phone. Numbers never travel in its URLs, even
// fictional ones, so the page follows the same rule as everything else.
type demo struct {
	h   *Hotline
	sim *carrier.Carrier
}

// demoPhone is one thread on the page. Owner is nil for a number neither
// the directory nor the roster knows: the hotline treats it as a survivor.
type demoPhone struct {
	Number   string
	Owner    *referral.PhoneOwner
	Messages []carrier.Message
}

func (d *demo) page(w http.ResponseWriter, r *http.Request) {
	owners, err := d.h.referrals.PhoneOwners(r.Context(), d.h.pool)
	if err != nil {
		d.h.log.Error("hotline: demo page", "err", err)
		web.InternalError(w, r)
		return
	}
	data := struct {
		Lang   string
		Failed bool
		Phones []demoPhone
		Owners []referral.PhoneOwner
	}{Lang: templates.ES, Failed: r.URL.Query().Get("failed") != "", Owners: owners}
	for _, n := range d.sim.Numbers() {
		p := demoPhone{Number: n, Messages: d.sim.Thread(n)}
		if i := slices.IndexFunc(owners, func(o referral.PhoneOwner) bool { return o.Phone == n }); i >= 0 {
			p.Owner = &owners[i]
		}
		data.Phones = append(data.Phones, p)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := demoPage.ExecuteTemplate(w, "base", data); err != nil {
		d.h.log.Error("hotline: demo page", "err", err)
	}
}

func (d *demo) send(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	target := "/demo/phone"
	if err := r.ParseForm(); err != nil {
		http.Redirect(w, r, target+"?failed=1", http.StatusSeeOther)
		return
	}
	from, body := strings.TrimSpace(r.PostForm.Get("from")), strings.TrimSpace(r.PostForm.Get("body"))
	if from == "" || body == "" {
		http.Redirect(w, r, target+"?failed=1", http.StatusSeeOther)
		return
	}
	e164, err := phone.Normalize(from, "")
	if err != nil {
		http.Redirect(w, r, target+"?failed=1", http.StatusSeeOther)
		return
	}
	if _, err := d.sim.Phone(e164).Text(body); err != nil {
		d.h.log.Warn("hotline: demo text not delivered", "err", err)
		target += "?failed=1"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}
