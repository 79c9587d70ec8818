// Package sms is the hotline's SMS provider: every text the system starts
// (provider notices and withdrawals, staff alerts, texts to a survivor)
// goes through its outbox, its sender job hands it to Twilio, and Twilio's
// status callbacks move it on. It is the only code that calls Twilio's REST
// API (sending, and redacting and deleting what Twilio keeps), and it
// applies her safe-contact profile to every text to a survivor, when queued
// and again when due. The simulated carrier (sms/carrier) implements the
// same API for `amparo demo` and tests.
//
// It owns the outbound_message and sms_opt_out tables: no other package
// reads or writes them except through this API (hotline records her
// SALIR with Outbox.Stop, and lifts it with Outbox.Resume). A text exists if and only if the act that caused
// it commits: every queueing call takes the caller's pgx.Tx and writes the
// sealed row and its River job there.
//
// Who calls whom, and why it is built in three parts, in this order:
//
//   - Outbox queues texts. It needs only keys, a job queue and a clock, so
//     casefile's erase hooks (referral's withdrawals) can hold it before
//     the case store exists.
//   - Notifier is the Outbox plus what a text to her needs: the case store
//     for her number and what she allowed. It implements referral.Notifier,
//     which is how referral, which never imports sms, says what to tell
//     providers, staff and her.
//   - Sender is the send job, the status callbacks and the Twilio client.
//     A text that will not arrive raises the alarm through referral (a
//     provider notice escalates) or casefile (an urgent task), so it comes
//     after the referral service.
//
// hotline asks the Outbox for its own staff alerts and hands Twilio's status
// callbacks to the Sender; it never imports twilio-go's REST client.
//
// Its SQL is in queries/*.sql, turned into Go in internal/smsdb by sqlc
// (make generate); being internal, nothing outside sms can run it.
package sms

import (
	"time"

	"github.com/google/uuid"
)

// How long a message stays worth sending. A provider notice older than its
// acknowledge window only confuses (referral escalation has moved on); a staff
// alert is about "now"; a message to her must not arrive a day late, when her
// situation (and who holds her phone) may have changed.
const (
	ProviderNoticeTTL = 2 * time.Hour
	StaffAlertTTL     = 30 * time.Minute
	SurvivorTTL       = 24 * time.Hour
	// A provider that accepted a request may act on it a day later: its
	// withdrawal is worth delivering late rather than never.
	WithdrawalTTL = 24 * time.Hour
)

// Message is a text the system starts, as the Outbox queues it.
type Message struct {
	Purpose    Purpose
	ReferralID *uuid.UUID
	CaseID     *uuid.UUID
	To         string // E.164
	Body       string
	TTL        time.Duration
	Delay      time.Duration // from now until it may be sent
}

// Config is the Twilio account the Sender uses.
type Config struct {
	PublicURL  string // AMPARO_PUBLIC_URL: status callbacks come back to it
	AuthToken  string // TWILIO_AUTH_TOKEN
	AccountSID string // TWILIO_ACCOUNT_SID
	FromNumber string // TWILIO_FROM_NUMBER
	APIURL     string // TWILIO_API_URL; empty means Twilio itself
}
