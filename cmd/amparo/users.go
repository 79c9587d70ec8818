package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/portal"
)

var usersCommands = map[string]command{
	"add":        {"create a portal account; the password is read from standard input", runUsersAdd},
	"list":       {"list portal accounts", runUsersList},
	"disable":    {"disable an account; its sessions end at their next request", runUsersDisable},
	"reset-totp": {"give an account a new TOTP secret, enrolled again at its next sign-in", runUsersResetTOTP},
}

func runUsers(ctx context.Context, args []string, env Env) int {
	return group{name: "users", subs: usersCommands}.run(ctx, args, env)
}

// accounts connects to DATABASE_URL with the configured keyring (TOTP
// secrets are sealed under it).
func accounts(ctx context.Context, env Env) (*portal.Accounts, *pgxpool.Pool, error) {
	cfg, err := loadConfig(env, needs{})
	if err != nil {
		return nil, nil, err
	}
	ring, err := crypto.LoadKeyring(env.Getenv, env.ReadFile)
	if err != nil {
		return nil, nil, err
	}
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return portal.NewAccounts(pool, ring, nil, clock.Real{}, newLogger(env, cfg)), pool, nil
}

func runUsersAdd(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("users add", "Create a portal account. The password (at least 12 characters) is read from\n"+
		"the first line of standard input, so it stays out of the shell history and process list.\n"+
		"Prints the TOTP enrolment URI (otpauth://…); the first sign-in shows it as a QR code.", env)
	username := fs.String("username", "", "the account's `name` (a-z 0-9 . _ -)")
	role := fs.String("role", "", "caseworker, supervisor, provider or admin")
	org := fs.String("org", "", "the provider's organisation `key` in the directory (providers only)")
	communities := fs.String("communities", "", "comma-separated communities whose cases she works, e.g. el-porvenir,la-esperanza (default: all)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *username == "" || *role == "" {
		fmt.Fprintln(env.Stderr, "amparo users add: -username and -role are required")
		return exitUsage
	}
	password, err := readPassword(env.Stdin)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo users add:", err)
		return exitUsage
	}
	acc, pool, err := accounts(ctx, env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo users add:", err)
		return exitFail
	}
	defer pool.Close()
	var comm []string
	if *communities != "" {
		comm = strings.Split(*communities, ",")
	}
	u, uri, err := acc.CreateUser(ctx, portal.NewUser{Username: *username, Role: portal.Role(*role), OrgKey: *org,
		Communities: comm, Password: password})
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo users add:", err)
		return exitFail
	}
	fmt.Fprintf(env.Stdout, "created %s (%s)\nTOTP enrolment URI (add it to an authenticator app, or scan the QR code at first sign-in):\n%s\n", u.Username, u.Role, uri)
	return exitOK
}

// readPassword reads one line; a terminal is not required, so scripts and
// `make demo` can pipe it.
func readPassword(r io.Reader) (string, error) {
	if r == nil {
		return "", fmt.Errorf("no password on standard input")
	}
	line, err := bufio.NewReader(io.LimitReader(r, crypto.MaxPasswordBytes+2)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("no password on standard input")
	}
	return line, nil
}

func runUsersList(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("users list", "List portal accounts: name, role, organisation, communities, enrolled, disabled.", env)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	acc, pool, err := accounts(ctx, env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo users list:", err)
		return exitFail
	}
	defer pool.Close()
	users, err := acc.ListUsers(ctx)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo users list:", err)
		return exitFail
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tROLE\tORG\tCOMMUNITIES\tTOTP\tSTATUS")
	for _, u := range users {
		totp, status := "not enrolled", "active"
		if u.Enrolled {
			totp = "enrolled"
		}
		if u.Disabled {
			status = "disabled"
		}
		comm := strings.Join(u.Communities, ",")
		if comm == "" {
			comm = "all"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.Role, orDash(u.OrgKey), comm, totp, status)
	}
	tw.Flush()
	return exitOK
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runUsersDisable(ctx context.Context, args []string, env Env) int {
	return usersByName(ctx, "disable", "Disable an account. Its open sessions end at their next request.", args, env,
		func(acc *portal.Accounts, name string) (string, error) {
			return "disabled " + name, acc.DisableUser(ctx, name, cliActor)
		})
}

func runUsersResetTOTP(ctx context.Context, args []string, env Env) int {
	return usersByName(ctx, "reset-totp", "Give an account a new TOTP secret and print its enrolment URI; the old\n"+
		"authenticator stops working and the next sign-in shows the new QR code.", args, env,
		func(acc *portal.Accounts, name string) (string, error) {
			uri, err := acc.ResetTOTP(ctx, name, cliActor)
			return "new TOTP enrolment URI for " + name + ":\n" + uri, err
		})
}

func usersByName(ctx context.Context, sub, help string, args []string, env Env, act func(*portal.Accounts, string) (string, error)) int {
	fs := newFlagSet("users "+sub, help, env)
	username := fs.String("username", "", "the account's `name`")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *username == "" {
		fmt.Fprintf(env.Stderr, "amparo users %s: -username is required\n", sub)
		return exitUsage
	}
	acc, pool, err := accounts(ctx, env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "amparo users %s: %v\n", sub, err)
		return exitFail
	}
	defer pool.Close()
	out, err := act(acc, *username)
	if err != nil {
		fmt.Fprintf(env.Stderr, "amparo users %s: %v\n", sub, err)
		return exitFail
	}
	fmt.Fprintln(env.Stdout, out)
	return exitOK
}
