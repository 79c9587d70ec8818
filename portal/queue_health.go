package portal

import (
	"context"
	"errors"
	"net/http"

	"github.com/amparo/amparo/internal/queuehealth"
)

// QueueHealth reads the figures /metrics exports; cmd/amparo wires the
// same queuehealth.Reader to both.
type QueueHealth interface {
	Read(ctx context.Context) queuehealth.Figures
}

// queueHealthPage shows supervisors and admins whether the service keeps
// up: referrals stalled, jobs waiting and the oldest due, texts failed in
// the last hour. Counts only, never a case.
func (p *Portal) queueHealthPage(w http.ResponseWriter, r *http.Request) error {
	if err := Decide(userFrom(r.Context()), ActQueueHealth, nil); err != nil {
		return err
	}
	if p.health == nil {
		return errors.New("portal: no queue health wired")
	}
	return p.render(w, r, "queue_health", p.health.Read(r.Context()))
}
