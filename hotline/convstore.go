package hotline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/crypto"
)

// conversation is a live triage conversation, locked for this transaction.
type conversation struct {
	id           uuid.UUID
	contactID    *uuid.UUID
	caseID       *uuid.UUID
	danger       bool
	lastActivity time.Time
	key          *crypto.RowKey
	state        []byte // triage.State as JSON; nil for a new conversation
}

// activeConversationSQL loads her live conversation and locks it. Its one
// argument is her phone index candidates.
const activeConversationSQL = `SELECT id, contact_id, case_id, danger, last_activity, kek_id, wrapped_dek, state_sealed
	FROM conversation WHERE phone_index = ANY($1) AND status = 'active' FOR UPDATE`

// convRow is a conversation row as read, still sealed: it is opened only if
// the message gets as far as her conversation.
type convRow struct {
	candidates      [][]byte // what it was looked up with
	found           bool
	c               conversation
	kekID           string
	wrapped, sealed []byte
}

// scanConversationRow reads the result of activeConversationSQL.
func scanConversationRow(row pgx.Row, candidates [][]byte) (*convRow, error) {
	r := &convRow{candidates: candidates}
	err := row.Scan(&r.c.id, &r.c.contactID, &r.c.caseID, &r.c.danger, &r.c.lastActivity, &r.kekID, &r.wrapped, &r.sealed)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return r, nil
	case err != nil:
		return nil, fmt.Errorf("hotline: load conversation: %w", err)
	}
	r.found = true
	return r, nil
}

// openConversation opens her live conversation as the webhook's opening
// pipeline read it (locked), if she has one.
func (h *Hotline) openConversation(r *convRow) (*conversation, bool, error) {
	if !r.found {
		return nil, false, nil
	}
	c := r.c
	var err error
	if c.key, err = crypto.OpenRowKey(h.keys, "conversation", c.id.String(), r.kekID, r.wrapped); err != nil {
		return nil, false, err
	}
	if c.state, err = c.key.Open("state", r.sealed); err != nil {
		return nil, false, err
	}
	return &c, true, nil
}

// newConversation starts a conversation; it is written by saveConversation.
func (h *Hotline) newConversation() (*conversation, error) {
	id := uuid.New()
	key, err := crypto.NewRowKey(h.keys, "conversation", id.String())
	if err != nil {
		return nil, err
	}
	return &conversation{id: id, key: key}, nil
}

// saveConversation writes c's state back, sealed, inserting it if new. The
// write is held back and sent with the message's own final write and the
// COMMIT (see webhookTx).
func (h *Hotline) saveConversation(w *webhookTx, c *conversation, phoneIndex []byte, isNew bool) error {
	sealed, err := c.key.Seal("state", c.state)
	if err != nil {
		return err
	}
	now := h.clk.Now()
	var (
		sql  string
		args []any
	)
	if !isNew {
		// Her index is written again: one found under an index key that a
		// rotation has since replaced moves to the current key. Unchanged,
		// it keeps the update HOT.
		sql = `UPDATE conversation SET state_sealed = $2, contact_id = $3, case_id = $4, danger = $5, last_activity = $6,
			phone_index = $7, index_key_id = $8
			WHERE id = $1`
		args = []any{c.id, sealed, c.contactID, c.caseID, c.danger, now, phoneIndex, h.index.CurrentKeyID()}
	} else {
		sql = `INSERT INTO conversation
			(id, phone_index, index_key_id, contact_id, case_id, kek_id, wrapped_dek, state_sealed, danger, started_at, last_activity)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`
		args = []any{c.id, phoneIndex, h.index.CurrentKeyID(), c.contactID, c.caseID, c.key.KEKID, c.key.Wrapped, sealed, c.danger, now}
	}
	w.queue(sql, args...)
	return nil
}

// closeConversation ends a conversation and shreds its state: what she
// answered lives on only in the case, if she opened one. Its phone index
// goes too: kept, it would tie her number to when she wrote and to her case.
func (h *Hotline) closeConversation(ctx context.Context, tx pgx.Tx, id uuid.UUID, status string) error {
	_, err := tx.Exec(ctx, `UPDATE conversation SET status = $2, kek_id = NULL, wrapped_dek = NULL, state_sealed = NULL,
		phone_index = NULL, index_key_id = NULL
		WHERE id = $1`, id, status)
	return err
}
