// Package audit owns the append-only, hash-chained log of who did what to
// which case. Each row's hash covers the previous row's hash and its own
// fields, so removing or editing a row breaks every hash after it; heads of
// the chain written down outside the database (the hourly anchor job logs
// one) show a chain rebuilt from scratch by someone who can write to it. Details
// are coarse facts ("opened notes", "override: reason recorded"), never
// survivor content: the log is read by more people than the case.
//
// Its SQL is in queries/*.sql, turned into Go in internal/auditdb by sqlc
// (make generate); being internal, nothing outside audit can run it.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/amparo/amparo/audit/internal/auditdb"
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
	q := auditdb.New(db)
	if err := q.LockChain(ctx, chainLockKey); err != nil {
		return fmt.Errorf("audit: lock chain: %w", err)
	}
	prev := []byte{}
	head, err := q.ChainHead(ctx)
	switch {
	case err == nil:
		prev = head.Hash
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	at = at.UTC().Truncate(time.Microsecond) // what PostgreSQL keeps
	h := rowHash(prev, at, e)
	err = q.AppendRow(ctx, auditdb.AppendRowParams{At: at, Actor: e.Actor, Action: e.Action, CaseID: e.CaseID,
		Detail: e.Detail, PrevHash: prev, Hash: h})
	if err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// ErrBroken reports a chain that does not verify.
var ErrBroken = errors.New("audit: chain broken")

// Head names one row of the chain by id and hash. The hash covers every row
// before it, so a head written down outside the database (a log shipped
// elsewhere, a ticket) anchors the chain: whoever can write to the database
// can rebuild a chain that verifies, but not one that still passes through
// an anchor recorded before.
type Head struct {
	ID   int64
	Hash []byte
}

func (h Head) String() string { return fmt.Sprintf("%d:%x", h.ID, h.Hash) }

// ParseHead reads a Head as String writes it ("ROW:HEX").
func ParseHead(s string) (Head, error) {
	id, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(id, 10, 64)
	b, herr := hex.DecodeString(hash)
	if !ok || err != nil || herr != nil || n <= 0 || len(b) != sha256.Size {
		return Head{}, fmt.Errorf("audit: an anchor is ROW:HASH, the row id and its 64 hex digits (got %q)", s)
	}
	return Head{ID: n, Hash: b}, nil
}

// Verify walks the whole chain and returns how many rows it checked and its
// newest row, or ErrBroken naming the first row whose hash does not match
// or an anchor the chain no longer passes through.
func Verify(ctx context.Context, db DB, anchors ...Head) (int, Head, error) {
	// Streamed, not through auditdb's Chain, which would hold the whole
	// log in memory at once.
	rows, err := db.Query(ctx, auditdb.Chain)
	if err != nil {
		return 0, Head{}, err
	}
	defer rows.Close()
	want := make(map[int64][]byte, len(anchors))
	for _, a := range anchors {
		want[a.ID] = a.Hash
	}
	var (
		head Head
		n    int
	)
	prev := []byte{}
	for rows.Next() {
		var (
			id            int64
			at            time.Time
			e             Entry
			prevHash, got []byte
		)
		if err := rows.Scan(&id, &at, &e.Actor, &e.Action, &e.CaseID, &e.Detail, &prevHash, &got); err != nil {
			return n, head, err
		}
		if !bytes.Equal(prevHash, prev) || !bytes.Equal(rowHash(prev, at, e), got) {
			return n, head, fmt.Errorf("%w at row %d", ErrBroken, id)
		}
		if a, ok := want[id]; ok {
			if !bytes.Equal(a, got) {
				return n, head, fmt.Errorf("%w: row %d is not the anchor recorded for it; the chain was rewritten", ErrBroken, id)
			}
			delete(want, id)
		}
		prev, head = got, Head{ID: id, Hash: got}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, head, err
	}
	for id := range want {
		return n, head, fmt.Errorf("%w: anchored row %d is gone", ErrBroken, id)
	}
	return n, head, nil
}

// Latest returns the newest row of the chain without verifying it, for
// writing down as an anchor; ok is false while the log is empty.
func Latest(ctx context.Context, db DB) (head Head, ok bool, err error) {
	row, err := auditdb.New(db).ChainHead(ctx)
	if errors.Is(err, pgx.ErrNoRows) {
		return Head{}, false, nil
	}
	if err != nil {
		return Head{}, false, err
	}
	return Head{ID: row.ID, Hash: row.Hash}, true, nil
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
