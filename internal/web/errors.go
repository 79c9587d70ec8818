package web

import (
	"errors"
	"net/http"
)

// The ways a request is refused. A surface's errors wrap one of these (or
// are mapped to one where the domain defines them), and Status turns it
// into a status code: so one function decides 400, 403, 404, 413 and 500
// for every surface, webhooks and portal alike.
var (
	ErrBadRequest = errors.New("bad request")
	ErrForbidden  = errors.New("forbidden")
	ErrNotFound   = errors.New("not found")
)

// Status is the one status mapper: the code that answers err. A body read
// past its limit is 413 wherever it was read; anything unclassified is a
// fault, 500.
func Status(err error) int {
	switch {
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case IsTooLarge(err):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// HandlerFunc is a handler that returns its error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle is the one adapter from a returned error to a response: serve
// answers it (a page for a browser, a bare status for Twilio), taking the
// code from Status, and logs it once. No handler writes an error itself.
func Handle(f HandlerFunc, serve func(w http.ResponseWriter, r *http.Request, err error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			serve(w, r, err)
		}
	}
}
