package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// One mapper answers every surface's refusals, through the wrapping each
// surface adds, and anything it does not know is a fault.
func TestStatus(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("portal: %w", ErrNotFound), http.StatusNotFound},
		{fmt.Errorf("hotline: signature: %w", ErrForbidden), http.StatusForbidden},
		{fmt.Errorf("read form: %w", &http.MaxBytesError{Limit: 1}), http.StatusRequestEntityTooLarge},
		{errors.Join(errors.New("casefile: invalid input"), ErrBadRequest), http.StatusBadRequest},
		{errors.Join(ErrBadRequest, ErrNotFound), http.StatusNotFound},
		{errors.New("pool closed"), http.StatusInternalServerError},
	} {
		if got := Status(c.err); got != c.want {
			t.Errorf("Status(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestHandleServesOnlyErrors(t *testing.T) {
	t.Parallel()
	var served []error
	serve := func(w http.ResponseWriter, _ *http.Request, err error) {
		served = append(served, err)
		w.WriteHeader(Status(err))
	}
	ok := Handle(func(w http.ResponseWriter, _ *http.Request) error { w.WriteHeader(http.StatusNoContent); return nil }, serve)
	refused := Handle(func(http.ResponseWriter, *http.Request) error { return ErrForbidden }, serve)
	rec := httptest.NewRecorder()
	ok(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusNoContent || len(served) != 0 {
		t.Fatalf("a handler that succeeded: %d, served %v", rec.Code, served)
	}
	rec = httptest.NewRecorder()
	refused(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusForbidden || len(served) != 1 || served[0] != ErrForbidden {
		t.Fatalf("a refused request: %d, served %v", rec.Code, served)
	}
}
