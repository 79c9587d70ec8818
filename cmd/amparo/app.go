package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/hotline"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/jobs"
	"github.com/amparo/amparo/internal/queuehealth"
	"github.com/amparo/amparo/internal/web"
	"github.com/amparo/amparo/migrations"
	"github.com/amparo/amparo/portal"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/roster"
	"github.com/amparo/amparo/sms"
	"github.com/amparo/amparo/sms/carrier"
)

// appDeps is what buildApp needs from the subcommand that runs it.
type appDeps struct {
	cfg   config
	env   Env
	pool  *pgxpool.Pool
	log   *slog.Logger
	clock clock.Clock
	// sim, when set, is the simulated carrier of `amparo demo`: its API is
	// mounted at /carrier and the simulated phone page at /demo/phone.
	sim *carrier.Carrier
}

// keyringFilePrivate refuses a keyring file that group or others may read
// or replace: whoever can read it can open every case in any copy of the
// database, so a mode set loosely by a copy or an unpacked archive must stop
// the server, not be discovered later.
func keyringFilePrivate(env Env) error {
	path := env.Getenv(crypto.EnvKeyringFile)
	if path == "" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil // LoadKeyring reports a file it cannot read, with the reason
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s: %s has mode %#o: group or others can read or change it, and it must be private "+
			"to the service user; run `chmod 600 %s` (and check who owns it), then start again",
			crypto.EnvKeyringFile, path, perm, path)
	}
	return nil
}

// app is the wired system: one router for every surface and one River
// client for every worker.
type app struct {
	router    chi.Router
	river     *river.Client[pgx.Tx]
	driver    *riverpgxv5.Driver
	log       *slog.Logger
	cases     *casefile.Store
	referrals *referral.Service
	roster    *roster.Roster

	// metrics is served on its own listener at metricsAddr when that is
	// set, to keep it off the public one; otherwise router serves it.
	metrics     http.Handler
	metricsAddr string
}

// workersPerCopy bounds concurrent jobs in one process; with several copies
// the total grows with them, which is what scaling out is for.
const workersPerCopy = 20

