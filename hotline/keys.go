package hotline

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
)

// KeyTables is the hotline's share of what depends on the keyring: every
// message, conversation and voice-event row has its own data key, and the
// hotline's tables find callers by phone index. It is a casefile.KeyHolder,
// so that `amparo keys rewrap` moves these rows too and `amparo keys
// status` never calls a key retirable while one of them still needs it.
// It needs no Hotline: the keys subcommands build it from the keyring alone.
type KeyTables struct {
	keys  crypto.KeyWrapper
	index *crypto.BlindIndex
}

var _ casefile.KeyHolder = (*KeyTables)(nil)

// NewKeyTables returns the hotline's KeyHolder for keys and index.
func NewKeyTables(keys crypto.KeyWrapper, index *crypto.BlindIndex) *KeyTables {
	return &KeyTables{keys: keys, index: index}
}

// sealedTables have a data key wrapped in wrapped_dek (KEK id in kek_id),
// owned by "<table>|<id>".
var sealedTables = []string{"conversation", "inbound_message", "outbound_message", "voice_event"}

// KeyColumns implements casefile.KeyHolder.
func (*KeyTables) KeyColumns() []casefile.KeyColumn {
	var out []casefile.KeyColumn
	for _, t := range sealedTables {
		out = append(out, casefile.KeyColumn{Table: t, Column: "wrapped_dek", KeyIDColumn: "kek_id"})
	}
	for _, c := range [][2]string{
		{"conversation", "phone_index"}, {"inbound_message", "phone_index"}, {"outbound_message", "to_index"},
		{"sms_opt_out", "phone_index"}, {"caller_rate", "phone_index"}, {"caller_block", "phone_index"},
	} {
		out = append(out, casefile.KeyColumn{Table: c[0], Column: c[1], KeyIDColumn: "index_key_id", Index: true})
	}
	return out
}

// Rewrap implements casefile.KeyHolder. Data keys are re-wrapped; an
// outbound row's recipient is re-indexed from its sealed number. The other
// indexes have no number beside them: a conversation is re-indexed by her
// next message and loses its index when it ends, message rows lose theirs
// to the retention sweep, and rate counters under an old key are dropped
// (no lookup reads them again; her next message starts a new window).
// Opt-outs and blocks stay, for `amparo keys status` to report.
func (k *KeyTables) Rewrap(ctx context.Context, tx pgx.Tx, limit int) (int, error) {
	kek, idx := k.keys.CurrentKEKID(), k.index.CurrentKeyID()
	total := 0
	for _, t := range sealedTables {
		n, err := k.rewrapTable(ctx, tx, t, kek, idx, limit)
		if err != nil {
			return total, err
		}
		total += n
	}
	tag, err := tx.Exec(ctx, `DELETE FROM caller_rate WHERE phone_index IN (
		SELECT phone_index FROM caller_rate WHERE index_key_id IS DISTINCT FROM $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, idx, limit)
	if err != nil {
		return total, fmt.Errorf("hotline: rewrap caller_rate: %w", err)
	}
	return total + int(tag.RowsAffected()), nil
}

// rewrapTable re-wraps up to limit data keys of table; for outbound rows it
// also re-indexes the recipient, which only the row's own key can open.
func (k *KeyTables) rewrapTable(ctx context.Context, tx pgx.Tx, table, kek, idx string, limit int) (int, error) {
	if table != "outbound_message" {
		n, err := casefile.RewrapTable(ctx, tx, k.keys, table, limit)
		if err != nil {
			return 0, fmt.Errorf("hotline: %w", err)
		}
		return n, nil
	}
	rows, err := tx.Query(ctx, `SELECT id, kek_id, wrapped_dek, to_sealed FROM outbound_message
		WHERE wrapped_dek IS NOT NULL AND (kek_id <> $1 OR (to_index IS NOT NULL AND index_key_id IS DISTINCT FROM $3))
		LIMIT $2 FOR UPDATE SKIP LOCKED`, kek, limit, idx)
	if err != nil {
		return 0, fmt.Errorf("hotline: rewrap outbound_message: %w", err)
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
		return 0, fmt.Errorf("hotline: rewrap outbound_message: %w", err)
	}
	var b pgx.Batch
	for _, r := range todo {
		owner := "outbound_message|" + r.id.String()
		dek, err := crypto.UnwrapDataKey(k.keys, r.kekID, r.wrapped, owner)
		if err != nil {
			// Loud, with the row: the fix is restoring the KEK.
			return 0, fmt.Errorf("hotline: rewrap: unwrap data key of %s: %w", owner, err)
		}
		newKEK, wrapped, err := crypto.WrapDataKey(k.keys, dek, owner)
		if err != nil {
			return 0, fmt.Errorf("hotline: rewrap: wrap data key of %s: %w", owner, err)
		}
		to, err := dek.Open(r.toSeal, outboundBinding(r.id, "to"))
		if err != nil {
			return 0, fmt.Errorf("hotline: rewrap: open recipient of %s: %w", owner, err)
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
		return 0, fmt.Errorf("hotline: rewrap outbound_message: %w", err)
	}
	return len(todo), nil
}
