package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/pgtest"
)

// osEnv is testEnv with real files, for the subcommands that write them.
func osEnv(vars map[string]string) (Env, *bytes.Buffer, *bytes.Buffer) {
	env, out, errOut := testEnv(vars, nil)
	env.ReadFile = os.ReadFile
	return env, out, errOut
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestKeysGenerate(t *testing.T) {
	env, out, _ := osEnv(nil)
	if code := run(context.Background(), []string{"keys", "generate"}, env); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if _, err := crypto.ParseKeyring(out.Bytes()); err != nil {
		t.Fatalf("printed keyring does not parse: %v", err)
	}

	path := filepath.Join(t.TempDir(), "keyring.json")
	env, _, stderr := osEnv(nil)
	if code := run(context.Background(), []string{"keys", "generate", "-o", path}, env); code != exitOK {
		t.Fatalf("generate -o: exit %d: %s", code, stderr)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("mode %#o, want 0600", m)
	}
	first, _ := os.ReadFile(path)
	if _, err := crypto.ParseKeyring(first); err != nil {
		t.Fatal(err)
	}
	// A second generate must not destroy the keys in the file.
	env, _, stderr = osEnv(nil)
	if code := run(context.Background(), []string{"keys", "generate", "-o", path}, env); code != exitFail || !strings.Contains(stderr.String(), "rotate") {
		t.Errorf("overwrite: exit %d, %q", code, stderr)
	}
	if again, _ := os.ReadFile(path); string(again) != string(first) {
		t.Fatal("existing keyring overwritten")
	}

	// An empty file an admin prepared with a loose mode: written, 0600, warned.
	loose := filepath.Join(t.TempDir(), "k.json")
	if err := os.WriteFile(loose, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env, _, stderr = osEnv(nil)
	if code := run(context.Background(), []string{"keys", "generate", "-o", loose}, env); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if m := mode(t, loose); m != 0o600 || !strings.Contains(stderr.String(), "warning") || !strings.Contains(stderr.String(), "0644") {
		t.Errorf("loose target: mode %#o, stderr %q", m, stderr)
	}
}

func TestKeysRotate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring.json")
	data, err := crypto.GenerateKeyring(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
	before := parseRing(t, data)

	env, out, stderr := osEnv(map[string]string{crypto.EnvKeyringFile: path})
	if code := run(context.Background(), []string{"keys", "rotate"}, env); code != exitOK {
		t.Fatalf("rotate: exit %d: %s", code, stderr)
	}
	after := parseRing(t, mustRead(t, path))
	if ids := after.KEKIDs(); len(ids) != 2 || ids[1] != before.CurrentKEKID() || !strings.Contains(out.String(), ids[0]) {
		t.Errorf("KEKs after rotate: %v; stdout %q", ids, out)
	}
	if m := mode(t, path); m != 0o600 || !strings.Contains(stderr.String(), "0640") {
		t.Errorf("after rotate: mode %#o, stderr %q", m, stderr)
	}

	env, _, stderr = osEnv(nil)
	if code := run(context.Background(), []string{"keys", "rotate", "-f", path, "--index"}, env); code != exitOK {
		t.Fatalf("rotate --index: exit %d: %s", code, stderr)
	}
	ring := parseRing(t, mustRead(t, path))
	if len(ring.KEKIDs()) != 2 || len(ring.BlindIndex().KeyIDs()) != 2 || ring.BlindIndex().KeyIDs()[1] != before.BlindIndex().CurrentKeyID() {
		t.Errorf("after rotate --index: %v", ring)
	}

	// A broken file is not rewritten, and its content is not echoed.
	broken := filepath.Join(t.TempDir(), "broken.json")
	os.WriteFile(broken, []byte(`{"version":1,"keks":[{"id":"kek-x","key":"c2VjcmV0LXNlY3JldA=="}]`), 0o600)
	env, _, stderr = osEnv(nil)
	if code := run(context.Background(), []string{"keys", "rotate", "-f", broken}, env); code != exitFail || strings.Contains(stderr.String(), "c2VjcmV0") {
		t.Errorf("broken keyring: exit %d, %q", code, stderr)
	}
	env, _, _ = osEnv(nil)
	if code := run(context.Background(), []string{"keys", "rotate", "-f", filepath.Join(t.TempDir(), "none")}, env); code != exitFail {
		t.Errorf("missing file: exit %d", code)
	}
}

func TestKeysUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"keys"}, exitUsage},
		{[]string{"keys", "frob"}, exitUsage},
		{[]string{"keys", "rotate"}, exitUsage}, // no file
		{[]string{"keys", "generate", "extra"}, exitUsage},
		{[]string{"keys", "status", "-x"}, exitUsage},
		{[]string{"keys", "-h"}, exitOK},
		{[]string{"keys", "generate", "-h"}, exitOK},
		{[]string{"keys", "rotate", "-h"}, exitOK},
		{[]string{"keys", "status", "-h"}, exitOK},
		{[]string{"keys", "rewrap", "-h"}, exitOK},
	} {
		env, _, stderr := testEnv(nil, nil)
		if code := run(context.Background(), tc.args, env); code != tc.code || !strings.Contains(stderr.String(), "usage: amparo keys") {
			t.Errorf("amparo %v: exit %d (want %d), stderr %q", tc.args, code, tc.code, stderr)
		}
	}
	env, _, stderr := testEnv(map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/x"}, nil)
	if code := run(context.Background(), []string{"keys", "status"}, env); code != exitFail || !strings.Contains(stderr.String(), crypto.EnvKeyringFile) {
		t.Errorf("status without keyring: exit %d, %q", code, stderr)
	}
}

