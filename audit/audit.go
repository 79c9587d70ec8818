// Package audit owns the append-only, hash-chained log of who did what to
// which case. Each row's hash covers the previous row's hash and its own
// fields, so removing or editing a row breaks every hash after it. Details
// are coarse facts ("opened notes", "override: reason recorded"), never
// survivor content: the log is read by more people than the case.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is what Append and Verify need: a pool, a connection or a transaction.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Entry is one audited act.
type Entry struct {
	Actor  string // staff user id, or "system", "survivor", "provider:<id>"
	Action string // a stable verb such as "case.open", "case.erase", "keys.rotate"
	CaseID string // empty when the act concerns no case
	Detail string // coarse, content-free
}

// chainLockKey serialises appends so each row sees its true predecessor.
const chainLockKey int64 = 0x617564697421 // "audit!"

// Append writes e at time at, chained to the latest row. Call it inside the
// transaction of the act it records, so the two commit or fail together.
func Append(ctx context.Context, db DB, at time.Time, e Entry) error {
	if e.Actor == "" || e.Action == "" {
		return errors.New("audit: actor and action are required")
	}
	if _, err := db.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", chainLockKey); err != nil {
		return fmt.Errorf("audit: lock chain: %w", err)
	}
	prev := []byte{}
	err := db.QueryRow(ctx, "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").Scan(&prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	at = at.UTC().Truncate(time.Microsecond) // what PostgreSQL keeps
	h := rowHash(prev, at, e)
	_, err = db.Exec(ctx,
		`INSERT INTO audit_log (at, actor, action, case_id, detail, prev_hash, hash)
		 VALUES ($1, $2, $3, NULLIF($4, '')::uuid, $5, $6, $7)`,
		at, e.Actor, e.Action, e.CaseID, e.Detail, prev, h)
	if err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// ErrBroken reports a chain that does not verify.
var ErrBroken = errors.New("audit: chain broken")

// Verify walks the whole chain and returns how many rows it checked, or
// ErrBroken naming the first row whose hash does not match.
func Verify(ctx context.Context, db DB) (int, error) {
	rows, err := db.Query(ctx, `SELECT id, at, actor, action, COALESCE(case_id::text, ''), detail, prev_hash, hash FROM audit_log ORDER BY id`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	prev := []byte{}
	n := 0
	for rows.Next() {
		var (
			id            int64
			at            time.Time
			e             Entry
			prevHash, got []byte
		)
		if err := rows.Scan(&id, &at, &e.Actor, &e.Action, &e.CaseID, &e.Detail, &prevHash, &got); err != nil {
			return n, err
		}
		if !bytes.Equal(prevHash, prev) || !bytes.Equal(rowHash(prev, at, e), got) {
			return n, fmt.Errorf("%w at row %d", ErrBroken, id)
		}
		prev = got
		n++
	}
	return n, rows.Err()
}

// rowHash is SHA-256 over the previous hash and the length-prefixed fields,
// so no two different rows can encode to the same bytes.
func rowHash(prev []byte, at time.Time, e Entry) []byte {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field(prev)
	field([]byte(at.UTC().Format(time.RFC3339Nano)))
	for _, s := range []string{e.Actor, e.Action, e.CaseID, e.Detail} {
		field([]byte(s))
	}
	return h.Sum(nil)
}
