package hotline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/internal/pgtest"
)

// The webhook's own transaction type must keep pgx.Tx's promises: nothing
// commits after an error, held-back writes run in order, savepoints nest.
func TestInboundTxKeepsTransactionSemantics(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	begin := func() *inboundTx {
		t.Helper()
		conn, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
			t.Fatal(err)
		}
		return &inboundTx{conn: conn, open: true}
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

	// A held-back write that fails stops the COMMIT queued behind it.
	tx := begin()
	tx.queue(insert, []byte("a"), now)
	tx.queue(insert, []byte("a"), now) // duplicate key
	if err := tx.Commit(ctx); err == nil {
		t.Fatal("commit after a failed write succeeded")
	}
	tx.release(ctx)
	if rows("a") != 0 {
		t.Fatal("a write before the failed one was committed")
	}

	// A statement through the transaction first sends what is held back.
	tx = begin()
	tx.queue(insert, []byte("b"), now)
	if _, err := tx.Exec(ctx, insert, []byte("b"), now); err == nil {
		t.Fatal("held-back write was not sent before the next statement")
	}
	if err := tx.Commit(ctx); err == nil {
		t.Fatal("commit of a failed transaction succeeded")
	}
	tx.release(ctx)

	// An error the caller ignores still fails the COMMIT.
	tx = begin()
	_, _ = tx.Exec(ctx, insert, nil, now) // not null violation
	if err := tx.Commit(ctx); !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Fatalf("commit after an ignored error: %v", err)
	}
	tx.release(ctx)

	// Savepoints: a rolled-back one takes its writes (held back or not)
	// with it; a released one keeps them.
	tx = begin()
	sp, err := tx.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Exec(ctx, insert, []byte("c"), now); err != nil {
		t.Fatal(err)
	}
	sp.(*savepoint).queue(insert, []byte("c2"), now)
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
	tx.queue(insert, []byte("e"), now)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); !errors.Is(err, pgx.ErrTxClosed) {
		t.Fatalf("rollback after commit: %v", err)
	}
	tx.release(ctx)
	if rows("c")+rows("c2") != 0 || rows("d") != 1 || rows("e") != 1 {
		t.Fatalf("after savepoints: c=%d c2=%d d=%d e=%d", rows("c"), rows("c2"), rows("d"), rows("e"))
	}
	if s := pool.Stat(); s.AcquiredConns() != 0 {
		t.Fatalf("%d connections not released", s.AcquiredConns())
	}
}
