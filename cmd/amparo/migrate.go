package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/amparo/amparo/migrations"
)

func runMigrate(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("migrate", "Apply River's and Amparo's database migrations. Safe to run twice and\nfrom several copies at once (an advisory lock serialises them). Run it as\nthe role that owns the schema; -grant-to gives serve's own role what it\nneeds and no more.", env)
	grantTo := fs.String("grant-to", "", "after migrating, grant ROLE the privileges `amparo serve` needs (rows, not schema; the audit log append-only)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	_, log, pool, ok := connect(ctx, "migrate", env, needs{})
	if !ok {
		return exitFail
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool, log); err != nil {
		fmt.Fprintln(env.Stderr, "amparo migrate:", err)
		return exitFail
	}
	fmt.Fprintln(env.Stdout, "migrations: database is current")
	if *grantTo != "" {
		if err := migrations.GrantRuntime(ctx, pool, *grantTo); err != nil {
			fmt.Fprintln(env.Stderr, "amparo migrate:", err)
			return exitFail
		}
		fmt.Fprintf(env.Stdout, "migrations: role %s may now serve\n", *grantTo)
	}
	return exitOK
}

// newFlagSet returns a flag set whose errors and -h output go to env.Stderr.
func newFlagSet(name, help string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: amparo %s [flags]\n\n%s\n", name, help)
		if hasFlags(fs) {
			fmt.Fprintln(env.Stderr, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseFlags parses args; done reports that the caller should return code
// (help was shown, or the flags were wrong). Stray arguments are an error.
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK, true
		}
		return exitUsage, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "amparo %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return exitUsage, true
	}
	return 0, false
}
