package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/amparo/amparo/internal/pgtest"
)

// testEnv returns an Env reading vars and files from maps (files nil: the
// real file system), and its output.
func testEnv(vars map[string]string, files map[string]string) (Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return Env{
		Getenv: func(k string) string { return vars[k] },
		ReadFile: func(p string) ([]byte, error) {
			if s, ok := files[p]; ok {
				return []byte(s), nil
			}
			if files == nil { // no fake files: the real file system, as demo writes its keyring there
				return os.ReadFile(p)
			}
			return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
		},
		Stdout: &out,
		Stderr: &errOut,
	}, &out, &errOut
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"migrate", "-nope"}, {"serve", "-nope"}, {"migrate", "extra"}} {
		env, _, stderr := testEnv(nil, nil)
		if code := run(context.Background(), args, env); code != exitUsage {
			t.Errorf("amparo %v: exit %d, want %d", args, code, exitUsage)
		}
		if !strings.Contains(stderr.String(), "usage: amparo") {
			t.Errorf("amparo %v: no usage text on stderr: %q", args, stderr)
		}
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"serve", "-h"}, {"migrate", "-h"}, {"demo", "-h"}} {
		env, _, stderr := testEnv(nil, nil)
		if code := run(context.Background(), args, env); code != exitOK {
			t.Errorf("amparo %v: exit %d, want 0", args, code)
		}
		if stderr.Len() == 0 {
			t.Errorf("amparo %v printed no help", args)
		}
	}
}

func TestConfigNamesEveryProblem(t *testing.T) {
	env, _, _ := testEnv(map[string]string{
		"DATABASE_URL":           "mysql://x",
		"AMPARO_ADDR":            "8080",
		"AMPARO_METRICS_ADDR":    "9090",
		"TWILIO_ACCOUNT_SID":     "nope",
		"TWILIO_AUTH_TOKEN":      "a",
		"TWILIO_AUTH_TOKEN_FILE": "/run/secrets/token",
		"TWILIO_FROM_NUMBER":     "987654321",
		"TWILIO_API_URL":         "not a url",
		"AMPARO_LOG_LEVEL":       "loud",
		"AMPARO_TIME_ZONE":       "Peru/Trujillo",

		"AMPARO_FALLBACK_DUTY_NUMBERS": "+51944000001, 944 000 002",
	}, nil)
	_, err := loadConfig(env, needs{web: true, twilio: true})
	var ce configErrors
	if !errors.As(err, &ce) {
		t.Fatalf("want configErrors, got %v", err)
	}
	msg := err.Error()
	for _, name := range []string{"DATABASE_URL must be", "AMPARO_ADDR", "AMPARO_METRICS_ADDR must be host:port", "AMPARO_PUBLIC_URL is required", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN and TWILIO_AUTH_TOKEN_FILE are both set", "TWILIO_FROM_NUMBER", "TWILIO_API_URL", "AMPARO_LOG_LEVEL", `AMPARO_TIME_ZONE must be an IANA time zone name such as America/Lima or Europe/Madrid (got "Peru/Trujillo")`, "AMPARO_FALLBACK_DUTY_NUMBERS must be E.164 numbers separated by commas, e.g. +51944000001,+51944000002 (entry 2 is not)"} {
		if !strings.Contains(msg, name) {
			t.Errorf("error does not mention %q:\n%s", name, msg)
		}
	}
	if strings.Contains(msg, "987654321") || strings.Contains(msg, "000 002") {
		t.Errorf("error echoes the configured number: %s", msg)
	}
}

func TestTimeZoneDefaultsToLimaAndTakesAnyIANAName(t *testing.T) {
	for set, want := range map[string]string{"": "America/Lima", "Europe/Madrid": "Europe/Madrid"} {
		env, _, _ := testEnv(map[string]string{"DATABASE_URL": "postgres://x", "AMPARO_TIME_ZONE": set}, nil)
		cfg, err := loadConfig(env, needs{})
		if err != nil || cfg.TimeZone.String() != want {
			t.Errorf("AMPARO_TIME_ZONE=%q: %v %v, want %s", set, cfg.TimeZone, err, want)
		}
	}
}

func TestSecretsFromFiles(t *testing.T) {
	env, _, _ := testEnv(map[string]string{
		"DATABASE_URL_FILE":      "/run/secrets/db",
		"AMPARO_PUBLIC_URL":      "https://amparo.example.org",
		"TWILIO_ACCOUNT_SID":     "AC" + strings.Repeat("a", 32),
		"TWILIO_AUTH_TOKEN_FILE": "/run/secrets/token",
		"TWILIO_FROM_NUMBER":     "+51987000000",

		"AMPARO_FALLBACK_DUTY_NUMBERS": " +51944000001 ,+51944000002,",
	}, map[string]string{"/run/secrets/db": "postgres://a@b/c\n", "/run/secrets/token": "s3cret\n"})
	cfg, err := loadConfig(env, needs{web: true, twilio: true})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != "postgres://a@b/c" || cfg.TwilioAuthToken != "s3cret" || cfg.Addr != "127.0.0.1:8080" ||
		strings.Join(cfg.FallbackDuty, " ") != "+51944000001 +51944000002" {
		t.Errorf("unexpected config %+v", cfg)
	}
	env, _, _ = testEnv(map[string]string{"DATABASE_URL_FILE": "/missing"}, nil)
	if _, err := loadConfig(env, needs{}); err == nil || !strings.Contains(err.Error(), "DATABASE_URL_FILE: cannot read /missing") {
		t.Errorf("missing secret file: got %v", err)
	}
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	url := emptyDatabase(t)
	for i := range 2 {
		env, stdout, stderr := testEnv(map[string]string{"DATABASE_URL": url}, nil)
		if code := run(context.Background(), []string{"migrate"}, env); code != exitOK {
			t.Fatalf("migrate run %d: exit %d: %s", i+1, code, stderr)
		}
		if !strings.Contains(stdout.String(), "current") {
			t.Errorf("migrate run %d printed %q", i+1, stdout)
		}
	}
}

// emptyDatabase returns the URL of a database with no schema at all, so
// migrate has real work to do.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	admin := pgtest.AdminURL(t)
	return pgtest.EmptyDatabase(t, admin)
}
