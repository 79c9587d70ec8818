// Package migrations owns the database schema: the embedded SQL files in sql/
// and the one procedure that applies them together with River's own
// migrations, so that every copy of amparo agrees on what "current" means.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed sql/*.sql
var embedded embed.FS

// advisoryLockKey serialises migrations across every copy of amparo that
// starts at once. Goose's own locker would cover only our files and not
// River's, so one lock is taken around both.
const advisoryLockKey int64 = 0x616d7061726f // "amparo"

// Files returns the embedded SQL migrations (used by the test harness to key
// its template database on their content).
func Files() fs.FS {
	sub, err := fs.Sub(embedded, "sql")
	if err != nil {
		panic(err) // the embed pattern above guarantees the directory exists
	}
	return sub
}

// Up applies River's migrations and then ours, under an advisory lock. It is
// idempotent: a second run on a current database changes nothing.
func Up(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrations: acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", advisoryLockKey); err != nil {
		return fmt.Errorf("migrations: take advisory lock: %w", err)
	}
	defer func() {
		// A fresh context: the caller's may be cancelled, and a lock left
		// behind on a pooled connection would block the next migration.
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", advisoryLockKey); err != nil {
			log.Error("migrations: release advisory lock", "err", err)
		}
	}()

	riverMigrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("migrations: river migrator: %w", err)
	}
	// River's migrator logs each version it applies.
	if _, err := riverMigrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrations: river: %w", err)
	}

	provider, db, err := newProvider(pool)
	if err != nil {
		return err
	}
	defer db.Close()
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrations: amparo: %w", err)
	}
	for _, r := range results {
		log.Info("migrations: applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// ErrPending reports that the database schema is behind this binary.
var ErrPending = errors.New("migrations pending")

// Check returns nil when both River's and our migrations are fully applied,
// ErrPending when some are missing, and another error when the database
// cannot answer.
func Check(ctx context.Context, pool *pgxpool.Pool) error {
	riverMigrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return err
	}
	existing, err := riverMigrator.ExistingVersions(ctx)
	if err != nil {
		return err
	}
	if len(existing) < len(riverMigrator.AllVersions()) {
		return fmt.Errorf("river: %w", ErrPending)
	}
	provider, db, err := newProvider(pool)
	if err != nil {
		return err
	}
	defer db.Close()
	pending, err := provider.HasPending(ctx)
	if err != nil {
		return err
	}
	if pending {
		return ErrPending
	}
	return nil
}

type closer interface{ Close() error }

func newProvider(pool *pgxpool.Pool) (*goose.Provider, closer, error) {
	db := stdlib.OpenDBFromPool(pool)
	provider, err := goose.NewProvider(goose.DialectPostgres, db, Files())
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("migrations: %w", err)
	}
	return provider, db, nil
}
