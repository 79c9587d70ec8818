package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/amparo/amparo/internal/pgtest"
)

// Whoever can write to the database can rebuild a chain that verifies; an
// anchor written down before shows the rebuild.
func TestAnchorShowsARebuiltChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	at := time.Date(2026, 11, 27, 14, 20, 0, 0, time.UTC)
	for i, action := range []string{"case.open", "case.export", "case.erase"} {
		if err := Append(ctx, pool, at.Add(time.Duration(i)*time.Minute), Entry{Actor: "u-1", Action: action}); err != nil {
			t.Fatal(err)
		}
	}
	anchor, ok, err := Latest(ctx, pool)
	if err != nil || !ok {
		t.Fatalf("Latest: %v, %v", ok, err)
	}
	parsed, err := ParseHead(anchor.String())
	if err != nil || parsed.String() != anchor.String() {
		t.Fatalf("ParseHead(%s) = %s, %v", anchor, parsed, err)
	}
	if n, head, err := Verify(ctx, pool, parsed); err != nil || n != 3 || head.String() != anchor.String() {
		t.Fatalf("Verify = %d, %s, %v; want 3 rows ending at the anchor", n, head, err)
	}

	// A superuser hides the export and rebuilds every hash after it.
	if _, err := pool.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE audit_log SET action = 'case.open' WHERE action = 'case.export'`); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT id, at, actor, action, detail FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id int64
		at time.Time
		e  Entry
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.at, &r.e.Actor, &r.e.Action, &r.e.Detail); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	prev := []byte{}
	for _, r := range all {
		h := rowHash(prev, r.at, r.e)
		if _, err := pool.Exec(ctx, `UPDATE audit_log SET prev_hash = $2, hash = $3 WHERE id = $1`, r.id, prev, h); err != nil {
			t.Fatal(err)
		}
		prev = h
	}

	if n, _, err := Verify(ctx, pool); err != nil || n != 3 {
		t.Fatalf("the rebuilt chain should verify on its own: %d, %v", n, err)
	}
	if _, _, err := Verify(ctx, pool, anchor); !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), "rewritten") {
		t.Fatalf("Verify against the anchor = %v; want ErrBroken: rewritten", err)
	}
	if _, err := ParseHead("3:nothex"); err == nil {
		t.Fatal("ParseHead accepted a bad hash")
	}
}

// The hourly job writes the head to the log, where it can be checked later.
func TestAnchorJobLogsTheHead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	var buf strings.Builder
	w := &anchorWorker{db: pool, log: slog.New(slog.NewJSONHandler(&buf, nil))}
	if err := w.Work(ctx, nil); err != nil || buf.Len() != 0 {
		t.Fatalf("empty log: %v, logged %q", err, buf.String())
	}
	if err := Append(ctx, pool, time.Now(), Entry{Actor: "system", Action: "keys.rotate"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Work(ctx, nil); err != nil {
		t.Fatal(err)
	}
	head, _, _ := Latest(ctx, pool)
	if !strings.Contains(buf.String(), fmt.Sprintf(`"row":%d,"hash":"%x"`, head.ID, head.Hash)) {
		t.Fatalf("logged %q; want the head %s", buf.String(), head)
	}
}
