package casefile

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile/internal/casefiledb"
	"github.com/amparo/amparo/crypto"
)

// TableCheck is one line of `amparo keys verify`: how many rows of Table
// opened with the keyring, and the ids of those that did not. Ids only:
// never content.
type TableCheck struct {
	Table  string
	OK     int
	Failed []uuid.UUID
}

// casefileKeyRows says how casefile's own wrapped keys are found and whom
// they belong to; every other table keeps one data key a row, owned by
// "<table>|<id>" (see RewrapRowKey).
var casefileKeyRows = map[string]struct {
	idColumn string
	owner    func(uuid.UUID) string
}{
	"contact":  {"id", contactOwner},
	"case_key": {"case_id", caseOwner},
}

// VerifyKeys unwraps every wrapped data key of every KeyColumns table with
// the keyring, then opens every case that is not erased (its facts and its
// notes), and reports per table what opened and what did not. It is the
// restore drill's proof that a copy of the database and a copy of the
// keyring still belong together; shredded keys (erased cases and
// contacts) hold nothing to open and are not counted.
func (s *Store) VerifyKeys(ctx context.Context) ([]TableCheck, error) {
	var out []TableCheck
	for _, c := range s.KeyColumns() {
		if c.Index {
			continue
		}
		idColumn, owner := "id", func(id uuid.UUID) string { return c.Table + "|" + id.String() }
		if own, ok := casefileKeyRows[c.Table]; ok {
			idColumn, owner = own.idColumn, own.owner
		}
		check, err := s.verifyTable(ctx, c, idColumn, owner)
		if err != nil {
			return nil, err
		}
		out = append(out, check)
	}
	cases, err := s.verifyCases(ctx)
	if err != nil {
		return nil, err
	}
	return append(out, cases), nil
}

// verifyTable unwraps every key of column c. Its SQL is built in Go, not a
// named query: c may be any KeyHolder's column, known at run time.
// Identifiers come from code, never from input.
func (s *Store) verifyTable(ctx context.Context, c KeyColumn, idColumn string, owner func(uuid.UUID) string) (TableCheck, error) {
	check := TableCheck{Table: c.Table}
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT %s, %s, %s FROM %s WHERE %s IS NOT NULL ORDER BY 1`,
		idColumn, c.KeyIDColumn, c.Column, c.Table, c.Column))
	if err != nil {
		return check, fmt.Errorf("casefile: verify %s: %w", c.Table, err)
	}
	var (
		id      uuid.UUID
		kekID   *string
		wrapped []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &kekID, &wrapped}, func() error {
		if kekID == nil {
			check.Failed = append(check.Failed, id)
			return nil
		}
		_, err := crypto.UnwrapDataKey(s.keys, *kekID, wrapped, owner(id))
		switch {
		case unopenable(err):
			check.Failed = append(check.Failed, id)
		case err != nil:
			return err
		default:
			check.OK++
		}
		return nil
	})
	if err != nil {
		return check, fmt.Errorf("casefile: verify %s: %w", c.Table, err)
	}
	return check, nil
}

// verifyCases opens every case not erased as the portal does: its sealed
// facts and every note. A case erased after the listing is skipped.
func (s *Store) verifyCases(ctx context.Context) (TableCheck, error) {
	check := TableCheck{Table: "case_file"}
	ids, err := casefiledb.New(s.pool).LiveCaseIDs(ctx)
	if err != nil {
		return check, fmt.Errorf("casefile: verify cases: %w", err)
	}
	for _, id := range ids {
		_, err := s.GetCase(ctx, s.pool, id)
		if err == nil {
			_, err = s.Notes(ctx, s.pool, id)
		}
		switch {
		case errors.Is(err, ErrErased):
		case unopenable(err):
			check.Failed = append(check.Failed, id)
		case err != nil:
			return check, fmt.Errorf("casefile: verify case %s: %w", id, err)
		default:
			check.OK++
		}
	}
	return check, nil
}

// unopenable says err is the keyring's verdict on stored bytes (a KEK it
// lacks, a key or value that does not open), not a fault of the database
// or of a KMS on the way, which stops verification instead of being
// counted against a row.
func unopenable(err error) bool {
	return errors.Is(err, crypto.ErrDecrypt) || errors.Is(err, crypto.ErrUnknownKEK) ||
		errors.Is(err, crypto.ErrTruncated) || errors.Is(err, crypto.ErrUnknownVersion)
}
