package hotline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/crypto"
)

func inboundBinding(id uuid.UUID, column string) crypto.Binding {
	return crypto.Binding{Table: "inbound_message", Column: column, RowID: id.String()}
}

func inboundOwner(id uuid.UUID) string { return "inbound_message|" + id.String() }

// receiveSMS handles one authenticated inbound SMS and returns the replies to
// answer with. Everything it changes commits in one transaction, keyed by
// the MessageSid: a copy of a message already handled only replays the
// replies stored with it.
func (h *Hotline) receiveSMS(ctx context.Context, in InboundSMS) ([]string, error) {
	tx, err := h.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)

	id := uuid.New()
	dek, err := crypto.NewDataKey()
	if err != nil {
		return nil, err
	}
	kekID, wrapped, err := crypto.WrapDataKey(h.keys, dek, inboundOwner(id))
	if err != nil {
		return nil, err
	}
	body, err := dek.Seal([]byte(in.Body), inboundBinding(id, "body"))
	if err != nil {
		return nil, err
	}
	e164, phoneErr := crypto.NormalizePhone(in.From, "")
	var current []byte
	if phoneErr == nil {
		current = h.index.Current(e164)
	}
	// A concurrent copy of this MessageSid waits here on the unique index
	// until the first commits, then inserts nothing.
	tag, err := tx.Exec(ctx, `INSERT INTO inbound_message (id, message_sid, phone_index, kek_id, wrapped_dek, body_sealed, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (message_sid) DO NOTHING`,
		id, in.MessageSID, current, kekID, wrapped, body, h.clk.Now())
	if err != nil {
		return nil, fmt.Errorf("hotline: record inbound: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return h.replay(ctx, tx, in.MessageSID)
	}

	outcome, replies, err := h.route(ctx, tx, e164, phoneErr, in.Body)
	if err != nil {
		return nil, err
	}
	var sealedReplies []byte
	if len(replies) > 0 {
		raw, err := json.Marshal(replies)
		if err != nil {
			return nil, err
		}
		if sealedReplies, err = dek.Seal(raw, inboundBinding(id, "reply")); err != nil {
			return nil, err
		}
	}
	// An erasure in this very step has already shredded the row; its reply
	// is then sent once and not kept.
	if _, err := tx.Exec(ctx, `UPDATE inbound_message SET outcome = $2, reply_sealed = $3
		WHERE id = $1 AND wrapped_dek IS NOT NULL`, id, outcome, sealedReplies); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	h.log.Info("hotline: sms received", "inbound_id", id, "outcome", outcome, "replies", len(replies))
	return replies, nil
}

// route decides who the sender is and what to do with her message.
func (h *Hotline) route(ctx context.Context, tx pgx.Tx, e164 string, phoneErr error, body string) (outcome string, replies []string, err error) {
	if phoneErr != nil {
		// Short codes and alphanumeric senders are not people we can help
		// or answer; the row is the record that they wrote.
		return "unroutable", nil, nil
	}
	candidates := h.index.Candidates(e164)
	if outcome, err := h.admit(ctx, tx, candidates[0], candidates); err != nil || outcome != "" {
		return outcome, nil, err
	}
	reply, handled, err := h.providerReply(ctx, tx, e164, body)
	if err != nil || handled {
		return "provider", reply, err
	}
	replies, err = h.converse(ctx, tx, e164, candidates, body)
	return "survivor", replies, err
}

// replay returns the replies stored with an already handled MessageSid.
func (h *Hotline) replay(ctx context.Context, tx pgx.Tx, sid string) ([]string, error) {
	var (
		id               uuid.UUID
		kekID            *string
		wrapped, replies []byte
	)
	err := tx.QueryRow(ctx, `SELECT id, kek_id, wrapped_dek, reply_sealed FROM inbound_message WHERE message_sid = $1`, sid).
		Scan(&id, &kekID, &wrapped, &replies)
	if err != nil {
		return nil, fmt.Errorf("hotline: replay: %w", err)
	}
	h.log.Info("hotline: duplicate sms", "inbound_id", id)
	if kekID == nil || replies == nil {
		return nil, nil
	}
	dek, err := crypto.UnwrapDataKey(h.keys, *kekID, wrapped, inboundOwner(id))
	if err != nil {
		return nil, err
	}
	raw, err := dek.Open(replies, inboundBinding(id, "reply"))
	if err != nil {
		return nil, err
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, errors.New("hotline: stored reply unreadable")
	}
	return out, nil
}
