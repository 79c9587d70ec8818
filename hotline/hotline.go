// Package hotline is the survivor's first contact: Twilio's SMS, voice and
// status webhooks, the triage conversation around the pure state machine in
// hotline/triage, and abuse control. Texts the system starts go through
// package sms (its Outbox queues them, its Sender hands them to Twilio and
// takes the status callbacks this package authenticates); the hotline never
// calls Twilio's REST API itself. Who is on call comes from package roster.
//
// It owns inbound_message, conversation, voice_call, voice_event,
// caller_rate, caller_block and danger_alert; it reaches cases, referrals,
// texts and the roster only through casefile, referral, sms and roster.
//
// Every webhook is authenticated (X-Twilio-Signature over AMPARO_PUBLIC_URL)
// and size-bounded before anything else happens. An inbound SMS is handled in
// one transaction: its MessageSid row, the conversation step, every effect
// (cases, referrals, alerts, outbound rows and their jobs) and the reply we
// answer with all commit together or not at all, so a duplicated webhook,
// however many copies arrive at once, changes nothing twice and gets the
// same answer. That transaction has an explicit API (webhookTx) for its
// first and last round trips; casefile, referral and River get pgx's own Tx
// on it. Message bodies and phone numbers never reach a table, a job, a log
// line or an error in the clear: bodies and states are sealed under
// per-row or per-conversation data keys; callers are found by blind index.
//
// Its SQL is in queries/*.sql, turned into Go in internal/hotlinedb by sqlc
// (make generate); being internal, nothing outside hotline can run it. The
// webhook's pipelines queue hotlinedb's exported query texts by hand.
package hotline

import (
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // survivors' hours are read in the directory's zone, on any host

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twilio/twilio-go/client"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/hotline/triage"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/jobs"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/roster"
	"github.com/amparo/amparo/sms"
)

var alphanumeric = regexp.MustCompile(`^[a-zA-Z0-9]+$`)

// Config is the hotline's part of the environment.
type Config struct {
	PublicURL  string // AMPARO_PUBLIC_URL: what Twilio signs webhooks over
	AuthToken  string // TWILIO_AUTH_TOKEN
	AccountSID string // TWILIO_ACCOUNT_SID
	FromNumber string // TWILIO_FROM_NUMBER: the caller id of calls put through
	// BodyLimit bounds a webhook body; 0 means 64 KiB (a real SMS webhook
	// is under 4 KiB).
	BodyLimit int64
	// RateLimit messages per RateWindow are processed for one caller; more
	// are recorded and not answered. 0 means 40 per 10 minutes: a
	// complete triage takes about 15.
	RateLimit  int
	RateWindow time.Duration
	// IdleAfter is how long a conversation may wait for her next message
	// before it is treated as abandoned; 0 means triage.IdleTimeout.
	IdleAfter time.Duration
	// DangerAnswerWithin is how long a danger alert waits for an on-call
	// "OK <code>" before it goes to the supervisor and the fallback duty
	// phones; 0 means 10 minutes.
	DangerAnswerWithin time.Duration
	// Zone is where survivors are (AMPARO_TIME_ZONE): "yesterday" and the
	// deadlines she is told are read in it. nil means DefaultZone.
	Zone *time.Location
	Log  *slog.Logger
}

// Deps are the hotline's collaborators, each built before it.
type Deps struct {
	Pool      *pgxpool.Pool
	Cases     *casefile.Store
	Referrals *referral.Service
	Outbox    *sms.Outbox // the hotline's own staff alerts
	Sender    *sms.Sender // takes the status callbacks
	Roster    *roster.Roster
	Jobs      jobs.Inserter
	Keys      crypto.KeyWrapper
	Index     *crypto.BlindIndex
	Clock     clock.Clock
}

// Hotline serves the Twilio webhooks and runs the send job.
type Hotline struct {
	cfg       Config
	pool      *pgxpool.Pool
	cases     *casefile.Store
	referrals *referral.Service
	out       *sms.Outbox
	sender    *sms.Sender
	roster    *roster.Roster
	jobs      jobs.Inserter
	keys      crypto.KeyWrapper
	index     *crypto.BlindIndex
	clk       clock.Clock
	log       *slog.Logger
	validator client.RequestValidator
	places    *places
}

// New checks cfg and builds the hotline.
func New(cfg Config, d Deps) (*Hotline, error) {
	if cfg.PublicURL == "" || cfg.AuthToken == "" || cfg.AccountSID == "" {
		return nil, errors.New("hotline: AMPARO_PUBLIC_URL, TWILIO_AUTH_TOKEN and TWILIO_ACCOUNT_SID are required")
	}
	// twilio-go refuses such credentials at every send; better to refuse
	// to start than to fail every message.
	if !alphanumeric.MatchString(cfg.AuthToken) || !alphanumeric.MatchString(cfg.AccountSID) {
		return nil, errors.New("hotline: TWILIO_AUTH_TOKEN and TWILIO_ACCOUNT_SID must be letters and digits")
	}
	if d.Pool == nil || d.Cases == nil || d.Referrals == nil || d.Outbox == nil || d.Sender == nil || d.Roster == nil || d.Jobs == nil || d.Keys == nil || d.Index == nil || d.Clock == nil {
		return nil, errors.New("hotline: missing dependency")
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 64 << 10
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = 40
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = 10 * time.Minute
	}
	if cfg.IdleAfter <= 0 {
		cfg.IdleAfter = triage.IdleTimeout
	}
	if cfg.DangerAnswerWithin <= 0 {
		cfg.DangerAnswerWithin = 10 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Zone == nil {
		zone, err := time.LoadLocation(DefaultZone)
		if err != nil {
			return nil, err
		}
		cfg.Zone = zone
	}
	return &Hotline{
		cfg: cfg, pool: d.Pool, cases: d.Cases, referrals: d.Referrals, out: d.Outbox, sender: d.Sender, roster: d.Roster, jobs: d.Jobs,
		keys: d.Keys, index: d.Index, clk: d.Clock, log: cfg.Log,
		validator: client.NewRequestValidator(cfg.AuthToken), places: &places{zone: cfg.Zone},
	}, nil
}
