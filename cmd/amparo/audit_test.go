package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/internal/pgtest"
)

func TestAuditVerifiesAgainstAnchors(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	run1 := func(args ...string) (int, string, string) {
		env, stdout, stderr := testEnv(map[string]string{"DATABASE_URL": url}, nil)
		code := run(context.Background(), append([]string{"audit", "verify"}, args...), env)
		return code, stdout.String(), stderr.String()
	}
	if code, out, _ := run1(); code != exitOK || !strings.Contains(out, "empty") {
		t.Fatalf("empty log: exit %d, %q", code, out)
	}
	for _, action := range []string{"keys.rotate", "case.erase"} {
		if err := audit.Append(context.Background(), pool, time.Now(), audit.Entry{Actor: "system", Action: action}); err != nil {
			t.Fatal(err)
		}
	}
	head, _, err := audit.Latest(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run1("-anchor", head.String()); code != exitOK || !strings.Contains(out, "2 rows; head "+head.String()) {
		t.Fatalf("intact chain: exit %d, %q, %q", code, out, errOut)
	}
	other := head
	other.Hash = append([]byte(nil), head.Hash...)
	other.Hash[0] ^= 0xff
	if code, _, errOut := run1("-anchor", other.String()); code != exitFail || !strings.Contains(errOut, "rewritten") {
		t.Fatalf("a chain that no longer passes through its anchor: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run1("-anchor", "two:beef"); code != exitUsage || !strings.Contains(errOut, "ROW:HASH") {
		t.Fatalf("a malformed anchor: exit %d, %q", code, errOut)
	}
}

// TestAuditVerifySubcommand: `amparo audit verify` walks the whole chain
// and fails on a row edited behind the append-only trigger; the form from
// before subcommands (`amparo audit -anchor ...`) still verifies.
func TestAuditVerifySubcommand(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	run1 := func(args ...string) (int, string, string) {
		env, stdout, stderr := testEnv(map[string]string{"DATABASE_URL": url}, nil)
		code := run(context.Background(), args, env)
		return code, stdout.String(), stderr.String()
	}
	for _, action := range []string{"case.open", "case.assign", "caller.block"} {
		if err := audit.Append(context.Background(), pool, time.Now(), audit.Entry{Actor: "u-1", Action: action}); err != nil {
			t.Fatal(err)
		}
	}
	head, _, err := audit.Latest(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run1("audit", "verify"); code != exitOK || !strings.Contains(out, "3 rows; head "+head.String()) {
		t.Fatalf("audit verify: exit %d, %q, %q", code, out, errOut)
	}
	if code, out, errOut := run1("audit", "-anchor", head.String()); code != exitOK || !strings.Contains(out, "3 rows") {
		t.Fatalf("the old form: exit %d, %q, %q", code, out, errOut)
	}
	if code, _, errOut := run1("audit", "check"); code != exitUsage || !strings.Contains(errOut, "verify") {
		t.Fatalf("an unknown subcommand: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run1("audit", "-h"); code != exitOK || !strings.Contains(errOut, "verify") {
		t.Fatalf("audit -h: exit %d, %q", code, errOut)
	}
	if _, err := pool.Exec(context.Background(), `ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
		UPDATE audit_log SET detail = 'edited' WHERE id = (SELECT min(id) + 1 FROM audit_log)`); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run1("audit", "verify"); code != exitFail || !strings.Contains(errOut, "chain broken at row") {
		t.Fatalf("an edited row: exit %d, %q", code, errOut)
	}
}
