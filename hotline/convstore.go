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
	dek          *crypto.DataKey
	state        []byte // triage.State as JSON; nil for a new conversation
}

func conversationOwner(id uuid.UUID) string { return "conversation|" + id.String() }

func stateBinding(id uuid.UUID) crypto.Binding {
	return crypto.Binding{Table: "conversation", Column: "state", RowID: id.String()}
}

// activeConversation returns her live conversation, locked, if she has one.
func (h *Hotline) activeConversation(ctx context.Context, tx pgx.Tx, candidates [][]byte) (*conversation, bool, error) {
	c := &conversation{}
	var (
		kekID           string
		wrapped, sealed []byte
	)
	err := tx.QueryRow(ctx, `SELECT id, contact_id, case_id, danger, last_activity, kek_id, wrapped_dek, state_sealed
		FROM conversation WHERE phone_index = ANY($1) AND status = 'active' FOR UPDATE`, candidates).
		Scan(&c.id, &c.contactID, &c.caseID, &c.danger, &c.lastActivity, &kekID, &wrapped, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("hotline: load conversation: %w", err)
	}
	if c.dek, err = crypto.UnwrapDataKey(h.keys, kekID, wrapped, conversationOwner(c.id)); err != nil {
		return nil, false, err
	}
	if c.state, err = c.dek.Open(sealed, stateBinding(c.id)); err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// newConversation starts a conversation; it is written by saveConversation.
func newConversation() (*conversation, error) {
	dek, err := crypto.NewDataKey()
	if err != nil {
		return nil, err
	}
	return &conversation{id: uuid.New(), dek: dek}, nil
}

// saveConversation writes c's state back, sealed, inserting it if new.
func (h *Hotline) saveConversation(ctx context.Context, tx pgx.Tx, c *conversation, phoneIndex []byte, isNew bool) error {
	sealed, err := c.dek.Seal(c.state, stateBinding(c.id))
	if err != nil {
		return err
	}
	now := h.clk.Now()
	if !isNew {
		_, err = tx.Exec(ctx, `UPDATE conversation SET state_sealed = $2, contact_id = $3, case_id = $4, danger = $5, last_activity = $6
			WHERE id = $1`, c.id, sealed, c.contactID, c.caseID, c.danger, now)
		return err
	}
	kekID, wrapped, err := crypto.WrapDataKey(h.keys, c.dek, conversationOwner(c.id))
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO conversation
		(id, phone_index, contact_id, case_id, kek_id, wrapped_dek, state_sealed, danger, started_at, last_activity)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		c.id, phoneIndex, c.contactID, c.caseID, kekID, wrapped, sealed, c.danger, now)
	return err
}

// closeConversation ends a conversation and shreds its state: what she
// answered lives on only in the case, if she opened one.
func (h *Hotline) closeConversation(ctx context.Context, tx pgx.Tx, id uuid.UUID, status string) error {
	_, err := tx.Exec(ctx, `UPDATE conversation SET status = $2, kek_id = NULL, wrapped_dek = NULL, state_sealed = NULL
		WHERE id = $1`, id, status)
	return err
}
