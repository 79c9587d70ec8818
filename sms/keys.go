package sms

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/sms/internal/smsdb"
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
	todo, err := smsdb.New(tx).RewrapCandidates(ctx, kek, idx, int32(limit))
	if err != nil {
		return 0, fmt.Errorf("sms: rewrap outbound_message: %w", err)
	}
	var b pgx.Batch
	for _, r := range todo {
		owner := outboundTable + "|" + r.ID.String()
		if r.KekID == nil {
			// A data key with no KEK id cannot be opened: loud, with the row.
			return 0, fmt.Errorf("sms: rewrap: data key of %s has no KEK id", owner)
		}
		key, err := crypto.OpenRowKey(k.keys, outboundTable, r.ID.String(), *r.KekID, r.WrappedDek)
		if err != nil {
			// Loud, with the row: the fix is restoring the KEK.
			return 0, fmt.Errorf("sms: rewrap: unwrap data key of %s: %w", owner, err)
		}
		rewrapped, err := key.Rewrap(k.keys)
		if err != nil {
			return 0, fmt.Errorf("sms: rewrap: wrap data key of %s: %w", owner, err)
		}
		to, err := key.Open("to", r.ToSealed)
		if err != nil {
			return 0, fmt.Errorf("sms: rewrap: open recipient of %s: %w", owner, err)
		}
		// One statement per row, pipelined in one round trip.
		b.Queue(smsdb.Rewrap, &rewrapped.KEKID, rewrapped.Wrapped, k.index.Current(string(to)), idx, r.ID)
	}
	if b.Len() == 0 {
		return 0, nil
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return 0, fmt.Errorf("sms: rewrap outbound_message: %w", err)
	}
	return len(todo), nil
}
