package portal

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/amparo/amparo/referral"
)

// maxDirectoryFile is what ImportDirectory reads of a file at most, with
// room for the multipart envelope around it.
const maxDirectoryFile = 4 << 20

// directoryImport checks or applies an uploaded directory file through the
// same ImportDirectory as `amparo directory import`: all or nothing, and
// audited as the administrator's act. "Check" writes nothing and shows the
// difference, with a button that applies exactly the file checked.
func (p *Portal) directoryImport(w http.ResponseWriter, r *http.Request) error {
	u, err := adminOnly(r, ActManageDirectory)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxDirectoryFile+64<<10)
	// The upload form is multipart; the apply button's form may not be.
	switch err := r.ParseMultipartForm(maxDirectoryFile); {
	case errors.Is(err, http.ErrNotMultipart):
		if err := r.ParseForm(); err != nil {
			return errors.Join(errBadRequest, err)
		}
	case err != nil:
		return errors.Join(errBadRequest, err)
	default:
		defer r.MultipartForm.RemoveAll()
	}
	file := r.PostFormValue("directory")
	if f, _, err := r.FormFile("file"); err == nil {
		raw, err := io.ReadAll(io.LimitReader(f, maxDirectoryFile+1))
		f.Close()
		if err != nil {
			return err
		}
		file = string(raw)
	}
	if strings.TrimSpace(file) == "" {
		return p.renderDirectory(w, r, http.StatusBadRequest, &directoryUpload{NoFile: true})
	}
	apply := r.PostFormValue("mode") == "apply"
	changes, err := referral.ImportDirectory(r.Context(), p.pool, strings.NewReader(file), !apply, u.ID.String(), p.now())
	if invalid, ok := errors.AsType[*referral.InvalidDirectoryError](err); ok {
		return p.renderDirectory(w, r, http.StatusUnprocessableEntity, &directoryUpload{Problems: invalid.Problems()})
	}
	if err != nil {
		return err
	}
	up := &directoryUpload{Applied: apply, Changes: changes}
	if !apply {
		up.File = file
	}
	return p.renderDirectory(w, r, http.StatusOK, up)
}
