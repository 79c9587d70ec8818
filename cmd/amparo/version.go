package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version and commit are set by `make release` (-ldflags -X) from git; a
// plain `go build` says "dev" and takes the commit the Go toolchain records
// in a binary built from a checkout, where it can.
var (
	version = "dev"
	commit  = ""
)

func runVersion(_ context.Context, args []string, env Env) int {
	fs := newFlagSet("version", "Print the version, the commit it was built from and the Go version.", env)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	rev, modified := commit, false
	if info, ok := debug.ReadBuildInfo(); ok && rev == "" {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if rev == "" {
		rev = "unknown"
	}
	if modified {
		rev += " (modified)"
	}
	fmt.Fprintf(env.Stdout, "amparo %s\ncommit %s\n%s %s/%s\n", version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
