package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/jobs"
	"github.com/amparo/amparo/internal/web"
	"github.com/amparo/amparo/migrations"
)

// Shutdown bounds: requests get the first, jobs the second, then running
// jobs are cancelled (River retries them later: jobs are at-least-once).
const (
	requestGrace = 15 * time.Second
	jobGrace     = 10 * time.Second
)

func runServe(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("serve", "Serve the Twilio webhooks, the portal and /healthz, /readyz, /metrics\n(on AMPARO_METRICS_ADDR when set), and run the River job workers, until SIGTERM or SIGINT.", env)
	migrate := fs.Bool("migrate", false, "apply migrations before serving")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	cfg, log, pool, ok := connect(ctx, "serve", env, needs{web: true, twilio: true})
	if !ok {
		return exitFail
	}
	defer pool.Close()
	if *migrate {
		if err := migrations.Up(ctx, pool, log); err != nil {
			fmt.Fprintln(env.Stderr, "amparo serve:", err)
			return exitFail
		}
	}
	a, err := buildApp(ctx, appDeps{cfg: cfg, env: env, pool: pool, log: log, clock: clock.Real{}})
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo serve:", err)
		return exitFail
	}
	if err := a.run(ctx, cfg.Addr, nil); err != nil {
		log.Error("serve", "err", err)
		return exitFail
	}
	return exitOK
}

// run binds addr (and the metrics address, if set), starts the workers and
// the web servers, calls listening (if set) once requests can be accepted,
// and, once ctx ends, stops accepting, drains requests, then stops the
// workers within their bound.
func (a *app) run(ctx context.Context, addr string, listening func()) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	var mln net.Listener
	if a.metricsAddr != "" {
		if mln, err = net.Listen("tcp", a.metricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("AMPARO_METRICS_ADDR: %w", err)
		}
	}
	if err := a.river.Start(ctx); err != nil {
		ln.Close()
		if mln != nil {
			mln.Close()
		}
		return fmt.Errorf("start workers: %w", err)
	}
	metricsDone := make(chan error, 1)
	if mln == nil {
		metricsDone <- nil
	} else {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.metrics)
		go func() { metricsDone <- web.Serve(ctx, web.NewServer(a.metricsAddr, mux, a.log), mln, requestGrace) }()
		a.log.Info("serving metrics", "addr", a.metricsAddr)
	}
	promoting, stopPromoting := context.WithCancel(ctx)
	defer stopPromoting()
	go jobs.PromoteDue(promoting, a.driver, a.log)
	srv := web.NewServer(addr, a.router, a.log)
	a.log.Info("serving", "addr", addr)
	if listening != nil {
		listening()
	}
	serveErr := web.Serve(ctx, srv, ln, requestGrace)
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	if err := <-metricsDone; serveErr == nil && err != nil && !errors.Is(err, http.ErrServerClosed) {
		serveErr = err
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), jobGrace)
	defer cancel()
	if err := a.river.Stop(stopCtx); err != nil {
		a.log.Warn("workers did not finish in time; cancelling them", "err", err)
		cancelCtx, cancel2 := context.WithTimeout(context.Background(), jobGrace)
		defer cancel2()
		_ = a.river.StopAndCancel(cancelCtx)
	}
	a.log.Info("stopped")
	return serveErr
}
