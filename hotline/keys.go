package hotline

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/casefile"
	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/hotline/internal/hotlinedb"
)

// KeyTables is the hotline's share of what depends on the keyring: every
// inbound message, conversation and voice-event row has its own data key,
// and the hotline's tables find callers by phone index (sms.KeyTables holds
// the outbound texts). It is a casefile.KeyHolder,
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
var sealedTables = []string{"conversation", "inbound_message", "voice_event"}

// KeyColumns implements casefile.KeyHolder.
func (*KeyTables) KeyColumns() []casefile.KeyColumn {
	var out []casefile.KeyColumn
	for _, t := range sealedTables {
		out = append(out, casefile.KeyColumn{Table: t, Column: "wrapped_dek", KeyIDColumn: "kek_id"})
	}
	for _, c := range [][2]string{
		{"conversation", "phone_index"}, {"inbound_message", "phone_index"},
		{"caller_rate", "phone_index"}, {"caller_block", "phone_index"},
	} {
		out = append(out, casefile.KeyColumn{Table: c[0], Column: c[1], KeyIDColumn: "index_key_id", Index: true})
	}
	return out
}

// Rewrap implements casefile.KeyHolder. Data keys are re-wrapped. The
// indexes have no number beside them: a conversation is re-indexed by her
// next message and loses its index when it ends, message rows lose theirs
// to the retention sweep, and rate counters under an old key are dropped
// (no lookup reads them again; her next message starts a new window).
// Blocks stay, for `amparo keys status` to report.
func (k *KeyTables) Rewrap(ctx context.Context, tx pgx.Tx, limit int) (int, error) {
	q := hotlinedb.New(tx)
	stale, err := q.StaleKeys(ctx, k.keys.CurrentKEKID(), int32(limit))
	if err != nil {
		return 0, fmt.Errorf("hotline: rewrap: %w", err)
	}
	var b pgx.Batch
	for _, r := range stale {
		_, key, err := casefile.RewrapRowKey(k.keys, r.Tbl, r.ID, r.KekID, r.WrappedDek)
		if err != nil {
			return 0, fmt.Errorf("hotline: rewrap: %w", err)
		}
		b.Queue(rewrapKeySQL[r.Tbl], key.KEKID, key.Wrapped, r.ID)
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return 0, fmt.Errorf("hotline: rewrap: %w", err)
		}
	}
	dropped, err := q.DropStaleRateCounters(ctx, k.index.CurrentKeyID(), int32(limit))
	if err != nil {
		return len(stale), fmt.Errorf("hotline: rewrap caller_rate: %w", err)
	}
	return len(stale) + int(dropped), nil
}

// rewrapKeySQL stores a re-wrapped key back in the row StaleKeys found it
// in, all in one batch; each takes the KEK id, the wrapped key and the id.
var rewrapKeySQL = map[string]string{
	"conversation":    hotlinedb.RewrapConversationKey,
	"inbound_message": hotlinedb.RewrapInboundKey,
	"voice_event":     hotlinedb.RewrapVoiceEventKey,
}
