package sms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// sidPattern is Twilio's resource sid: two letters and 32 hex digits.
var sidPattern = regexp.MustCompile(`^[A-Z]{2}[0-9a-f]{32}$`)

// Twilio keeps a log of every message (numbers and body) and every call
// (numbers, times) until the account deletes it. When her data is erased,
// and when a message or call passes its retention, sms asks Twilio
// to forget it too: a message's body is redacted, then the message is
// deleted; a call record is deleted. Each is a River job of its own, so a
// Twilio outage is retried (River's backoff, for days) without holding up
// the erasure; a job carries the Twilio sid alone, never a number or body.

// PurgeArgs is the sms.twilio_purge job: exactly one of the sids.
type PurgeArgs struct {
	MessageSID string `json:"message_sid,omitempty"`
	CallSID    string `json:"call_sid,omitempty"`
}

// Kind implements river.JobArgs.
func (PurgeArgs) Kind() string { return "sms.twilio_purge" }

// InsertOpts makes asking twice for one sid (her erasure, then retention)
// one job while it waits, runs or is done.
func (PurgeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStateCompleted,
	}}}
}

type purgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	s *Sender
}

func (w *purgeWorker) Work(ctx context.Context, job *river.Job[PurgeArgs]) error {
	return w.s.Purge(job.Args)
}

// Purge redacts and deletes a message, or deletes a call; the
// sms.twilio_purge job calls it. It is idempotent: a record Twilio no
// longer has is done.
func (s *Sender) Purge(a PurgeArgs) error {
	switch {
	case sidPattern.MatchString(a.MessageSID):
		_, err := s.api.rest.Api.UpdateMessage(a.MessageSID, (&api.UpdateMessageParams{}).SetBody(""))
		if err == nil {
			err = s.api.rest.Api.DeleteMessage(a.MessageSID, nil)
		}
		return purgeResult(err)
	case sidPattern.MatchString(a.CallSID):
		return purgeResult(s.api.rest.Api.DeleteCall(a.CallSID, nil))
	default:
		return river.JobCancel(errors.New("sms: twilio purge without a valid sid"))
	}
}

// purgeResult maps Twilio's answer: not found is done; anything else is
// retried, with Twilio's code only, since its text may quote a number.
func purgeResult(err error) error {
	var te *client.TwilioRestError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te) && te.Status == http.StatusNotFound:
		return nil
	case errors.As(err, &te):
		return fmt.Errorf("sms: twilio purge: status %d, code %d", te.Status, te.Code)
	default:
		return errors.New("sms: twilio purge: no answer")
	}
}
