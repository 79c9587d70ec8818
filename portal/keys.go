package portal

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
)

// KeyTables is the portal's share of what depends on the keyring: each staff
// account's TOTP secret is sealed under a data key of its own. As a
// casefile.KeyHolder it joins `amparo keys rewrap` and `amparo keys status`,
// so retiring a KEK never locks staff out of the portal.
type KeyTables struct{ keys crypto.KeyWrapper }

var _ casefile.KeyHolder = KeyTables{}

// NewKeyTables returns the portal's KeyHolder for keys.
func NewKeyTables(keys crypto.KeyWrapper) KeyTables { return KeyTables{keys: keys} }

// KeyColumns implements casefile.KeyHolder.
func (KeyTables) KeyColumns() []casefile.KeyColumn {
	return []casefile.KeyColumn{{Table: "staff_user", Column: "wrapped_dek", KeyIDColumn: "kek_id"}}
}

// Rewrap implements casefile.KeyHolder.
func (k KeyTables) Rewrap(ctx context.Context, tx pgx.Tx, limit int) (int, error) {
	return casefile.RewrapTable(ctx, tx, k.keys, "staff_user", limit)
}
