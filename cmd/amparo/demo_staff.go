package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/internal/clock"
	"github.com/amparo/amparo/portal"
)

// demoStaff creates the demo's staff accounts (once) and says how to sign
// in as each.
func demoStaff(ctx context.Context, env Env, pool *pgxpool.Pool, public string) error {
	ring, err := crypto.LoadKeyring(env.Getenv, env.ReadFile)
	if err != nil {
		return err
	}
	users, err := portal.NewAccounts(pool, ring, nil, clock.Real{}, nil).EnsureDemoStaff(ctx)
	if err != nil {
		return fmt.Errorf("demo staff: %w", err)
	}
	fmt.Fprintf(env.Stdout, "\nPortal: %s/sign-in — demo staff accounts (password %s; current TOTP codes at %s/demo/staff):\n",
		public, portal.DemoPassword, public)
	for _, u := range users {
		fmt.Fprintf(env.Stdout, "  %-18s %s\n", u.Username, u.Role)
	}
	return nil
}
