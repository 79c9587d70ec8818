package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/referral"
	"github.com/amparo/amparo/roster"
)

// cliActor is who the audit log says acted when an administrator ran a
// command at the server.
const cliActor = "cli"

var directoryCommands = map[string]command{
	"import": {"make the service directory what a JSON file says (-dry-run: show the difference only)", runDirectoryImport},
	"export": {"print the service directory as the JSON file import reads", runDirectoryExport},
}

var oncallCommands = map[string]command{
	"add":    {"put a phone on the on-call roster for a shift", runOncallAdd},
	"list":   {"list current and upcoming shifts (phones masked)", runOncallList},
	"remove": {"take a shift off the roster by its ID", runOncallRemove},
}

func runDirectory(ctx context.Context, args []string, env Env) int {
	return group{name: "directory", subs: directoryCommands}.run(ctx, args, env)
}

func runOncall(ctx context.Context, args []string, env Env) int {
	return group{name: "oncall", subs: oncallCommands}.run(ctx, args, env)
}

// oneArg parses flags followed by exactly one argument.
func oneArg(fs *flag.FlagSet, what string, args []string) (arg string, code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return "", exitOK, true
		}
		return "", exitUsage, true
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(fs.Output(), "amparo %s: want exactly one %s\n", fs.Name(), what)
		fs.Usage()
		return "", exitUsage, true
	}
	return fs.Arg(0), 0, false
}

func adminPool(ctx context.Context, env Env) (*pgxpool.Pool, error) {
	cfg, err := loadConfig(env, needs{})
	if err != nil {
		return nil, err
	}
	return openPool(ctx, cfg)
}

func runDirectoryImport(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("directory import", "Make the service directory what FILE says (the format `amparo directory export`\n"+
		"writes), all or nothing, and print what changed. Services missing from FILE are\n"+
		"listed and left as they are; set \"active\": false to retire one.\n\nusage: amparo directory import [-dry-run] FILE", env)
	dry := fs.Bool("dry-run", false, "print the difference and write nothing")
	file, code, done := oneArg(fs, "FILE", args)
	if done {
		return code
	}
	body, err := env.ReadFile(file)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo directory import:", err)
		return exitFail
	}
	pool, err := adminPool(ctx, env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo directory import:", err)
		return exitFail
	}
	defer pool.Close()
	changes, err := referral.ImportDirectory(ctx, pool, bytes.NewReader(body), *dry, cliActor, time.Now())
	if err != nil {
		// One problem a line: a file may have many.
		fmt.Fprintln(env.Stderr, "amparo directory import: nothing written:\n"+err.Error())
		return exitFail
	}
	for _, c := range changes {
		fmt.Fprintln(env.Stdout, c)
	}
	switch {
	case len(changes) == 0:
		fmt.Fprintln(env.Stdout, "no changes")
	case *dry:
		fmt.Fprintln(env.Stdout, "dry run: nothing written")
	}
	return exitOK
}

func runDirectoryExport(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("directory export", "Print the service directory as JSON: the file `amparo directory import` reads.", env)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	pool, err := adminPool(ctx, env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo directory export:", err)
		return exitFail
	}
	defer pool.Close()
	d, err := referral.ExportDirectory(ctx, pool)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo directory export:", err)
		return exitFail
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		fmt.Fprintln(env.Stderr, "amparo directory export:", err)
		return exitFail
	}
	return exitOK
}

// shiftLayouts are the forms -from and -to take, read in the deployment's
// time zone unless they carry an offset.
var shiftLayouts = []string{"2006-01-02 15:04", "2006-01-02T15:04", time.RFC3339}

func parseShiftTime(s string, loc *time.Location) (time.Time, error) {
	for _, l := range shiftLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %q is not a time like \"2026-12-01 08:00\"", roster.ErrBadInput, s)
}

func runOncallAdd(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("oncall add", "Put a phone on the on-call roster: danger alerts and missed deadlines go to\n"+
		"the counsellors on call, then the supervisors. Times are in the deployment's\n"+
		"time zone (the directory's), e.g. \"2026-12-01 08:00\".", env)
	role := fs.String("role", "", "counsellor or supervisor")
	phone := fs.String("phone", "", "the work phone, E.164 (+51...)")
	from := fs.String("from", "", "when the shift starts")
	to := fs.String("to", "", "when the shift ends")
	name := fs.String("name", "", "who is on call (shown by list)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *role == "" || *phone == "" || *from == "" || *to == "" {
		fmt.Fprintln(env.Stderr, "amparo oncall add: -role, -phone, -from and -to are required")
		return exitUsage
	}
	pool, err := adminPool(ctx, env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo oncall add:", err)
		return exitFail
	}
	defer pool.Close()
	id, err := addShift(ctx, pool, roster.Shift{Role: roster.Role(*role), Phone: *phone, Name: *name}, *from, *to)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo oncall add:", err)
		if errors.Is(err, roster.ErrBadInput) {
			return exitUsage
		}
		return exitFail
	}
	fmt.Fprintf(env.Stdout, "added shift %d\n", id)
	return exitOK
}

func addShift(ctx context.Context, pool *pgxpool.Pool, sh roster.Shift, from, to string) (int64, error) {
	loc, err := referral.DirectoryZone(ctx, pool)
	if err != nil {
		return 0, err
	}
	if sh.Starts, err = parseShiftTime(from, loc); err != nil {
		return 0, err
	}
	if sh.Ends, err = parseShiftTime(to, loc); err != nil {
		return 0, err
	}
	return roster.AddShift(ctx, pool, sh, cliActor, time.Now())
}

func runOncallList(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("oncall list", "List the shifts under way and to come, in the deployment's time zone.\nPhones show their last three digits only.", env)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	pool, err := adminPool(ctx, env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo oncall list:", err)
		return exitFail
	}
	defer pool.Close()
	loc, err := referral.DirectoryZone(ctx, pool)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo oncall list:", err)
		return exitFail
	}
	now := time.Now()
	shifts, err := roster.Shifts(ctx, pool, now)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo oncall list:", err)
		return exitFail
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\tROLE\tNAME\tPHONE\tFROM (%s)\tTO\tNOW\n", loc)
	for _, s := range shifts {
		current := ""
		if !s.Starts.After(now) {
			current = "on call"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Role, orDash(s.Name), roster.MaskPhone(s.Phone),
			s.Starts.In(loc).Format("2006-01-02 15:04"), s.Ends.In(loc).Format("2006-01-02 15:04"), current)
	}
	tw.Flush()
	return exitOK
}

func runOncallRemove(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("oncall remove", "Take a shift off the roster.\n\nusage: amparo oncall remove ID", env)
	arg, code, done := oneArg(fs, "shift ID", args)
	if done {
		return code
	}
	id, err := strconv.ParseInt(strings.TrimSpace(arg), 10, 64)
	if err != nil {
		fmt.Fprintf(env.Stderr, "amparo oncall remove: %q is not a shift ID (see amparo oncall list)\n", arg)
		return exitUsage
	}
	pool, err := adminPool(ctx, env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo oncall remove:", err)
		return exitFail
	}
	defer pool.Close()
	if err := roster.RemoveShift(ctx, pool, id, cliActor, time.Now()); err != nil {
		fmt.Fprintln(env.Stderr, "amparo oncall remove:", err)
		return exitFail
	}
	fmt.Fprintf(env.Stdout, "removed shift %d\n", id)
	return exitOK
}
