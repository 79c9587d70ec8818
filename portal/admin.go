package portal

import (
	"net/http"
	"slices"

	"github.com/amparo/amparo/roster"
)

// adminOnly asks Decide whether the signed-in user may take the
// administrative action a.
func adminOnly(r *http.Request, a Action) (User, error) {
	u := userFrom(r.Context())
	return u, Decide(u, a, nil)
}

// done reads the ?done= of a page an administrative form redirected to:
// one of the outcomes the page knows, or none, so that a crafted link
// cannot make the page claim something happened.
func done(r *http.Request, known ...string) string {
	if d := r.URL.Query().Get("done"); slices.Contains(known, d) {
		return d
	}
	return ""
}

// IsSet reads an optional flag of the directory file, such as a service's
// "active", whose absence means true.
func (v view) IsSet(b *bool) bool { return b == nil || *b }

// Mask shows a staff phone as the roster's readers and the audit log see
// it: its last three digits.
func (v view) Mask(phone string) string { return roster.MaskPhone(phone) }
