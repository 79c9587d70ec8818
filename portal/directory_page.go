package portal

import (
	"net/http"

	"github.com/amparo/amparo/referral"
)

// directoryData is the service directory page: what the database holds,
// and the outcome of an uploaded file, checked or applied.
type directoryData struct {
	Directory referral.Directory
	Upload    *directoryUpload
}

type directoryUpload struct {
	Applied  bool
	Changes  []referral.Change
	Problems []string // why the file was refused; nothing was written
	NoFile   bool     // the form came without a file
	File     string   // the checked file, carried to the apply button
}

// directoryPage shows every organisation and service, retired ones too,
// with the form to upload a directory file.
func (p *Portal) directoryPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := adminOnly(r, ActManageDirectory); err != nil {
		return err
	}
	return p.renderDirectory(w, r, http.StatusOK, nil)
}

func (p *Portal) renderDirectory(w http.ResponseWriter, r *http.Request, status int, up *directoryUpload) error {
	d, err := referral.ExportDirectory(r.Context(), p.pool)
	if err != nil {
		return err
	}
	return p.renderStatus(w, r, status, "admin_directory", directoryData{Directory: d, Upload: up})
}
