package portal

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/internal/web"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/roster"
)

// Typed errors a handler returns; web.Status maps them to a status.
var (
	// errNotFound: no such thing, or nothing this user may see. The two
	// answer alike so that a case outside her scope does not exist for her.
	errNotFound = fmt.Errorf("portal: %w", web.ErrNotFound)
	// errForbidden: the thing is in her scope but her role may not do this.
	errForbidden = fmt.Errorf("portal: %w", web.ErrForbidden)
	// errBadRequest: a form field is missing or malformed.
	errBadRequest = fmt.Errorf("portal: %w", web.ErrBadRequest)
)

// handle is the portal's use of the one adapter, web.Handle.
func (p *Portal) handle(f web.HandlerFunc) http.HandlerFunc { return web.Handle(f, p.serveError) }

// domainRefusals are the domain's typed errors a request may meet, by the
// way of refusal each answers as: an erased case, or an unknown user, does
// not exist for whoever asks.
var domainRefusals = []struct{ domain, as error }{
	{casefile.ErrNotFound, web.ErrNotFound},
	{casefile.ErrErased, web.ErrNotFound},
	{referral.ErrNotFound, web.ErrNotFound},
	{ErrUnknownUser, web.ErrNotFound},
	{roster.ErrNotFound, web.ErrNotFound},
	{casefile.ErrInvalidInput, web.ErrBadRequest},
	{referral.ErrIllegalTransition, web.ErrBadRequest},
}

// errorKeys are the error page's texts by status.
var errorKeys = map[int]string{
	http.StatusNotFound:              "error.not_found",
	http.StatusForbidden:             "error.forbidden",
	http.StatusRequestEntityTooLarge: "error.too_large",
	http.StatusBadRequest:            "error.bad_request",
	http.StatusInternalServerError:   "error.internal",
}

// serveError answers err with a short page and the request id. It logs err
// (which carries ids, never content) once; the page never shows it.
func (p *Portal) serveError(w http.ResponseWriter, r *http.Request, err error) {
	classified := err
	for _, d := range domainRefusals {
		if errors.Is(err, d.domain) {
			classified = errors.Join(err, d.as)
			break
		}
	}
	status := web.Status(classified)
	key := errorKeys[status]
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
