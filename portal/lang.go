package portal

import (
	"net/http"
	"strings"

	"github.com/amparo/amparo/templates"
)

// setLang remembers the chosen language in a cookie (it says nothing about
// anyone) and goes back to the page it was chosen on.
func (p *Portal) setLang(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errBadRequest
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: templates.Lang(r.PostForm.Get("lang")), Path: "/",
		HttpOnly: true, Secure: !p.cfg.InsecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
	back := r.PostForm.Get("back")
	// Only a path of ours: "//host" or "/\host" would leave the site.
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.HasPrefix(back, "/\\") {
		back = "/sign-in"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}
