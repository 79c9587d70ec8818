package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/amparo/amparo/internal/logging"
)

func newTestRouter(t *testing.T, ready ReadyCheck) (http.Handler, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	r := NewRouter(logging.New(&logs, slog.LevelDebug), ready, reg)
	r.Method(http.MethodGet, "/metrics", Metrics(reg))
	r.Get("/boom/{id}", func(http.ResponseWriter, *http.Request) {
		panic("narrative: she said +51987654321")
	})
	r.Post("/echo", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			if IsTooLarge(err) {
				http.Error(w, "too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return r, &logs
}

func do(h http.Handler, method, path string, body io.Reader) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, body))
	return rec
}

func TestPanicShowsOnlyAnIDAndLogsNoContent(t *testing.T) {
	h, logs := newTestRouter(t, func(context.Context) error { return nil })
	rec := do(h, http.MethodGet, "/boom/42", nil)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	if !strings.HasPrefix(body, "Internal error (id ") || strings.Contains(body, "narrative") {
		t.Errorf("error page = %q", body)
	}
	if strings.Contains(logs.String(), "narrative") || strings.Contains(logs.String(), "987654321") {
		t.Errorf("panic value reached the log: %s", logs)
	}
	if !strings.Contains(logs.String(), "panic serving request") {
		t.Errorf("panic not logged: %s", logs)
	}
}

func TestBodyLimit(t *testing.T) {
	h, _ := newTestRouter(t, func(context.Context) error { return nil })
	if rec := do(h, http.MethodPost, "/echo", strings.NewReader(strings.Repeat("a", DefaultBodyLimit+1))); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: status %d, want 413", rec.Code)
	}
	// A body that hides its length is cut off while it is read.
	req := httptest.NewRequest(http.MethodPost, "/echo", io.MultiReader(strings.NewReader(strings.Repeat("a", DefaultBodyLimit+1))))
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized chunked body: status %d, want 413", rec.Code)
	}
	if rec := do(h, http.MethodPost, "/echo", strings.NewReader("ok")); rec.Code != http.StatusNoContent {
		t.Errorf("small body: status %d", rec.Code)
	}
}

func TestReadinessAndHealth(t *testing.T) {
	var down error
	h, _ := newTestRouter(t, func(context.Context) error { return down })
	if rec := do(h, http.MethodGet, "/readyz", nil); rec.Code != http.StatusOK {
		t.Errorf("ready: %d", rec.Code)
	}
	down = errors.New("database: connection refused")
	if rec := do(h, http.MethodGet, "/readyz", nil); rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "refused") {
		t.Errorf("not ready: %d %q", rec.Code, rec.Body)
	}
	if rec := do(h, http.MethodGet, "/healthz", nil); rec.Code != http.StatusOK {
		t.Errorf("health while not ready: %d", rec.Code)
	}
}

func TestMetricsLabelRoutesNotPaths(t *testing.T) {
	h, _ := newTestRouter(t, func(context.Context) error { return nil })
	do(h, http.MethodGet, "/boom/51987654321", nil)
	do(h, http.MethodGet, "/no/such/51987654321", nil)
	metrics := do(h, http.MethodGet, "/metrics", nil).Body.String()
	if !strings.Contains(metrics, `route="/boom/{id}"`) || !strings.Contains(metrics, `route="unmatched"`) {
		t.Errorf("metrics lack route patterns:\n%s", metrics)
	}
	if strings.Contains(metrics, "51987654321") {
		t.Errorf("a path value reached a metric label")
	}
}

func TestSecurityHeaders(t *testing.T) {
	h, _ := newTestRouter(t, func(context.Context) error { return nil })
	rec := do(h, http.MethodGet, "/healthz", nil)
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("no CSP")
	}
}
