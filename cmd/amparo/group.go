package main

import (
	"context"
	"fmt"
	"io"
	"sort"
)

// group is a command made of subcommands (`amparo keys rotate`), with the
// same help and usage-error rules as the top level: no subcommand or an
// unknown one exits 2, help exits 0. footer, if set, ends the usage text.
type group struct {
	name   string
	subs   map[string]command
	footer string
}

func (g group) run(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		g.usage(env.Stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := g.subs[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "amparo %s: unknown subcommand %q\n\n", g.name, args[0])
		g.usage(env.Stderr)
		return exitUsage
	}
	return c.run(ctx, args[1:], env)
}

func (g group) usage(w io.Writer) {
	names := make([]string, 0, len(g.subs))
	width := 0
	for n := range g.subs {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	fmt.Fprintf(w, "usage: amparo %s SUBCOMMAND [flags]\n\nsubcommands:\n", g.name)
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, g.subs[n].summary)
	}
	if g.footer != "" {
		fmt.Fprintln(w, "\n"+g.footer)
	}
}
