package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

// group is a command made of subcommands (`amparo keys rotate`), or, with
// no name, amparo itself: no subcommand or an unknown one exits 2, help
// exits 0. footer, if set, ends the usage text.
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
		fmt.Fprintf(env.Stderr, "%s: unknown %s %q\n\n", g.prog(), strings.ToLower(g.word()), args[0])
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
	fmt.Fprintf(w, "usage: %s %s [flags]\n\n%ss:\n", g.prog(), g.word(), strings.ToLower(g.word()))
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, g.subs[n].summary)
	}
	if g.footer != "" {
		fmt.Fprintln(w, "\n"+g.footer)
	}
}

func (g group) prog() string { return strings.TrimSpace("amparo " + g.name) }

func (g group) word() string {
	if g.name == "" {
		return "COMMAND"
	}
	return "SUBCOMMAND"
}
