package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/amparo/amparo/audit"
)

var auditCommands = map[string]command{
	"verify": {"verify the whole hash chain, against recorded anchors too; exit 1 when it does not verify", runAuditVerify},
}

func runAudit(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && !slices.Contains([]string{"-h", "-help", "--help"}, args[0])) {
		// `amparo audit [-anchor ROW:HASH]`, from before there were
		// subcommands, still verifies: runbooks and timers call it so.
		return runAuditVerify(ctx, args, env)
	}
	return group{name: "audit", subs: auditCommands}.run(ctx, args, env)
}

func runAuditVerify(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("audit verify", `Verify the audit log's hash chain and print its newest row as ROW:HASH.
Write that down outside the database (serve also logs it hourly as "audit: chain head",
with row and hash): a later run with -anchor ROW:HASH shows whether anyone with
write access to the database rebuilt the chain since. Exits 1 when it does not verify.`, env)
	var anchors anchorFlag
	fs.Var(&anchors, "anchor", "a ROW:HASH recorded earlier that the chain must still pass through (repeatable)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	_, _, pool, ok := connect(ctx, "audit", env, needs{})
	if !ok {
		return exitFail
	}
	defer pool.Close()
	n, head, err := audit.Verify(ctx, pool, anchors...)
	if err != nil {
		fmt.Fprintln(env.Stderr, "amparo audit:", err)
		return exitFail
	}
	if n == 0 {
		fmt.Fprintln(env.Stdout, "audit chain: empty")
		return exitOK
	}
	fmt.Fprintf(env.Stdout, "audit chain intact: %d rows; head %s\n", n, head)
	return exitOK
}

// anchorFlag collects -anchor values.
type anchorFlag []audit.Head

func (a *anchorFlag) String() string {
	s := make([]string, len(*a))
	for i, h := range *a {
		s[i] = h.String()
	}
	return strings.Join(s, ",")
}

func (a *anchorFlag) Set(v string) error {
	h, err := audit.ParseHead(v)
	if err != nil {
		return err
	}
	*a = append(*a, h)
	return nil
}
