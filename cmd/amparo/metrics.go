package main

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/amparo/amparo/internal/queuehealth"
	"github.com/amparo/amparo/sms"
)

// statsCollector reports, at each scrape, the work the service owes people:
// open referrals and stalled ones, caseworker tasks, texts waiting to go
// out or failed, and River's queue, whose jobs are the timers. A queue that
// stops draining shows here long before anyone misses an escalation. Labels
// are statuses only. The figures are queuehealth's, the ones the portal's
// queue-health page shows.
type statsCollector struct{ health *queuehealth.Reader }

var (
	descReferralsOpen = prometheus.NewDesc("amparo_referrals_open", "Open referrals by status.", []string{"status"}, nil)
	descAckStalled    = prometheus.NewDesc("amparo_referrals_ack_stalled",
		"Pending or notified referrals over a minute past their acknowledge-by time and not escalated: their escalation job has not run.", nil, nil)
	descServeOverdue  = prometheus.NewDesc("amparo_referrals_serve_overdue", "Open referrals past their serve-by time.", nil, nil)
	descFollowUpsOpen = prometheus.NewDesc("amparo_followups_open", "Open caseworker tasks.", []string{"urgency"}, nil)
	descOutboxPending = prometheus.NewDesc("amparo_outbox_pending", "Texts queued and not yet handed to Twilio, including those waiting for the hours a survivor allowed.", nil, nil)
	descOutboxOldest  = prometheus.NewDesc("amparo_outbox_oldest_due_seconds", "How long the oldest text that may be sent now has waited.", nil, nil)
	descOutboxFailed  = prometheus.NewDesc("amparo_outbox_failed_last_hour", "Texts failed or undelivered in the last hour.", nil, nil)
	descJobs          = prometheus.NewDesc("amparo_jobs", "Unfinished River jobs by state.", []string{"state"}, nil)
	descJobsOldest    = prometheus.NewDesc("amparo_jobs_oldest_due_seconds", "How long the oldest River job that may run now has waited.", nil, nil)
	descStatsUp       = prometheus.NewDesc("amparo_stats_up", "1 when every amparo_ count could be read at this scrape, 0 otherwise.", nil, nil)
)

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descReferralsOpen, descAckStalled, descServeOverdue, descFollowUpsOpen,
		descOutboxPending, descOutboxOldest, descOutboxFailed, descJobs, descJobsOldest, descStatsUp} {
		ch <- d
	}
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	f := c.health.Read(context.Background())
	if f.Read("referrals") {
		for status, n := range f.Referrals.Open {
			gauge(descReferralsOpen, float64(n), string(status))
		}
		gauge(descAckStalled, float64(f.Referrals.AckStalled))
		gauge(descServeOverdue, float64(f.Referrals.ServeOverdue))
	}
	if f.Read("follow-ups") {
		gauge(descFollowUpsOpen, float64(f.FollowUpsUrgent), "urgent")
		gauge(descFollowUpsOpen, float64(f.FollowUpsRoutine), "routine")
	}
	if f.Read("outbox") {
		gauge(descOutboxPending, float64(f.Outbox.Pending))
		gauge(descOutboxOldest, f.Outbox.OldestDue.Seconds())
		gauge(descOutboxFailed, float64(f.Outbox.FailedLastHour))
	}
	if f.Read("jobs") {
		for state, n := range f.Jobs.ByState {
			gauge(descJobs, float64(n), state)
		}
		gauge(descJobsOldest, f.Jobs.OldestDue.Seconds())
	}
	up := 1.0
	if len(f.Unread) > 0 {
		up = 0
	}
	gauge(descStatsUp, up)
}

// outboxFigures gives queuehealth the outbox figures of sms's sender.
type outboxFigures struct{ sender *sms.Sender }

func (o outboxFigures) Outbox(ctx context.Context) (queuehealth.Outbox, error) {
	st, err := o.sender.OutboxStats(ctx)
	return queuehealth.Outbox{Pending: st.Pending, OldestDue: st.OldestDue, FailedLastHour: st.FailedLastHour}, err
}
