// Package web owns the HTTP plumbing every surface shares: the server with
// its timeouts and graceful shutdown, request ids, panic recovery that shows
// only "Internal error" and an id, body limits, security headers, health and
// readiness endpoints, request metrics whose labels are route patterns
// (never paths that could carry data), and the one way a handler's error
// becomes a response (Handle, Status), so the portal and the Twilio
// webhooks decide 400, 403, 404, 413 and 500 alike.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/amparo/amparo/internal/logging"
)

// DefaultBodyLimit bounds request bodies unless a route sets its own: Twilio
// webhooks and portal forms are a few KiB at most.
const DefaultBodyLimit = 64 << 10

// ReadyCheck reports whether the process can serve: nil when ready.
type ReadyCheck func(ctx context.Context) error

// NewRouter returns a chi router with the shared middleware and the health
// endpoints (/healthz, /readyz) mounted. Requests are counted in reg; where
// /metrics is served (this router or a private listener) is the caller's
// choice, with Metrics.
func NewRouter(log *slog.Logger, ready ReadyCheck, reg *prometheus.Registry) chi.Router {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, securityHeaders, instrument(reg), recoverer(log), limitBody(DefaultBodyLimit))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	r.Get("/readyz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := ready(ctx); err != nil {
			log.Warn("not ready", "request_id", middleware.GetReqID(req.Context()), "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return r
}

// CrossOrigin refuses (403) a state-changing request that the browser says
// comes from another site (Sec-Fetch-Site, or an Origin that is not the
// Host): a page elsewhere cannot make a signed-in or local browser post a
// form here. Every form a browser posts goes through it. Webhooks do not:
// Twilio is no browser, and its signature is what authenticates it.
func CrossOrigin(next http.Handler) http.Handler {
	return http.NewCrossOriginProtection().Handler(next)
}

// Metrics serves reg in Prometheus's text format.
func Metrics(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// NewServer returns an http.Server with timeouts that keep a slow or
// malicious client from holding connections open.
func NewServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// InternalError writes the only error page a user ever sees for a server
// fault: a fixed text and the request id to quote to support.
func InternalError(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, "Internal error (id %s)\n", middleware.GetReqID(r.Context()))
}

func limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// IsTooLarge reports whether err came from reading past a body limit, so a
// handler can answer 413 instead of 400.
func IsTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panic into InternalError. It logs where the panic
// happened (function names and lines) but not the panic value, which may
// hold whatever data the failing code was handling.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				rec := recover()
				if rec == nil {
					return
				}
				if rec == http.ErrAbortHandler {
					panic(rec)
				}
				log.Error("panic serving request",
					"request_id", middleware.GetReqID(r.Context()),
					"panic_type", fmt.Sprintf("%T", rec),
					"where", logging.PanicSite(3))
				InternalError(w, r)
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// instrument counts requests and their latency by route pattern and status.
func instrument(reg *prometheus.Registry) func(http.Handler) http.Handler {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "amparo_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
	}, []string{"route", "method", "status"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "amparo_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "method"})
	reg.MustRegister(requests, latency)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
			latency.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
		})
	}
}

// Serve runs srv on ln until ctx is cancelled, then shuts it down
// gracefully: stop accepting, let in-flight requests finish within grace.
// Taking a listener lets the caller report the address only once it is bound.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	return nil
}
