package sms

// The words the outbox's rows are written in. Each is a Go type with one
// constant per value, spelled exactly as outbound_message spells it;
// vocab_test.go reads the migrated schema and fails when they drift apart.

// Purpose says what a text is for; each fails differently (see
// deliveryFailed).
type Purpose string

// Purposes, as the outbound_message.purpose column spells them.
const (
	PurposeProvider   Purpose = "provider_notice"
	PurposeWithdrawal Purpose = "provider_withdrawal"
	PurposeStaff      Purpose = "staff_alert"
	PurposeSurvivor   Purpose = "survivor"
)

// Purposes lists every Purpose.
var Purposes = []Purpose{PurposeProvider, PurposeWithdrawal, PurposeStaff, PurposeSurvivor}

// Status is where a text stands: pending until the sender hands it to
// Twilio, then Twilio's own MessageStatus words, or one of ours (canceled,
// expired) for a text that never went.
type Status string

// Statuses of outbound_message.status.
const (
	StatusPending     Status = "pending"
	StatusAccepted    Status = "accepted"
	StatusScheduled   Status = "scheduled"
	StatusQueued      Status = "queued"
	StatusSending     Status = "sending"
	StatusSent        Status = "sent"
	StatusDelivered   Status = "delivered"
	StatusUndelivered Status = "undelivered"
	StatusFailed      Status = "failed"
	StatusCanceled    Status = "canceled"
	StatusExpired     Status = "expired"
)

// Statuses lists every Status.
var Statuses = []Status{StatusPending, StatusAccepted, StatusScheduled, StatusQueued, StatusSending, StatusSent,
	StatusDelivered, StatusUndelivered, StatusFailed, StatusCanceled, StatusExpired}

// statusRank orders delivery states so a row only moves forward. Terminal
// states share the top rank: none replaces another.
var statusRank = map[Status]int16{
	StatusPending: 0, StatusAccepted: 1, StatusScheduled: 1, StatusQueued: 2, StatusSending: 3, StatusSent: 4,
	StatusDelivered: 9, StatusUndelivered: 9, StatusFailed: 9, StatusCanceled: 9, StatusExpired: 9,
}

func (s Status) isFailure() bool { return s == StatusUndelivered || s == StatusFailed }
