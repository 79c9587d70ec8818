package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/amparo/amparo/internal/logging"
	"github.com/amparo/amparo/migrations"
)

func newLogger(env Env, cfg config) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel))) // validated in loadConfig
	return logging.New(env.Stderr, level)
}

// connect loads the configuration a subcommand needs, its logger and its
// pool. On failure it has printed why, prefixed with the subcommand's name,
// and ok is false.
func connect(ctx context.Context, name string, env Env, n needs) (cfg config, log *slog.Logger, pool *pgxpool.Pool, ok bool) {
	cfg, err := loadConfig(env, n)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return cfg, nil, nil, false
	}
	log = newLogger(env, cfg)
	if pool, err = openPool(ctx, cfg); err != nil {
		fmt.Fprintf(env.Stderr, "amparo %s: %v\n", name, err)
		return cfg, nil, nil, false
	}
	return cfg, log, pool, true
}

// openPool connects lazily: pgxpool does not dial until first use, so a
// server can start while the database is down and become ready later.
func openPool(ctx context.Context, cfg config) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pc.MaxConnIdleTime = 5 * time.Minute
	pc.HealthCheckPeriod = 5 * time.Second
	return pgxpool.NewWithConfig(ctx, pc)
}

// readiness is ready when the database answers and its schema is current.
func readiness(pool *pgxpool.Pool) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := pool.Ping(ctx); err != nil {
			return fmt.Errorf("database: %w", err)
		}
		return migrations.Check(ctx, pool)
	}
}
