// Command withpg runs another command with AMPARO_TEST_DATABASE_URL pointing
// at a PostgreSQL server: the one already named in that variable, or else a
// private cluster it starts first and stops afterwards, so that `make test`
// leaves nothing running.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/amparo/amparo/internal/pglocal"
)

const envURL = "AMPARO_TEST_DATABASE_URL"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: withpg COMMAND [ARG...]")
		os.Exit(2)
	}
	os.Exit(run(os.Args[1:]))
}

func run(argv []string) int {
	if os.Getenv(envURL) == "" {
		cluster, err := pglocal.Start(context.Background(), pglocal.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer func() {
			if err := cluster.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}()
		os.Setenv(envURL, cluster.URL)
		fmt.Fprintf(os.Stderr, "withpg: private PostgreSQL at %s\n", cluster.URL)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Forward interrupts to the child and wait for it, so the deferred Stop runs.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
