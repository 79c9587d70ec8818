// Package pgtest owns the test database harness: every test gets its own
// PostgreSQL database, cloned from a template that carries all migrations
// (ours and River's), and dropped when the test ends. Cloning makes a fresh,
// fully migrated database cost a file copy instead of a migration run.
// CheckValues reads a column's CHECK from the migrated schema, so each
// package can test that its Go vocabulary spells what the schema allows.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/amparo/amparo/internal/pglocal"
	"github.com/amparo/amparo/migrations"
)

// EnvURL names the variable holding an admin connection URL (a superuser, or
// a role allowed to create databases). `make test` sets it.
const EnvURL = "AMPARO_TEST_DATABASE_URL"

const templateLockKey int64 = 0x616d7074706c // "amptpl"

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// AdminURL returns the admin URL, or fails the test. Outside CI a missing URL
// skips with a note on how to run it; in CI (CI=true) it fails, because a
// database test that silently skips there proves nothing.
func AdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: database tests must run in CI (use `make test`)", EnvURL)
		}
		t.Skipf("%s not set; run `make test`, which starts a private PostgreSQL", EnvURL)
	}
	return u
}

// NewDatabase creates a fresh migrated database and returns its URL; it is
// dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := AdminURL(t)
	ctx := context.Background()
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(ctx, admin) })
	if templateErr != nil {
		t.Fatalf("pgtest: template database: %v", templateErr)
	}
	return createDatabase(t, admin, templateName)
}

// EmptyDatabase creates a database with no schema at all (for testing the
// migrations themselves) and returns its URL; it is dropped when the test ends.
func EmptyDatabase(t testing.TB, admin string) string {
	t.Helper()
	return createDatabase(t, admin, "template0")
}

func createDatabase(t testing.TB, admin, template string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: connect admin: %v", err)
	}
	defer conn.Close(ctx)
	name := "amparo_t_" + randomHex(8)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s%s", name, template, strategy(ctx, conn))); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			t.Errorf("pgtest: connect admin for cleanup: %v", err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("pgtest: %s must be a postgres:// URL: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// New returns a pool on a fresh migrated database, closed and dropped when
// the test ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), NewDatabase(t))
	if err != nil {
		t.Fatalf("pgtest: pool: %v", err)
	}
	// Registered after NewDatabase's cleanup, so it runs first: close, then drop.
	t.Cleanup(pool.Close)
	return pool
}

// Logger returns a logger that writes into the test's own output.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// strategy picks FILE_COPY where the server knows it (PostgreSQL 15+): for
// small databases it is several times faster than the WAL-logged default.
func strategy(ctx context.Context, conn *pgx.Conn) string {
	var v int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&v); err == nil && v >= 150000 {
		return " STRATEGY FILE_COPY"
	}
	return ""
}

// ensureTemplate builds, once per migration set, a database with every
// migration applied. Its name carries a hash of the migrations, so a changed
// migration gets a new template instead of a stale one.
func ensureTemplate(ctx context.Context, admin string) (string, error) {
	name, err := templateFor()
	if err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	// Test binaries of several packages run at once: one builds, the rest wait.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return "", err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", templateLockKey)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_wip"
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	cfg, err := pgxpool.ParseConfig(admin)
	if err != nil {
		return "", err
	}
	cfg.ConnConfig.Database = building
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return "", err
	}
	err = migrations.Up(ctx, pool, slog.New(slog.DiscardHandler))
	pool.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return "", err
	}
	return name, nil
}

func templateFor() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.Files(), p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "river:%d", len(m.AllVersions()))
	return "amparo_tpl_" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Dump returns pg_dump's plain-text dump of the database at url, for canary
// tests that look for plaintext where none may be.
func Dump(t testing.TB, url string) string {
	t.Helper()
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		dir, ferr := pglocal.FindBinaries()
		if ferr != nil {
			t.Fatalf("pg_dump: not on PATH and %v", ferr)
		}
		bin = filepath.Join(dir, "pg_dump")
	}
	out, err := exec.Command(bin, "--no-owner", "--dbname="+url).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	return string(out)
}

// LogBuffer collects log output from every goroutine of a test (the server's,
// River's workers'), for tests that read what was logged.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
