package portal

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/portal/internal/portaldb"
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
	q := portaldb.New(tx)
	stale, err := q.StaleStaffKeys(ctx, k.keys.CurrentKEKID(), int32(limit))
	if err != nil {
		return 0, fmt.Errorf("portal: rewrap: %w", err)
	}
	for _, r := range stale {
		_, key, err := casefile.RewrapRowKey(k.keys, "staff_user", r.ID, r.KekID, r.WrappedDek)
		if err != nil {
			return 0, fmt.Errorf("portal: rewrap: %w", err)
		}
		if err := q.RewrapStaffKey(ctx, key.KEKID, key.Wrapped, r.ID); err != nil {
			return 0, fmt.Errorf("portal: rewrap: %w", err)
		}
	}
	return len(stale), nil
}
