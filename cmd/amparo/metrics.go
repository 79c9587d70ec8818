package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/jobs"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/sms"
)

// statsCollector reports, at each scrape, the work the service owes people:
// open referrals and stalled ones, caseworker tasks, texts waiting to go
// out, and River's queue, whose jobs are the timers. A queue that stops
// draining shows here long before anyone misses an escalation. Labels are
// statuses only. The queries are aggregates, bounded by statsTimeout, so a
// slow database costs a scrape and nothing else.
type statsCollector struct {
	pool      *pgxpool.Pool
	cases     *casefile.Store
	referrals *referral.Service
	sender    *sms.Sender
	clock     clock.Clock
	log       *slog.Logger
}

const statsTimeout = 2 * time.Second

var (
	descReferralsOpen = prometheus.NewDesc("amparo_referrals_open", "Open referrals by status.", []string{"status"}, nil)
	descAckStalled    = prometheus.NewDesc("amparo_referrals_ack_stalled",
		"Pending or notified referrals over a minute past their acknowledge-by time and not escalated: their escalation job has not run.", nil, nil)
	descServeOverdue  = prometheus.NewDesc("amparo_referrals_serve_overdue", "Open referrals past their serve-by time.", nil, nil)
	descFollowUpsOpen = prometheus.NewDesc("amparo_followups_open", "Open caseworker tasks.", []string{"urgency"}, nil)
	descOutboxPending = prometheus.NewDesc("amparo_outbox_pending", "Texts queued and not yet handed to Twilio, including those waiting for the hours a survivor allowed.", nil, nil)
	descOutboxOldest  = prometheus.NewDesc("amparo_outbox_oldest_due_seconds", "How long the oldest text that may be sent now has waited.", nil, nil)
	descJobs          = prometheus.NewDesc("amparo_jobs", "Unfinished River jobs by state.", []string{"state"}, nil)
	descJobsOldest    = prometheus.NewDesc("amparo_jobs_oldest_due_seconds", "How long the oldest River job that may run now has waited.", nil, nil)
	descStatsUp       = prometheus.NewDesc("amparo_stats_up", "1 when every amparo_ count could be read at this scrape, 0 otherwise.", nil, nil)
)

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descReferralsOpen, descAckStalled, descServeOverdue, descFollowUpsOpen,
		descOutboxPending, descOutboxOldest, descJobs, descJobsOldest, descStatsUp} {
		ch <- d
	}
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	up := 1.0
	failed := func(what string, err error) bool {
		if err != nil {
			c.log.Warn("metrics: cannot read "+what, "err", err)
			up = 0
		}
		return err != nil
	}

	if st, err := c.referrals.Stats(ctx, c.pool); !failed("referrals", err) {
		for status, n := range st.Open {
			gauge(descReferralsOpen, float64(n), string(status))
		}
		gauge(descAckStalled, float64(st.AckStalled))
		gauge(descServeOverdue, float64(st.ServeOverdue))
	}
	if urgent, routine, err := c.cases.OpenFollowUps(ctx, c.pool); !failed("follow-ups", err) {
		gauge(descFollowUpsOpen, float64(urgent), "urgent")
		gauge(descFollowUpsOpen, float64(routine), "routine")
	}
	if st, err := c.sender.OutboxStats(ctx); !failed("outbox", err) {
		gauge(descOutboxPending, float64(st.Pending))
		gauge(descOutboxOldest, st.OldestDue.Seconds())
	}
	if st, err := jobs.Stats(ctx, c.pool, c.clock.Now()); !failed("jobs", err) {
		for state, n := range st.ByState {
			gauge(descJobs, float64(n), state)
		}
		gauge(descJobsOldest, st.OldestDue.Seconds())
	}
	gauge(descStatsUp, up)
}
