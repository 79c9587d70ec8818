package jobs

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/amparo/amparo/internal/logging"
)

// Confidential is River worker middleware that keeps survivor data out of
// river_job.errors, which River writes as plain text: a returned error has
// anything phone-like masked, and a panic becomes an error naming only the
// panic's type and where it happened, because a panic value or a stack
// trace's arguments may hold whatever the worker was handling. Add it to
// river.Config.Middleware.
type Confidential struct{ river.MiddlewareDefaults }

var _ rivertype.WorkerMiddleware = (*Confidential)(nil)

// Work runs the job and cleans what it leaves behind.
func (*Confidential) Work(ctx context.Context, _ *rivertype.JobRow, doInner func(context.Context) error) (err error) {
	defer func() {
		if rec := recover(); rec != nil {
			err = fmt.Errorf("panic (%T) at %s", rec, logging.PanicSite(3))
		}
	}()
	if err := doInner(ctx); err != nil {
		return &scrubbed{err: err}
	}
	return nil
}

// scrubbed reports a masked message but unwraps to the original, so River
// still recognises its own snooze and cancel errors.
type scrubbed struct{ err error }

func (s *scrubbed) Error() string { return logging.Scrub(s.err.Error()) }
func (s *scrubbed) Unwrap() error { return s.err }
