package sms

import (
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// A temporary failure is retried while the message is worth sending: the
// last try falls inside its life and one more would not.
func TestRetriesLastAsLongAsTheMessage(t *testing.T) {
	w := &sendWorker{}
	for _, ttl := range []time.Duration{StaffAlertTTL, ProviderNoticeTTL, SurvivorTTL, WithdrawalTTL} {
		attempts := sendAttempts(ttl)
		var last time.Duration // when the last try runs, after the first
		for attempt := 1; attempt < attempts; attempt++ {
			d := time.Until(w.NextRetry(&river.Job[SendArgs]{JobRow: &rivertype.JobRow{Attempt: attempt}}))
			if d <= 0 || d > 10*time.Minute+time.Second {
				t.Fatalf("attempt %d waits %v", attempt, d)
			}
			last += retryDelay(attempt)
		}
		if last >= ttl || last+retryDelay(attempts) < ttl {
			t.Errorf("ttl %v: %d attempts, the last at %v; want the last try inside the message's life and no room for another", ttl, attempts, last)
		}
	}
}
