package hotline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/crypto"
	"github.com/amparo/amparo/hotline/internal/hotlinedb"
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

// convRow is a conversation row as read, still sealed: it is opened only if
// the message gets as far as her conversation.
type convRow struct {
	candidates      [][]byte // what it was looked up with
	found           bool
	c               conversation
	kekID           string
	wrapped, sealed []byte
}

// scanConversationRow reads the result of hotlinedb.ActiveConversation,
// queued in the webhook's opening pipeline.
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
	keyID := h.index.CurrentKeyID()
	if !isNew {
		w.queue(hotlinedb.UpdateConversation, queryArgs(hotlinedb.UpdateConversationParams{
			StateSealed: sealed, ContactID: c.contactID, CaseID: c.caseID, Danger: c.danger, LastActivity: now,
			PhoneIndex: phoneIndex, IndexKeyID: new(keyID), ID: c.id})...)
	} else {
		w.queue(hotlinedb.InsertConversation, queryArgs(hotlinedb.InsertConversationParams{
			ID: c.id, PhoneIndex: phoneIndex, IndexKeyID: new(keyID), ContactID: c.contactID, CaseID: c.caseID,
			KekID: new(c.key.KEKID), WrappedDek: c.key.Wrapped, StateSealed: sealed, Danger: c.danger, Now: now})...)
	}
	return nil
}

// closeConversation ends a conversation and shreds its state: what she
// answered lives on only in the case, if she opened one. Its phone index
// goes too: kept, it would tie her number to when she wrote and to her case.
func (h *Hotline) closeConversation(ctx context.Context, tx pgx.Tx, id uuid.UUID, status string) error {
	return hotlinedb.New(tx).CloseConversation(ctx, status, id)
}
