package portal

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/internal/web"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/roster"
)

// Typed errors a handler returns; serveError maps them to a status.
var (
	// errNotFound: no such thing, or nothing this user may see. The two
	// answer alike so that a case outside her scope does not exist for her.
	errNotFound = errors.New("portal: not found")
	// errForbidden: the thing is in her scope but her role may not do this.
	errForbidden = errors.New("portal: forbidden")
	// errBadRequest: a form field is missing or malformed.
	errBadRequest = errors.New("portal: bad request")
)

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle is the one adapter from a handler's error to a response.
func (p *Portal) handle(f handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			p.serveError(w, r, err)
		}
	}
}

// serveError answers err with a short page and the request id. It logs err
// (which carries ids, never content) once; the page never shows it.
func (p *Portal) serveError(w http.ResponseWriter, r *http.Request, err error) {
	status, key := http.StatusInternalServerError, "error.internal"
	switch {
	case errors.Is(err, errNotFound), errors.Is(err, casefile.ErrNotFound), errors.Is(err, casefile.ErrErased),
		errors.Is(err, referral.ErrNotFound), errors.Is(err, ErrUnknownUser), errors.Is(err, roster.ErrNotFound):
		status, key = http.StatusNotFound, "error.not_found"
	case errors.Is(err, errForbidden):
		status, key = http.StatusForbidden, "error.forbidden"
	case web.IsTooLarge(err):
		status, key = http.StatusRequestEntityTooLarge, "error.too_large"
	case errors.Is(err, errBadRequest), errors.Is(err, casefile.ErrInvalidInput), errors.Is(err, referral.ErrIllegalTransition):
		status, key = http.StatusBadRequest, "error.bad_request"
	}
	id := middleware.GetReqID(r.Context())
	if status == http.StatusInternalServerError {
		p.log.ErrorContext(r.Context(), "portal: request failed", "request_id", id, "route", r.Pattern, "err", err)
	} else {
		p.log.InfoContext(r.Context(), "portal: request refused", "request_id", id, "status", status, "err", err)
	}
	p.renderStatus(w, r, status, "error", errorPage{Key: key, RequestID: id})
}

type errorPage struct {
	Key       string
	RequestID string
}

// sessionError is scs's error hook: a session store failure is a 500.
func (p *Portal) sessionError(w http.ResponseWriter, r *http.Request, err error) {
	p.serveError(w, r, err)
}
