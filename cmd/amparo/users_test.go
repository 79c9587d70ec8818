package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/pgtest"
)

func TestUsersCommand(t *testing.T) {
	t.Parallel()
	ring, err := crypto.GenerateKeyring(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), crypto.EnvKeyring: string(ring)}
	users := func(stdin string, args ...string) (int, string, string) {
		env, out, stderr := testEnv(vars, map[string]string{})
		env.Stdin = strings.NewReader(stdin)
		code := run(context.Background(), append([]string{"users"}, args...), env)
		return code, out.String(), stderr.String()
	}
	code, out, stderr := users("a long enough password\n", "add", "-username", "Ana", "-role", "caseworker", "-communities", "El Porvenir")
	if code != exitOK || !regexp.MustCompile(`otpauth://totp/Amparo:ana\?.*secret=[A-Z2-7]+`).MatchString(out) {
		t.Fatalf("add: %d %q %q", code, out, stderr)
	}
	if strings.Contains(out, "a long enough password") || strings.Contains(stderr, "a long enough password") {
		t.Fatal("the password was echoed")
	}
	if code, _, stderr := users("a long enough password\n", "add", "-username", "ana", "-role", "caseworker"); code != exitFail || !strings.Contains(stderr, "username taken") {
		t.Fatalf("duplicate: %d %q", code, stderr)
	}
	if code, _, stderr := users("short\n", "add", "-username", "bea", "-role", "caseworker"); code != exitFail || !strings.Contains(stderr, "12 characters") {
		t.Fatalf("short password: %d %q", code, stderr)
	}
	if code, _, _ := users("", "add", "-username", "bea", "-role", "caseworker"); code != exitUsage {
		t.Fatalf("no password: %d", code)
	}
	if code, _, stderr := users("a long enough password\n", "add", "-username", "bea", "-role", "provider"); code != exitFail || !strings.Contains(stderr, "-org") {
		t.Fatalf("provider without org: %d %q", code, stderr)
	}
	// A provider account belongs to an organisation of the directory,
	// whose referrals are all its portal inbox shows.
	if code, _, stderr := users("a long enough password\n", "add", "-username", "posta", "-role", "provider", "-org", "posta-norte"); code != exitFail || !strings.Contains(stderr, "no organisation with that key") {
		t.Fatalf("provider of an unknown organisation: %d %q", code, stderr)
	}
	pool, err := pgxpool.New(context.Background(), vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(context.Background(), `INSERT INTO organization (key, name) VALUES ('posta-norte', 'Posta Norte')`); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := users("a long enough password\n", "add", "-username", "posta", "-role", "provider", "-org", "posta-norte"); code != exitOK {
		t.Fatalf("provider: %d %q", code, stderr)
	}
	code, out, _ = users("", "list")
	if code != exitOK || !regexp.MustCompile(`ana\s+caseworker\s+-\s+el-porvenir\s+not enrolled\s+active`).MatchString(out) ||
		!regexp.MustCompile(`posta\s+provider\s+posta-norte\s`).MatchString(out) {
		t.Fatalf("list: %d\n%s", code, out)
	}
	if code, out, _ := users("", "reset-totp", "-username", "ana"); code != exitOK || !strings.Contains(out, "otpauth://totp/Amparo:ana?") {
		t.Fatalf("reset-totp: %d %q", code, out)
	}
	if code, _, _ := users("", "disable", "-username", "ana"); code != exitOK {
		t.Fatalf("disable: %d", code)
	}
	if _, out, _ := users("", "list"); !strings.Contains(out, "disabled") {
		t.Fatalf("list after disable:\n%s", out)
	}
	if code, _, stderr := users("", "disable", "-username", "nadie"); code != exitFail || !strings.Contains(stderr, "no such account") {
		t.Fatalf("disable unknown: %d %q", code, stderr)
	}
}
