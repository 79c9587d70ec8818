package portal

import (
	"encoding/json"
	"net/http"

	"github.com/amparo/amparo/referral"
)

// directoryExport downloads the directory as `amparo directory export`
// prints it: the file that, edited and uploaded again, changes the
// directory.
func (p *Portal) directoryExport(w http.ResponseWriter, r *http.Request) error {
	if _, err := adminOnly(r, ActManageDirectory); err != nil {
		return err
	}
	d, err := referral.ExportDirectory(r.Context(), p.pool)
	if err != nil {
		return err
	}
	body, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="directory.json"`)
	_, err = w.Write(append(body, '\n'))
	return err
}
