package portal

import (
	"fmt"
	"io/fs"
	"regexp"
	"testing"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/templates"
)

// TestTemplatesUseOnlyKnownKeys: every literal key in a portal template,
// and every key a template builds from a value, is in the catalogue, so no
// page ever shows a bare key.
func TestTemplatesUseOnlyKnownKeys(t *testing.T) {
	literal := regexp.MustCompile(`\.Tf? "([a-z0-9_.]+)"`)
	files, err := fs.Glob(templates.FS, "html/portal/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v %v", files, err)
	}
	for _, f := range files {
		raw, _ := fs.ReadFile(templates.FS, f)
		for _, m := range literal.FindAllStringSubmatch(string(raw), -1) {
			if !templates.PortalHas(m[1]) {
				t.Errorf("%s uses unknown key %q", f, m[1])
			}
		}
	}
	var built []string
	for tier := casefile.TierNow; tier <= casefile.TierOther; tier++ {
		built = append(built, fmt.Sprintf("tier.%d", tier))
	}
	for _, s := range []casefile.Status{casefile.StatusOpen, casefile.StatusClosed, casefile.StatusErased} {
		built = append(built, "status."+string(s))
	}
	for _, n := range casefile.Needs {
		built = append(built, "need."+string(n))
	}
	for _, g := range casefile.IncidentTypes {
		built = append(built, "gbv."+string(g))
	}
	for _, r := range Roles {
		built = append(built, "role."+string(r))
	}
	for _, r := range openReasons {
		built = append(built, "reason."+r)
	}
	for _, k := range followUpKinds {
		built = append(built, "fukind."+string(k))
	}
	for _, r := range overrideReasons {
		built = append(built, "override."+r)
	}
	for _, s := range casefile.FollowUpStatuses {
		built = append(built, "fustatus."+string(s))
	}
	for _, s := range referral.Statuses {
		built = append(built, "refstatus."+string(s))
	}
	for _, k := range built {
		if !templates.PortalHas(k) {
			t.Errorf("missing key %q", k)
		}
	}
}
