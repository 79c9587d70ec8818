package migrations

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// appendOnly are the tables the serving role may read and add to but never
// change: the audit trail, and the two records of which migrations ran (a
// serving role that could rewrite those could make an old binary believe the
// schema is current).
var appendOnly = []string{"audit_log"}
var readOnly = []string{"goose_db_version", "river_migration"}

// GrantRuntime gives role exactly what `amparo serve` needs in the current
// schema: rows in and out of every table, sequences for identity columns, and
// nothing that changes the schema. It is meant to run as the owner right
// after Up, in every release, so tables added by new migrations are covered
// without default privileges that would outlive a mistake. It is idempotent.
//
// The owner keeps the schema; a copy of serve compromised through a bug then
// cannot drop a table, disable the audit trigger or rewrite the audit log.
func GrantRuntime(ctx context.Context, pool *pgxpool.Pool, role string) error {
	if role == "" {
		return fmt.Errorf("migrations: grant: empty role name")
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var schema string
		var isOwner bool
		err := tx.QueryRow(ctx, `SELECT current_schema(), r.rolsuper OR pg_has_role(r.oid, c.relowner, 'USAGE')
				FROM pg_roles r, pg_class c
				WHERE r.rolname = $1 AND c.oid = 'audit_log'::regclass`,
			role).Scan(&schema, &isOwner)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("migrations: grant: no role %q: create it first (README, Running it in production)", role)
		}
		if err != nil {
			return fmt.Errorf("migrations: grant: %w", err)
		}
		if isOwner {
			return fmt.Errorf("migrations: grant: role %q owns the schema or is a superuser; serve needs a role of its own", role)
		}
		r, s := pgx.Identifier{role}.Sanitize(), pgx.Identifier{schema}.Sanitize()
		stmts := []string{
			"GRANT USAGE ON SCHEMA " + s + " TO " + r,
			"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + s + " TO " + r,
			"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA " + s + " TO " + r,
		}
		for _, t := range appendOnly {
			stmts = append(stmts, "REVOKE UPDATE, DELETE, TRUNCATE ON "+s+"."+pgx.Identifier{t}.Sanitize()+" FROM "+r)
		}
		for _, t := range readOnly {
			stmts = append(stmts, "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON "+s+"."+pgx.Identifier{t}.Sanitize()+" FROM "+r)
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("migrations: grant: %w", err)
			}
		}
		return nil
	})
}

// OwnsSchema reports whether the connected role owns the tables (or is a
// superuser): serve warns when it runs with that much power, and leaves
// River's nightly REINDEX, which only an owner may run, to the owner.
func OwnsSchema(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	var owner bool
	err := pool.QueryRow(ctx, `SELECT r.rolsuper OR pg_has_role(r.oid, c.relowner, 'USAGE')
		FROM pg_roles r, pg_class c
		WHERE r.rolname = current_user AND c.oid = 'river_job'::regclass`).Scan(&owner)
	return owner, err
}
