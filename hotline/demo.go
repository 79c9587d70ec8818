package hotline

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/hotline/carrier"
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

type demoPhone struct {
	Number   string
	Messages []carrier.Message
}

func (d *demo) page(w http.ResponseWriter, r *http.Request) {
	data := struct {
		Lang   string
		Failed bool
		Phones []demoPhone
	}{Lang: templates.ES, Failed: r.URL.Query().Get("failed") != ""}
	for _, n := range d.sim.Numbers() {
		data.Phones = append(data.Phones, demoPhone{Number: n, Messages: d.sim.Thread(n)})
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
	e164, err := crypto.NormalizePhone(from, "")
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
