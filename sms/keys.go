package sms

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
)

// KeyTables is the outbox's share of what depends on the keyring: each
// outbound_message row has its own data key, and its recipient is found by
// phone index, as is a number's SALIR (sms_opt_out). It is a casefile.KeyHolder, so that `amparo keys rewrap`
// moves these rows too and `amparo keys status` never calls a key retirable
// while one of them still needs it. The keys subcommands build it from the
// keyring alone.
type KeyTables struct {
	keys  crypto.KeyWrapper
	index *crypto.BlindIndex
}

var _ casefile.KeyHolder = (*KeyTables)(nil)

// NewKeyTables returns the outbox's KeyHolder for keys and index.
func NewKeyTables(keys crypto.KeyWrapper, index *crypto.BlindIndex) *KeyTables {
	return &KeyTables{keys: keys, index: index}
}

// KeyColumns implements casefile.KeyHolder.
func (*KeyTables) KeyColumns() []casefile.KeyColumn {
	return []casefile.KeyColumn{
		{Table: "outbound_message", Column: "wrapped_dek", KeyIDColumn: "kek_id"},
		{Table: "outbound_message", Column: "to_index", KeyIDColumn: "index_key_id", Index: true},
		{Table: "sms_opt_out", Column: "phone_index", KeyIDColumn: "index_key_id", Index: true},
	}
}

// Rewrap implements casefile.KeyHolder: up to limit rows get their data
// key re-wrapped under the current KEK and their recipient re-indexed
// under the current index key, from the sealed number only the row's own
// key can open. Opt-outs have no number beside them to re-index from: they
// stay, for `amparo keys status` to report, and are found under every
// accepted key.
func (k *KeyTables) Rewrap(ctx context.Context, tx pgx.Tx, limit int) (int, error) {
	kek, idx := k.keys.CurrentKEKID(), k.index.CurrentKeyID()
	rows, err := tx.Query(ctx, `SELECT id, kek_id, wrapped_dek, to_sealed FROM outbound_message
		WHERE wrapped_dek IS NOT NULL AND (kek_id <> $1 OR (to_index IS NOT NULL AND index_key_id IS DISTINCT FROM $3))
		LIMIT $2 FOR UPDATE SKIP LOCKED`, kek, limit, idx)
	if err != nil {
		return 0, fmt.Errorf("sms: rewrap outbound_message: %w", err)
	}
	type row struct {
		id              uuid.UUID
		kekID           string
		wrapped, toSeal []byte
	}
	todo, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.kekID, &x.wrapped, &x.toSeal)
	})
	if err != nil {
		return 0, fmt.Errorf("sms: rewrap outbound_message: %w", err)
	}
	var b pgx.Batch
	for _, r := range todo {
		owner := outboundOwner(r.id)
		dek, err := crypto.UnwrapDataKey(k.keys, r.kekID, r.wrapped, owner)
		if err != nil {
			// Loud, with the row: the fix is restoring the KEK.
			return 0, fmt.Errorf("sms: rewrap: unwrap data key of %s: %w", owner, err)
		}
		newKEK, wrapped, err := crypto.WrapDataKey(k.keys, dek, owner)
		if err != nil {
			return 0, fmt.Errorf("sms: rewrap: wrap data key of %s: %w", owner, err)
		}
		to, err := dek.Open(r.toSeal, outboundBinding(r.id, "to"))
		if err != nil {
			return 0, fmt.Errorf("sms: rewrap: open recipient of %s: %w", owner, err)
		}
		// A row already shredded of its index keeps none.
		b.Queue(`UPDATE outbound_message SET kek_id = $2, wrapped_dek = $3,
			to_index = CASE WHEN to_index IS NULL THEN NULL ELSE $4::bytea END,
			index_key_id = CASE WHEN to_index IS NULL THEN NULL ELSE $5 END WHERE id = $1`,
			r.id, newKEK, wrapped, k.index.Current(string(to)), idx)
	}
	if b.Len() == 0 {
		return 0, nil
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return 0, fmt.Errorf("sms: rewrap outbound_message: %w", err)
	}
	return len(todo), nil
}
