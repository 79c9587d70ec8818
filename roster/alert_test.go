package roster

import (
	"testing"

	"github.com/amparo/amparo/templates"
)

// Every kind a staff alert can have has a text in both catalogues that
// renders with its reference, and a kind with none is refused.
func TestEveryAlertKindHasText(t *testing.T) {
	kinds := []AlertKind{AlertDangerNow, AlertEscalated, AlertServeDeadlineNear, AlertServeDeadlineMissed,
		AlertNoProvider, AlertCallback, AlertCodesLocked}
	for _, kind := range kinds {
		key, ok := kind.CatalogueKey()
		if !ok {
			t.Errorf("no text for staff alert %q", kind)
			continue
		}
		args := map[string]string{"ref": "AMP-1"}
		if kind == AlertDangerNow {
			args["code"] = "1000"
		}
		for _, lang := range []string{templates.ES, templates.EN} {
			if _, err := templates.Render(lang, key, args); err != nil {
				t.Error(err)
			}
		}
		if len(alertRoles[kind]) == 0 {
			t.Errorf("nobody is named to answer staff alert %q", kind)
		}
	}
	if _, ok := AlertKind("nope").CatalogueKey(); ok {
		t.Error("unknown kind accepted")
	}
}
