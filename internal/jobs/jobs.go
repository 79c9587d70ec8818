// Package jobs owns the seam between domain packages and River: the
// Inserter they depend on to enqueue work in their own transaction, and a
// Deferred implementation that breaks the construction cycle (River's client
// needs the workers, the workers' services need the client).
package jobs

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Inserter enqueues jobs inside the caller's transaction, so a job exists if
// and only if the change that needs it commits. *river.Client[pgx.Tx]
// satisfies it. Job args must carry ids only: River stores them as plain JSON.
type Inserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Queue is an Inserter that may also delete jobs, through River's own
// JobDeleteManyTx, so that no package of ours writes DELETEs against
// River's table. *river.Client[pgx.Tx] satisfies it.
type Queue interface {
	Inserter
	JobDeleteManyTx(ctx context.Context, tx pgx.Tx, params *river.JobDeleteManyParams) (*river.JobDeleteManyResult, error)
}

// Deferred is a Queue whose River client is set after construction.
type Deferred struct {
	client atomic.Pointer[river.Client[pgx.Tx]]
}

// Set binds the client. Call it once, before serving requests.
func (d *Deferred) Set(c *river.Client[pgx.Tx]) { d.client.Store(c) }

// ErrNotReady means Set was never called: a wiring bug, not a runtime state.
var ErrNotReady = errors.New("jobs: River client not set")

// InsertTx forwards to the bound client.
func (d *Deferred) InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	c := d.client.Load()
	if c == nil {
		return nil, ErrNotReady
	}
	return c.InsertTx(ctx, tx, args, opts)
}

// JobDeleteManyTx forwards to the bound client.
func (d *Deferred) JobDeleteManyTx(ctx context.Context, tx pgx.Tx, params *river.JobDeleteManyParams) (*river.JobDeleteManyResult, error) {
	c := d.client.Load()
	if c == nil {
		return nil, ErrNotReady
	}
	return c.JobDeleteManyTx(ctx, tx, params)
}

// Periodic is a job of args every interval, and once when a leader starts,
// so that a restart does not wait out a whole interval; its kind is its
// River id, so every copy of the server schedules it once.
func Periodic(every time.Duration, args river.JobArgs) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return args, nil },
		&river.PeriodicJobOpts{ID: args.Kind(), RunOnStart: true})
}
