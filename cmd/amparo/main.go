// Command amparo is the one binary of the Amparo hotline and referral
// system: it serves the webhooks and the portal, runs the River workers,
// applies migrations and manages keys. This package only wires the parts
// together; behaviour lives in the domain packages.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/amparo/amparo/internal/clock"
)

// Env is the outside world a subcommand sees; tests substitute it.
type Env struct {
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
	Stdin    io.Reader
	Stdout   io.Writer
	Stderr   io.Writer
	// Clock is the demo's time; nil is the real clock. The browser test
	// moves it to the hours a survivor allowed.
	Clock clock.Clock
}

type command struct {
	summary string
	run     func(ctx context.Context, args []string, env Env) int
}

// Exit statuses: 0 success, 1 failure at run time, 2 a usage error.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func commands() map[string]command {
	return map[string]command{
		"serve":     {"run the web server and the job workers", runServe},
		"migrate":   {"apply database migrations (idempotent)", runMigrate},
		"demo":      {"run the whole system locally: demo data, a simulated phone and the staff portal", runDemo},
		"keys":      {"manage encryption keys: generate, rotate, status, rewrap, verify", runKeys},
		"audit":     {"the audit log: verify its hash chain, against recorded anchors too", runAudit},
		"version":   {"print the version and the commit it was built from", runVersion},
		"users":     {"manage portal accounts: add, list, disable, reset-totp", runUsers},
		"directory": {"import or export the service directory (JSON)", runDirectory},
		"oncall":    {"manage the on-call roster: add, list, remove", runOncall},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := Env{Getenv: os.Getenv, ReadFile: os.ReadFile, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	os.Exit(run(ctx, os.Args[1:], env))
}

func run(ctx context.Context, args []string, env Env) int {
	return group{subs: commands(),
		footer: "Run 'amparo COMMAND -h' for a command's flags. Configuration comes from the environment; see README.md."}.run(ctx, args, env)
}
