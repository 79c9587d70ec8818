package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/pglocal"
	"github.com/amparo/amparo/internal/pgtest"
	"github.com/amparo/amparo/referral"
)

// deploy/README.md's restore drill, against the real binary: two survivors
// go through the hotline, one erases her data with BORRAR and her code
// word; the database is dumped (pg_dump -Fc) and restored into another
// cluster on another port; `amparo keys verify` with the keyring opens
// every data key, case and note of the copy, and the erased case stays
// unreadable there. With a keyring that is not the database's, verify
// fails and names the rows.
func TestBackupRestores(t *testing.T) {
	pgtest.AdminURL(t)
	r := newRig(t, buildAmparo(t))
	r.start()
	ctx := context.Background()
	pool := r.db()
	if err := referral.LoadDirectory(ctx, pool, referral.DemoDirectory()); err != nil {
		t.Fatal(err)
	}
	c := newClient()
	defer c.CloseIdleConnections()
	callers := newCallers(2, policeIntake, 800)
	for _, w := range slices.Concat(callers...) {
		if status, _, err := r.deliver(c, w); err != nil || status != http.StatusOK {
			t.Fatalf("%s %q: status %d, err %v", w.from, w.body, status, err)
		}
	}
	var kept, erased uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT
		(SELECT id FROM case_file ORDER BY created_at, id LIMIT 1),
		(SELECT id FROM case_file ORDER BY created_at DESC, id DESC LIMIT 1)`).Scan(&kept, &erased); err != nil {
		t.Fatal(err)
	}
	ring := parseRing(t, []byte(rigEnv(t, r, crypto.EnvKeyring)))
	source := casefile.New(pool, ring, ring.BlindIndex(), clock.Real{}, keyHolders(ring))
	if _, err := source.AddNote(ctx, pool, kept, "counsellor", "llamó su hermana"); err != nil {
		t.Fatal(err)
	}
	// The second survivor erases her data as she would: BORRAR, her code
	// word, yes.
	from := callers[1][0].from
	var last []string
	for _, body := range []string{"BORRAR", "luna", "1"} {
		w := newCallers(1, []string{body}, 0)[0][0]
		w.from = from
		status, replies, err := r.deliver(c, w)
		if err != nil || status != http.StatusOK {
			t.Fatalf("%q: status %d, err %v", body, status, err)
		}
		last = replies
	}
	if !strings.Contains(strings.Join(last, " "), "Borramos tus datos") {
		t.Fatalf("BORRAR did not erase: %q", last)
	}
	if _, err := source.GetCase(ctx, pool, erased); !errors.Is(err, casefile.ErrErased) {
		t.Fatalf("her case before the backup: %v, want erased", err)
	}
	if _, err := source.GetCase(ctx, pool, kept); err != nil {
		t.Fatalf("the other case before the backup: %v", err)
	}

	// The backup, restored into a cluster of its own as the README's roles.
	bin, err := pglocal.FindBinaries()
	if err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(t.TempDir(), "amparo.dump")
	pgRun(t, filepath.Join(bin, "pg_dump"), "-Fc", "-f", dump, "-d", r.adminURL)
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	other, err := pglocal.Start(ctx, pglocal.Options{Dir: filepath.Join(dir, "pg")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Stop() })
	if other.Port == r.ports[0] {
		t.Fatalf("the restore cluster listens on the source's port %d", other.Port)
	}
	conn, err := pgx.Connect(ctx, other.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE ROLE " + rigOwnerRole + " LOGIN", "CREATE ROLE " + rigServeRole + " LOGIN",
		"CREATE DATABASE " + rigDatabase + " OWNER " + rigOwnerRole,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close(ctx)
	restored := func(role string) string {
		return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", role, other.Port, rigDatabase)
	}
	pgRun(t, filepath.Join(bin, "pg_restore"), "--exit-on-error", "-d", restored("postgres"), dump)

	// keys verify, as the serving role: the grants came back too.
	verify := func(keyring string) (int, string, string) {
		cmd := exec.Command(r.bin, "keys", "verify")
		cmd.Env = []string{"DATABASE_URL=" + restored(rigServeRole), crypto.EnvKeyring + "=" + keyring}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
	}
	code, out, stderr := verify(rigEnv(t, r, crypto.EnvKeyring))
	if code != exitOK {
		t.Fatalf("keys verify on the restored copy: exit %d\n%s%s", code, out, stderr)
	}
	t.Logf("keys verify on the restored copy:\n%s", out)
	opened := verifyCounts(t, out)
	for _, table := range []string{"contact", "case_key", "conversation", "inbound_message", "outbound_message", "case_file"} {
		if opened[table][0] == 0 || opened[table][1] != 0 {
			t.Errorf("keys verify: %s opened %d, failed %d; want some and none", table, opened[table][0], opened[table][1])
		}
	}
	if opened["case_file"][0] != 1 {
		t.Errorf("keys verify opened %d case(s); want the one not erased", opened["case_file"][0])
	}

	// Her case is as unreadable in the copy as it was in the original.
	copyPool, err := pgxpool.New(ctx, restored("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer copyPool.Close()
	copyStore := casefile.New(copyPool, ring, ring.BlindIndex(), clock.Real{})
	if _, err := copyStore.GetCase(ctx, copyPool, erased); !errors.Is(err, casefile.ErrErased) {
		t.Errorf("erased case in the restored copy: %v, want %v", err, casefile.ErrErased)
	}
	if _, err := copyStore.Notes(ctx, copyPool, erased); !errors.Is(err, casefile.ErrErased) {
		t.Errorf("erased case's notes in the restored copy: %v, want %v", err, casefile.ErrErased)
	}
	notes, err := copyStore.Notes(ctx, copyPool, kept)
	if err != nil || len(notes) != 1 || notes[0].Body != "llamó su hermana" {
		t.Errorf("the kept case's notes in the restored copy: %+v, %v", notes, err)
	}

	// A keyring that is not this database's opens nothing, and says which.
	code, out, stderr = verify(string(mustGenerate(t)))
	if code != exitFail || !strings.Contains(stderr, "cannot open case_key "+kept.String()) || strings.Contains(stderr, "llamó") {
		t.Errorf("keys verify with a foreign keyring: exit %d\n%s%s", code, out, stderr)
	}
}

// rigEnv returns the value of name in the rig's environment.
func rigEnv(t *testing.T, r *rig, name string) string {
	t.Helper()
	for _, kv := range r.env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	t.Fatalf("%s is not in the rig's environment", name)
	return ""
}

// pgRun runs a PostgreSQL client program and fails the test on error.
func pgRun(t *testing.T, bin string, args ...string) {
	t.Helper()
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(bin), err, out)
	}
}

// verifyCounts reads `keys verify` output: table → (opened, failed).
func verifyCounts(t *testing.T, out string) map[string][2]int {
	t.Helper()
	counts := map[string][2]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		var (
			table          string
			opened, failed int
		)
		if _, err := fmt.Sscan(line, &table, &opened, &failed); err != nil {
			t.Fatalf("keys verify line %q: %v", line, err)
		}
		counts[table] = [2]int{opened, failed}
	}
	return counts
}
