package portal

import (
	"net/http"

	qrcode "github.com/skip2/go-qrcode"
)

// enrolQR serves the enrolment QR code of the account whose password was
// just given, until its first code is accepted; never afterwards.
func (p *Portal) enrolQR(w http.ResponseWriter, r *http.Request) error {
	id, ok := p.pendingUser(r.Context())
	if !ok {
		return errNotFound
	}
	uri, err := p.enrolmentURI(r.Context(), id)
	if err != nil {
		return err
	}
	png, err := qrcode.Encode(uri, qrcode.Medium, 256)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	_, err = w.Write(png)
	return err
}