func TestKeysStatusAndRewrap(t *testing.T) {
	url := pgtest.NewDatabase(t)
	data, err := crypto.GenerateKeyring(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"DATABASE_URL": url, crypto.EnvKeyring: string(data), "USER": "ops"}
	ring := parseRing(t, data)

	env, out, stderr := testEnv(vars, nil)
	if code := run(context.Background(), []string{"keys", "status"}, env); code != exitOK {
		t.Fatalf("status: exit %d: %s", code, stderr)
	}
	if s := out.String(); !strings.Contains(s, "RETIRABLE") || !strings.Contains(s, ring.CurrentKEKID()) {
		t.Errorf("status output:\n%s", s)
	}

	for range 2 {
		env, _, stderr = testEnv(vars, nil)
		if code := run(context.Background(), []string{"keys", "rewrap"}, env); code != exitOK {
			t.Fatalf("rewrap: exit %d: %s", code, stderr)
		}
	}
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var jobs, audits int
	if err := pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM river_job WHERE kind = 'casefile.rewrap'),
		(SELECT count(*) FROM audit_log WHERE action = 'keys.rewrap' AND actor = 'cli:ops')`).Scan(&jobs, &audits); err != nil {
		t.Fatal(err)
	}
	if jobs != 1 || audits != 2 {
		t.Errorf("after two rewraps: %d job(s), %d audit row(s); want 1 and 2", jobs, audits)
	}

	// Rows under a KEK the keyring lacks: status says so and fails.
	other := parseRing(t, mustGenerate(t))
	if _, err := casefile.New(pool, other, other.BlindIndex(), clock.Real{}).CreateContact(context.Background(), pool, "+51987000123"); err != nil {
		t.Fatal(err)
	}
	env, out, stderr = testEnv(vars, nil)
	if code := run(context.Background(), []string{"keys", "status"}, env); code != exitFail || !strings.Contains(stderr.String(), "missing") ||
		!strings.Contains(out.String(), other.CurrentKEKID()) {
		t.Errorf("status with a missing KEK: exit %d\n%s\n%s", code, out, stderr)
	}
}

func parseRing(t *testing.T, data []byte) *crypto.Keyring {
	t.Helper()
	k, err := crypto.ParseKeyring(data)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustGenerate(t *testing.T) []byte {
	t.Helper()
	b, err := crypto.GenerateKeyring(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every column that depends on a key of the keyring is covered by `keys
// rewrap` and `keys status`: a bytea column of the schema is either sealed
// under its row's data key (*_sealed) or a hash chain of the audit log, or
// it is a KeyColumn whose key-id column exists. A table added with a wrapped
// key or a phone index, and not declared, fails here.
func TestKeyColumnsCoverTheSchema(t *testing.T) {
	url := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ring := parseRing(t, mustGenerate(t))
	store := casefile.New(pool, ring, ring.BlindIndex(), clock.Real{}, keyHolders(ring))
	declared := map[string]casefile.KeyColumn{}
	for _, c := range store.KeyColumns() {
		declared[c.Table+"."+c.Column] = c
	}
	// The audit chain's hashes, and the portal's sessions: scs stores a
	// session's values (an account id, timestamps, the ids of cases opened
	// and their coded reasons) as gob bytes, nothing of a survivor's.
	notKeyed := map[string]bool{"audit_log.hash": true, "audit_log.prev_hash": true, "sessions.data": true}
	rows, err := pool.Query(context.Background(), `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type = 'bytea' AND table_name NOT LIKE 'river\_%'
		ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	columns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var table, column string
		err := r.Scan(&table, &column)
		return table + "." + column, err
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, col := range columns {
		seen[col] = true
		c, ok := declared[col]
		switch {
		case ok:
			var exists bool
			if err := pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2)`, c.Table, c.KeyIDColumn).Scan(&exists); err != nil {
				t.Fatal(err)
			}
			if !exists {
				t.Errorf("%s: its key id column %s.%s does not exist", col, c.Table, c.KeyIDColumn)
			}
		case strings.HasSuffix(col, "_sealed"), notKeyed[col]:
		default:
			t.Errorf("%s is neither sealed nor declared as a key column: `keys rewrap` would not move it and `keys status` would not count it", col)
		}
	}
	for col := range declared {
		if !seen[col] {
			t.Errorf("declared key column %s is not in the schema", col)
		}
	}
	if _, err := store.KeyStatus(context.Background()); err != nil {
		t.Fatalf("keys status over every declared column: %v", err)
	}
}
