package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/amparo/amparo/audit"
)

func runAudit(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("audit", `Verify the audit log's hash chain and print its newest row as ROW:HASH.
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
