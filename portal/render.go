package portal

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/templates"
)

// pageNames are the templates under templates/html/portal besides the layout.
var pageNames = []string{"sign_in", "sign_in_code", "error", "desk", "case_reason", "case", "demo_codes", "message_her", "inbox", "packet",
	"admin_users", "admin_directory", "admin_oncall", "board", "queue_health", "case_audit", "case_caller"}

func parsePages() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.ParseFS(templates.FS, "html/portal/layout.html", "html/portal/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("portal: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// view is what every page template gets: the reader's language and account,
// the page's own data, and helpers for text and time.
type view struct {
	Lang string
	User User
	Path string // the page's path, where the language switch comes back to
	Data any
	loc  *time.Location
	now  time.Time
}

// OtherLang is the language the switch offers.
func (v view) OtherLang() string {
	if v.Lang == templates.EN {
		return templates.ES
	}
	return templates.EN
}

// T is the portal text for key. A missing key is a programming error that
// TestTemplatesUseOnlyKnownKeys catches; at run time it shows the key.
func (v view) T(key string) string { return v.Tf(key) }

// Tf is T with arguments given as name, value pairs.
func (v view) Tf(key string, kv ...string) string {
	var args map[string]string
	if len(kv) > 0 {
		args = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			args[kv[i]] = kv[i+1]
		}
	}
	s, err := templates.PortalText(v.Lang, key, args)
	if err != nil {
		return key
	}
	return s
}

// Kind names a follow-up kind; kinds the catalogue does not name (those the
// system files, such as "delivery_failed") show as their identifier.
func (v view) Kind(kind casefile.FollowUpKind) string {
	if key := "fukind." + string(kind); templates.PortalHas(key) {
		return v.T(key)
	}
	return string(kind)
}

// Local shows t in the desk's time zone.
func (v view) Local(t any) string {
	switch t := t.(type) {
	case time.Time:
		return t.In(v.loc).Format("02/01/2006 15:04")
	case *time.Time:
		if t != nil {
			return t.In(v.loc).Format("02/01/2006 15:04")
		}
	}
	return ""
}

// Clock shows t's time of day in the desk's time zone, and Day its date.
func (v view) Clock(t time.Time) string { return t.In(v.loc).Format("15:04") }

// Day shows t's date in the desk's time zone.
func (v view) Day(t time.Time) string { return t.In(v.loc).Format("02/01/2006") }

// Left says how long until t, or how long since.
func (v view) Left(t any) string {
	var at time.Time
	switch t := t.(type) {
	case time.Time:
		at = t
	case *time.Time:
		if t == nil {
			return ""
		}
		at = *t
	}
	d := at.Sub(v.now)
	if d >= 0 {
		return v.Tf("time.left", "d", span(d))
	}
	return v.Tf("time.ago", "d", span(-d))
}

func span(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h >= 48:
		return fmt.Sprintf("%d d %d h", h/24, h%24)
	case h > 0:
		return fmt.Sprintf("%d h %02d min", h, m)
	}
	return fmt.Sprintf("%d min", m)
}

const langCookie = "amparo_lang"

func (p *Portal) lang(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil {
		return templates.Lang(c.Value)
	}
	return templates.ES
}

func (p *Portal) render(w http.ResponseWriter, r *http.Request, name string, data any) error {
	return p.renderStatus(w, r, http.StatusOK, name, data)
}

// renderStatus renders a page into a buffer first, so a template failure
// becomes an error page instead of half a page.
func (p *Portal) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	return p.renderPart(w, r, status, name, "layout", data)
}

// renderPart renders the template part of page name: "layout" for the
// whole page, or a fragment that script swaps into it.
func (p *Portal) renderPart(w http.ResponseWriter, r *http.Request, status int, name, part string, data any) error {
	v := view{Lang: p.lang(r), User: userFrom(r.Context()), Path: r.URL.Path, Data: data, loc: p.cfg.TimeZone, now: p.clk.Now()}
	if r.Method != http.MethodGet || !strings.HasPrefix(v.Path, "/") {
		v.Path = "/"
	}
	var buf bytes.Buffer
	if err := p.pages[name].ExecuteTemplate(&buf, part, v); err != nil {
		p.log.ErrorContext(r.Context(), "portal: render", "page", name, "err", err)
		if name == "error" {
			http.Error(w, "Internal error", http.StatusInternalServerError)
			return nil
		}
		return fmt.Errorf("portal: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// portalHeaders: the strictest CSP the pages work with (no script at all,
// styles and images from us only), and no caching of any portal page,
// since nearly all show case data.
func portalHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("Cache-Control", "no-store")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

func staticFiles() http.Handler {
	sub, err := fs.Sub(templates.Static, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
