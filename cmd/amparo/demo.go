package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/internal/pglocal"
	"github.com/amparo/amparo/migrations"
	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/roster"
	"github.com/amparo/amparo/sms/carrier"
)

// The demo's account and its fictional hotline number. Who answers the
// other numbers is data: the demo directory and roster (package referral).
const (
	demoAccountSID    = "AC00000000000000000000000000000000"
	demoHotline       = "+51044000100"
	demoKeyringFile   = "keyring.json"
	demoPhoneJournal  = "phones.jsonl"
	demoClusterSubdir = "pg"
)

func runDemo(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("demo", "Run the whole system locally: a private PostgreSQL (unless DATABASE_URL is\nset), migrations, the demo service directory, a simulated carrier in place\nof Twilio, and the web server with the simulated phone at /demo/phone.", env)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	dir := fs.String("dir", ".amparo-demo", "where the demo keeps its database, keyring and the simulated phones' conversations")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if err := demo(ctx, env, *addr, *dir); err != nil {
		fmt.Fprintln(env.Stderr, "amparo demo:", err)
		return exitFail
	}
	return exitOK
}

func demo(ctx context.Context, env Env, addr, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dbURL := env.Getenv("DATABASE_URL")
	if dbURL == "" {
		cluster, err := pglocal.Start(ctx, pglocal.Options{Dir: filepath.Join(dir, demoClusterSubdir), Durable: true})
		if err != nil {
			return err
		}
		defer cluster.Stop()
		dbURL = cluster.URL
	}
	keyringEnv, err := demoKeyring(env, filepath.Join(dir, demoKeyringFile))
	if err != nil {
		return err
	}
	// A token from the environment lets a load generator sign webhooks as
	// the demo's carrier does (bench/webhookload); otherwise a fresh one.
	token := env.Getenv("TWILIO_AUTH_TOKEN")
	if !alphanumeric.MatchString(token) {
		token = randomToken()
	}
	demoRoster, err := referral.LoadDemoRoster()
	if err != nil {
		return err
	}
	public := "http://" + addr
	vars := map[string]string{
		"DATABASE_URL":       dbURL,
		"AMPARO_ADDR":        addr,
		"AMPARO_PUBLIC_URL":  public,
		"TWILIO_ACCOUNT_SID": demoAccountSID,
		"TWILIO_AUTH_TOKEN":  token,
		"TWILIO_FROM_NUMBER": demoHotline,
		"TWILIO_API_URL":     public + "/carrier",

		"AMPARO_FALLBACK_DUTY_NUMBERS": strings.Join(demoRoster.FallbackDuty, ","),
	}
	for k, v := range keyringEnv {
		vars[k] = v
	}
	denv := env
	denv.Getenv = func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return env.Getenv(k)
	}
	cfg, err := loadConfig(denv, needs{web: true, twilio: true})
	if err != nil {
		return err
	}
	log := newLogger(denv, cfg)
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool, log); err != nil {
		return err
	}
	// Demo providers have fictional duty phones: loading them where real
	// providers exist would route real survivors to numbers nobody answers.
	real, err := referral.HasRealProviders(ctx, pool)
	if err != nil {
		return err
	}
	if real {
		return errors.New("DATABASE_URL holds a real service directory; demo loads fictional providers and must run on its own database")
	}
	if err := referral.LoadDirectory(ctx, pool, referral.DemoDirectory()); err != nil {
		return fmt.Errorf("demo directory: %w", err)
	}
	sim := carrier.New(carrier.Config{AccountSID: demoAccountSID, AuthToken: token, PublicURL: public, HotlineNumber: demoHotline})
	// The database keeps her conversation across a restart; the simulated
	// phones keep theirs in the demo folder, as real phones would.
	if err := sim.Journal(filepath.Join(dir, demoPhoneJournal), log); err != nil {
		return err
	}
	var clk clock.Clock = clock.Real{}
	if env.Clock != nil {
		clk = env.Clock
	}
	a, err := buildApp(ctx, appDeps{cfg: cfg, env: denv, pool: pool, log: log, clock: clk, sim: sim})
	if err != nil {
		return err
	}
	now := clk.Now()
	for _, duty := range demoRoster.OnCall {
		// A restart finds them still on call: adding them again would grow
		// the roster by a row per run.
		phones, err := a.roster.OnCall(ctx, pool, roster.Role(duty.Role))
		if err == nil && !slices.Contains(phones, duty.Phone) {
			err = a.roster.Add(ctx, pool, roster.Role(duty.Role), duty.Phone, now, now.AddDate(1, 0, 0))
		}
		if err != nil {
			return fmt.Errorf("demo on-call roster: %w", err)
		}
	}
	if err := demoStaff(ctx, denv, pool, public); err != nil {
		return err
	}
	return a.run(ctx, addr, func() {
		fmt.Fprintf(env.Stdout, "\nAmparo demo is running.\n  Simulated phone:  %s/demo/phone  (text the hotline as a survivor; read what providers receive)\n  Health:           %s/healthz\nStop with Ctrl-C. Data is kept in %s; delete it to start over.\n\n", public, public, dir)
	})
}

// demoKeyring uses the keyring the environment names, or else the demo's
// own file, generating it (mode 0600) on first run.
func demoKeyring(env Env, path string) (map[string]string, error) {
	if env.Getenv(crypto.EnvKeyring) != "" || env.Getenv(crypto.EnvKeyringFile) != "" {
		return nil, nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		k, err := crypto.GenerateKeyring(time.Now())
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, k, 0o600); err != nil {
			return nil, err
		}
	}
	return map[string]string{crypto.EnvKeyringFile: path}, nil
}

var alphanumeric = regexp.MustCompile(`^[a-zA-Z0-9]+$`)

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
