// Package referral owns the service directory and what happens to a need
// once she consents: routing to a provider, the referral state machine, its
// SLA timers and escalation as River jobs (referral.dispatch,
// referral.ack_deadline, referral.serve_deadline), provider replies by SMS
// code, and the provider packet.
//
// It owns the organization, service, referral, referral_event,
// provider_reply_limit and provider_code_miss tables; other packages ask
// through its API (the hotline queues QueueProviderCheck in its own
// pipeline rather than running referral's SQL). Its jobs in River's table
// are removed with River's JobDeleteManyTx.
//
// It depends inward only: casefile for the case facts it routes on, roster
// for who on call is alerted, and internal/jobs for River. What it wants
// said, to providers, staff or her, goes through the Notifier it defines
// and package sms implements, so referral never imports sms, hotline or
// net/http, and every notice commits with the state change that needs it.
//
// The Service is split by concern: service.go (its types and options),
// transition.go (every state move, through move and the transitions table
// in status.go), escalate.go (escalation and a need nobody can take) and
// query.go (reads that change nothing).
//
// Its SQL is in queries/*.sql, turned into Go in internal/referraldb by
// sqlc (make generate); being internal, nothing outside referral can run
// it. QueueProviderCheck hands the hotline the generated text of one query
// (referraldb.ProviderPhone), never a string of its own. Two statements
// stay SQL written in Go, each saying why: the SLA board's counts and rows
// (Board), whose filters are chosen at run time for the planner, and the
// one update of River's own river_job table (dropJobs).
package referral