func buildApp(ctx context.Context, d appDeps) (*app, error) {
	if err := keyringFilePrivate(d.env); err != nil {
		return nil, err
	}
	keyring, err := crypto.LoadKeyring(d.env.Getenv, d.env.ReadFile)
	if err != nil {
		return nil, err
	}
	index := keyring.BlindIndex()
	inserter := &jobs.Deferred{}
	// Each part is built once, after what it needs. The outbox only queues,
	// so the erase hooks can hold it before the case store exists; texts to
	// a survivor need the case store; the sender raises the alarm through
	// referral; the hotline needs them all.
	outbox := sms.NewOutbox(keyring, index, inserter, d.clock)
	cases := casefile.New(d.pool, keyring, index, d.clock, casefile.WithLogger(d.log), casefile.WithEraseHook(referral.EraseHook(outbox, inserter)),
		casefile.WithEraseHook(hotline.EraseHook(inserter, d.clock)), keyHolders(keyring))
	notifier := sms.NewNotifier(outbox, cases)
	if len(d.cfg.FallbackDuty) == 0 {
		d.log.Warn("AMPARO_FALLBACK_DUTY_NUMBERS is not set: with nobody on the on-call roster, or the database down, a caller in danger reaches no person")
	}
	duty := roster.New(d.clock, d.cfg.FallbackDuty)
	referrals := referral.New(d.pool, cases, inserter, notifier, d.clock, referral.WithLogger(d.log),
		referral.WithRoster(duty))
	sender, err := sms.NewSender(sms.Config{
		PublicURL:  d.cfg.PublicURL,
		AuthToken:  d.cfg.TwilioAuthToken,
		AccountSID: d.cfg.TwilioAccountSID,
		FromNumber: d.cfg.TwilioFromNumber,
		APIURL:     d.cfg.TwilioAPIURL,
	}, sms.SenderDeps{Pool: d.pool, Keys: keyring, Notifier: notifier, Referrals: referrals, Clock: d.clock, Log: d.log})
	if err != nil {
		return nil, err
	}
	line, err := hotline.New(hotline.Config{
		PublicURL:  d.cfg.PublicURL,
		AuthToken:  d.cfg.TwilioAuthToken,
		AccountSID: d.cfg.TwilioAccountSID,
		FromNumber: d.cfg.TwilioFromNumber,
		Zone:       d.cfg.TimeZone,
		Log:        d.log,
	}, hotline.Deps{
		Pool: d.pool, Cases: cases, Referrals: referrals, Outbox: outbox, Sender: sender, Roster: duty, Jobs: inserter,
		Keys: keyring, Index: index, Clock: d.clock,
	})
	if err != nil {
		return nil, err
	}

	workers := river.NewWorkers()
	casefile.AddWorkers(workers, cases)
	referral.AddWorkers(workers, referrals)
	hotline.AddWorkers(workers, line)
	sms.AddWorkers(workers, sender)
	audit.AddWorkers(workers, d.pool, d.log)
	driver := riverpgxv5.New(d.pool)
	rcfg := &river.Config{
		Logger: d.log,
		// River's defaults (1 s poll, 100 ms notification cooldown) put
		// most of a second between a consent and its provider notice under
		// load; these keep consent → notice p99 well under the 1 s target
		// (bench/README.md) at the cost of a few more cheap queries.
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: 200 * time.Millisecond,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workersPerCopy}},
		Workers:           workers,
		PeriodicJobs:      append(hotline.PeriodicJobs(), audit.PeriodicJobs()...),
		Middleware:        []rivertype.Middleware{&jobs.Confidential{}},
		// A job left 'running' by a killed process is retried only after
		// RescueStuckJobsAfter: River's default hour would let a danger alert
		// expire and a provider notice miss its acknowledge-by deadline.
		// Every job here finishes in seconds (a Twilio call is bounded at
		// 10 s; re-wrap snoozes itself after 20 s), and a rescued duplicate
		// is harmless because workers re-read and lock their row.
		JobTimeout:           time.Minute,
		RescueStuckJobsAfter: 2 * time.Minute,
		ReindexerIndexNames:  riverReindexes(ctx, d.pool, d.log, d.sim == nil),
	}
	if _, real := d.clock.(clock.Real); !real {
		// A demo on another clock: jobs come due on that clock, as the
		// texts they send are timed by it.
		rcfg.Test.Time = riverClock{d.clock}
	}
	client, err := river.NewClient(driver, rcfg)
	if err != nil {
		return nil, fmt.Errorf("river: %w", err)
	}
	inserter.Set(client)

	health := &queuehealth.Reader{Pool: d.pool, Cases: cases, Referrals: referrals, Outbox: outboxFigures{sender},
		Clock: d.clock, Log: d.log}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&statsCollector{health: health})
	r := web.NewRouter(d.log, readiness(d.pool), reg)
	metrics := web.Metrics(reg)
	if d.cfg.MetricsAddr == "" {
		r.Method(http.MethodGet, "/metrics", metrics)
	}
	line.Routes(r)
	// The demo serves plain HTTP on localhost, so only it drops Secure cookies.
	staff, err := portal.New(ctx, portal.Config{InsecureCookies: d.sim != nil, Demo: d.sim != nil, Log: d.log, TimeZone: d.cfg.TimeZone},
		portal.Deps{Pool: d.pool, Keys: keyring, Cases: cases, Referrals: referrals, Clock: d.clock,
			Messenger: survivorMessenger{notifier}, Health: health, Blocks: callerBlocks{line}})
	if err != nil {
		return nil, err
	}
	staff.Routes(r)
	if d.sim != nil {
		line.DemoRoutes(r, d.sim)
		// The carrier serves Twilio's paths (/2010-04-01/...) under /carrier.
		r.Mount("/carrier", http.StripPrefix("/carrier", d.sim))
	}
	return &app{router: r, metrics: metrics, metricsAddr: d.cfg.MetricsAddr, river: client, driver: driver, log: d.log, cases: cases, referrals: referrals, roster: duty}, nil
}

// riverReindexes keeps River's nightly REINDEX of its job indexes where this
// role may run it. REINDEX needs the table's owner, and serve should run as a
// role that owns nothing (README: least privilege), so there River would fail
// every night; the owner's maintenance (the README's timer) reindexes instead.
// With the database unreachable at start-up River's default stands. The
// demo's private cluster has one role, so it is not warned about.
func riverReindexes(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger, warnOwner bool) []string {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	owner, err := migrations.OwnsSchema(ctx, pool)
	if err != nil {
		return nil
	}
	if owner {
		if !warnOwner {
			return nil
		}
		log.Warn("serve runs as the owner of the schema: give it a role of its own (amparo migrate -grant-to ROLE)")
		return nil
	}
	return []string{}
}

// riverClock gives River the app's clock.
type riverClock struct{ clock.Clock }

func (c riverClock) NowOrNil() *time.Time {
	t := c.Now()
	return &t
}
