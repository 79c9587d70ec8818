package hotline

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/internal/pgtest"
)

// The webhook's transaction must keep a transaction's promises across its
// explicit API: nothing commits after an error, held-back writes run in
// order and before any statement issued after them, and the pgx.Tx it
// hands out (with pgx's own savepoints) is the same transaction.
func TestWebhookTxKeepsTransactionSemantics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	begin := func() *webhookTx {
		t.Helper()
		w, err := beginWebhookTx(ctx, pool, &pgx.Batch{}, func(pgx.BatchResults) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	now := time.Now()
	insert := `INSERT INTO caller_rate (phone_index, window_start, hits) VALUES ($1, $2, 1)`
	rows := func(key string) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM caller_rate WHERE phone_index = $1`, []byte(key)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// The opening pipeline runs inside the transaction.
	var opened bool
	w, err := beginWebhookTx(ctx, pool, func() *pgx.Batch {
		b := &pgx.Batch{}
		b.Queue(insert, []byte("o"), now)
		return b
	}(), func(br pgx.BatchResults) error {
		_, err := br.Exec()
		opened = err == nil
		return err
	})
	if err != nil || !opened {
		t.Fatalf("opening pipeline: %v", err)
	}
	w.release(ctx) // never committed
	if rows("o") != 0 {
		t.Fatal("an opening write outlived a transaction that never committed")
	}

	// A held-back write that fails stops the COMMIT queued behind it.
	w = begin()
	w.queue(insert, []byte("a"), now)
	w.queue(insert, []byte("a"), now) // duplicate key
	if err := w.commit(ctx); err == nil {
		t.Fatal("commit after a failed write succeeded")
	}
	w.release(ctx)
	if rows("a") != 0 {
		t.Fatal("a write before the failed one was committed")
	}

	// Asking for the Tx first sends what is held back.
	w = begin()
	w.queue(insert, []byte("b"), now)
	tx, err := w.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, insert, []byte("b"), now); err == nil {
		t.Fatal("held-back write was not sent before the next statement")
	}
	if err := w.commit(ctx); err == nil {
		t.Fatal("commit of a failed transaction succeeded")
	}
	w.release(ctx)

	// An error the caller ignores still fails the COMMIT.
	w = begin()
	tx, err = w.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = tx.Exec(ctx, insert, nil, now) // not null violation
	if err := w.commit(ctx); !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Fatalf("commit after an ignored error: %v", err)
	}
	w.release(ctx)

	// Savepoints are pgx's own: a rolled-back one takes its writes with
	// it; a released one keeps them; writes held back after them commit.
	w = begin()
	tx, err = w.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Exec(ctx, insert, []byte("c"), now); err != nil {
		t.Fatal(err)
	}
	if err := sp.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	sp, err = tx.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Exec(ctx, insert, []byte("d"), now); err != nil {
		t.Fatal(err)
	}
	if err := sp.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	w.queue(insert, []byte("e"), now)
	if err := w.commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.commit(ctx); !errors.Is(err, pgx.ErrTxClosed) {
		t.Fatalf("commit after commit: %v", err)
	}
	if _, err := w.Tx(ctx); !errors.Is(err, pgx.ErrTxClosed) {
		t.Fatalf("Tx after commit: %v", err)
	}
	w.release(ctx)
	if rows("c") != 0 || rows("d") != 1 || rows("e") != 1 {
		t.Fatalf("after savepoints: c=%d d=%d e=%d", rows("c"), rows("d"), rows("e"))
	}
	if s := pool.Stat(); s.AcquiredConns() != 0 {
		t.Fatalf("%d connections not released", s.AcquiredConns())
	}
}

// roundTrips counts what a connection sends the server and waits for: a
// statement on its own, or a pipeline of them.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (*roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (*roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (*roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// A step of a live conversation that only moves her through triage costs
// the webhook two round trips: the opening pipeline (BEGIN, MessageSid,
// rate limit, danger-alert and provider checks, her conversation) and the
// closing one (her conversation, the message's outcome, COMMIT).
func TestLiveConversationStepTakesTwoRoundTrips(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	cfg := e.pool.Config().Copy()
	// One connection: its statements are prepared once, by the first
	// caller, as on a warm server.
	cfg.MaxConns = 1
	rt := &roundTrips{}
	cfg.ConnConfig.Tracer = rt
	traced, err := pgxpool.NewWithConfig(e.ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer traced.Close()
	e.h.pool = traced

	script := []string{"Hola", "2", "1", "3"}
	for _, body := range script {
		if _, err := e.sim.Phone("+51987000001").Text(body); err != nil {
			t.Fatal(err)
		}
	}
	her := e.sim.Phone("+51987000002")
	for i, body := range script {
		before := rt.n.Load()
		if _, err := her.Text(body); err != nil {
			t.Fatal(err)
		}
		if n := rt.n.Load() - before; i > 0 && n != 2 {
			t.Errorf("message %d (%q) took %d round trips, want 2", i+1, body, n)
		} else {
			t.Logf("message %d (%q): %d round trips", i+1, body, n)
		}
	}
}
