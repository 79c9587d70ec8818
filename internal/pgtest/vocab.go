package pgtest

import (
	"context"
	"regexp"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// quoted finds each string literal in a constraint's definition as
// PostgreSQL prints it back: 'open'::text.
var quoted = regexp.MustCompile(`'((?:[^']|'')*)'::text`)

// CheckValues returns the values the CHECK constraints on table.column
// allow, sorted, as the migrated schema spells them: the literals of an
// `IN (...)` list or an `<@ ARRAY[...]` bound. It reads pg_constraint,
// not the migration files, so it sees what every later migration left.
// It fails the test when no CHECK on that column lists values.
func CheckValues(t testing.TB, db *pgxpool.Pool, table, column string) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), `
		SELECT pg_get_constraintdef(c.oid)
		FROM pg_constraint c
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
		WHERE c.contype = 'c' AND c.conrelid = $1::regclass AND a.attname = $2
		  -- a CHECK over several columns (e.g. consented_needs <@ needs) is
		  -- a rule between them, not the column's vocabulary
		  AND cardinality(c.conkey) = 1`, table, column)
	if err != nil {
		t.Fatalf("pgtest: CHECK of %s.%s: %v", table, column, err)
	}
	var values []string
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			t.Fatalf("pgtest: CHECK of %s.%s: %v", table, column, err)
		}
		for _, m := range quoted.FindAllStringSubmatch(def, -1) {
			values = append(values, m[1])
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("pgtest: CHECK of %s.%s: %v", table, column, err)
	}
	if len(values) == 0 {
		t.Fatalf("pgtest: %s.%s has no CHECK listing its values", table, column)
	}
	slices.Sort(values)
	return values
}

// Allows reports whether the CHECK constraints on table.column accept
// value, for columns whose CHECK is a pattern rather than a list.
func Allows(t testing.TB, db *pgxpool.Pool, table, column, value string) bool {
	t.Helper()
	var ok bool
	// A rolled-back insert would need every other column; instead each
	// single-column CHECK is evaluated with the value put in place of the
	// column's name.
	err := db.QueryRow(context.Background(), `
		SELECT coalesce(bool_and(ok), true) FROM (
			SELECT (xpath('//ok/text()', query_to_xml(format('SELECT (%s) AS ok FROM (SELECT %L::text AS %I) v',
			        substring(pg_get_constraintdef(c.oid) FROM '^CHECK \((.*)\)$'), $3::text, $2::text), false, false, '')))[1]::text::boolean AS ok
			FROM pg_constraint c
			JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
			WHERE c.contype = 'c' AND c.conrelid = $1::regclass AND a.attname = $2::text AND cardinality(c.conkey) = 1
		) checks`, table, column, value).Scan(&ok)
	if err != nil {
		t.Fatalf("pgtest: does %s.%s allow %q: %v", table, column, value, err)
	}
	return ok
}

// MatchesCheck fails t unless the CHECK constraints on table.column allow
// exactly the words Go names, in any order: a constant the schema refuses
// would fail only when a real write hits it, and a value the schema allows
// but Go cannot name is a state no code handles.
func MatchesCheck[T ~string](t testing.TB, db *pgxpool.Pool, table, column string, words []T) {
	t.Helper()
	if got, want := CheckValues(t, db, table, column), Sorted(words); !slices.Equal(got, want) {
		t.Errorf("%s.%s: schema allows %q, Go names %q", table, column, got, want)
	}
}

// Sorted spells a Go vocabulary as CheckValues returns a CHECK's, so the
// two compare with slices.Equal.
func Sorted[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	slices.Sort(out)
	return out
}
