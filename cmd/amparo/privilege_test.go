package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/amparo/amparo/internal/pgtest"
)

// TestServeRoleCannotChangeSchema holds the README's least-privilege
// deployment to its word: after `amparo migrate -grant-to`, the serving role
// works rows (the fault tests run the whole system as it) but cannot change
// the schema, rewrite the audit log or the record of applied migrations.
func TestServeRoleCannotChangeSchema(t *testing.T) {
	pgtest.AdminURL(t)
	r := newRig(t, "")
	ctx := context.Background()

	env, stdout, stderr := testEnv(map[string]string{"DATABASE_URL": r.ownerURL}, nil)
	if code := run(ctx, []string{"migrate", "-grant-to", rigServeRole}, env); code != exitOK {
		t.Fatalf("migrate -grant-to: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout.String(), rigServeRole) {
		t.Errorf("migrate -grant-to printed %q, want it to name the role", stdout)
	}
	if _, err := r.db().Exec(ctx, `INSERT INTO audit_log (at, actor, action, prev_hash, hash) VALUES (now(), 'test', 'test', '', '\x01')`); err != nil {
		t.Fatal(err)
	}

	serve, err := pgx.Connect(ctx, strings.TrimPrefix(r.env[0], "DATABASE_URL="))
	if err != nil {
		t.Fatal(err)
	}
	defer serve.Close(ctx)
	// What serve does all day must work.
	for _, q := range []string{
		`SELECT count(*) FROM case_file`,
		`INSERT INTO audit_log (at, actor, action, prev_hash, hash) VALUES (now(), 'serve', 'test', '', '\x02')`,
		`UPDATE river_job SET priority = priority WHERE false`,
		`DELETE FROM on_call WHERE false`,
	} {
		if _, err := serve.Exec(ctx, q); err != nil {
			t.Errorf("serve role: %s: %v", q, err)
		}
	}
	for _, q := range []string{
		`CREATE TABLE smuggled (x int)`,
		`ALTER TABLE case_file ADD COLUMN smuggled int`,
		`DROP TRIGGER audit_log_append_only ON audit_log`,
		`DROP TABLE referral_event`,
		`UPDATE audit_log SET actor = 'someone else'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
		`DELETE FROM goose_db_version`,
		`INSERT INTO river_migration (line, version) VALUES ('main', 999)`,
		`REINDEX INDEX river_job_kind`,
	} {
		_, err := serve.Exec(ctx, q)
		var pgErr *pgconn.PgError
		// 42501 insufficient_privilege is the grant refusing, not the audit
		// trigger (P0001): the role must not even reach the trigger.
		if !errors.As(err, &pgErr) || (pgErr.Code != "42501" && pgErr.Code != "42P01") {
			t.Errorf("serve role: %s: got %v, want permission denied", q, err)
		}
	}

	// Granting to the owner would be a mistake that hides the point.
	env, _, stderr = testEnv(map[string]string{"DATABASE_URL": r.ownerURL}, nil)
	if code := run(ctx, []string{"migrate", "-grant-to", rigOwnerRole}, env); code != exitFail || !strings.Contains(stderr.String(), "owns the schema") {
		t.Errorf("migrate -grant-to the owner: exit %d, stderr %q; want a refusal", code, stderr)
	}
	env, _, stderr = testEnv(map[string]string{"DATABASE_URL": r.ownerURL}, nil)
	if code := run(ctx, []string{"migrate", "-grant-to", "nobody_here"}, env); code != exitFail || !strings.Contains(stderr.String(), "no role") {
		t.Errorf("migrate -grant-to an unknown role: exit %d, stderr %q; want a clear error", code, stderr)
	}
}
