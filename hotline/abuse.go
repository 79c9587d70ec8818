package hotline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/phone"
)

// Block reasons. A fixed list, not free text: the reason is audited and
// shown to other staff, and must never carry what a caller said.
var blockReasons = map[string]bool{"prank": true, "abusive": true, "spam": true, "impersonation": true, "other": true}

// Errors of the block API.
var (
	ErrBadBlock = errors.New("hotline: invalid block request")
	ErrNotFound = errors.New("hotline: not found")
)

// admitSQL decides whether a recorded message is processed: a blocked
// caller or one over the rate limit gets nothing more. It counts the message
// against the caller's window; the counter's row lock is held to the end of
// the transaction, which also serialises one caller's messages, so her
// conversation is never stepped twice at once. Arguments are admitArgs; the
// row it returns (hits, blocked) goes to admitVerdict. receiveSMS sends it
// in the pipeline that opens the webhook's transaction.
const admitSQL = `WITH hit AS (
		INSERT INTO caller_rate (phone_index, window_start, hits, index_key_id) VALUES ($1, $2, 1, $5)
		ON CONFLICT (phone_index) DO UPDATE SET
			hits = CASE WHEN caller_rate.window_start <= $2 - $3::interval THEN 1 ELSE caller_rate.hits + 1 END,
			window_start = CASE WHEN caller_rate.window_start <= $2 - $3::interval THEN $2 ELSE caller_rate.window_start END
		RETURNING hits)
	SELECT hit.hits, EXISTS (SELECT 1 FROM caller_block WHERE phone_index = ANY($4) AND lifted_at IS NULL AND until > $2)
	FROM hit`

func (h *Hotline) admitArgs(current []byte, candidates [][]byte) []any {
	return []any{current, h.clk.Now(), h.cfg.RateWindow, candidates, h.index.CurrentKeyID()}
}

// standingSQL reads what admitSQL would decide without counting anything:
// for a later step of a call that was counted when it began. Arguments are
// standingArgs; the row (hits, blocked) goes to admitVerdict.
const standingSQL = `SELECT
		COALESCE((SELECT hits FROM caller_rate WHERE phone_index = $1 AND window_start > $2), 0),
		EXISTS (SELECT 1 FROM caller_block WHERE phone_index = ANY($3) AND lifted_at IS NULL AND until > $4)`

func (h *Hotline) standingArgs(current []byte, candidates [][]byte) []any {
	now := h.clk.Now()
	return []any{current, now.Add(-h.cfg.RateWindow), candidates, now}
}

// admitVerdict is the outcome for a refused message, or "" to process it.
func (h *Hotline) admitVerdict(hits int, blocked bool) string {
	switch {
	case blocked:
		return "blocked"
	case hits > h.cfg.RateLimit:
		return "rate_limited"
	}
	return ""
}

// admitCall counts a call, when it begins, against the caller's rate limit,
// the one her texts count against too, and returns why it is refused
// ("blocked", "rate_limited") or "". A withheld number cannot be counted. If
// the database cannot say, the call goes on: the danger step has its own
// way through to a person when the database is down.
func (h *Hotline) admitCall(ctx context.Context, from string) string {
	e164, err := phone.Normalize(from, "")
	if err != nil {
		return ""
	}
	candidates := h.index.Candidates(e164)
	var (
		hits    int
		blocked bool
	)
	if err := h.pool.QueryRow(ctx, admitSQL, h.admitArgs(candidates[0], candidates)...).Scan(&hits, &blocked); err != nil {
		h.log.Error("hotline: voice rate limit", "err", err)
		return ""
	}
	verdict := h.admitVerdict(hits, blocked)
	if verdict != "" {
		h.log.Info("hotline: call refused", "outcome", verdict)
	}
	return verdict
}

// callStanding reads, without counting, whether a caller counted when her
// call began is refused now: a block may come in the middle of a call.
func (h *Hotline) callStanding(ctx context.Context, tx pgx.Tx, e164 string) (string, error) {
	candidates := h.index.Candidates(e164)
	var (
		hits    int
		blocked bool
	)
	if err := tx.QueryRow(ctx, standingSQL, h.standingArgs(candidates[0], candidates)...).Scan(&hits, &blocked); err != nil {
		return "", err
	}
	verdict := h.admitVerdict(hits, blocked)
	if verdict != "" {
		h.log.Info("hotline: danger call refused", "outcome", verdict)
	}
	return verdict, nil
}

// Block is a supervisor's request to stop processing a caller's messages.
// Exactly one of Phone and ConversationID names the caller: staff usually
// know a conversation, not a number.
type Block struct {
	Phone          string
	ConversationID uuid.UUID
	// CaseID, when set, is the case the block was set from: its caller
	// page lists the block, and the audit rows name the case.
	CaseID uuid.UUID
	Reason string // prank, abusive, spam, impersonation, other
	Until  time.Time
	SetBy  string // staff user id
}

// BlockCaller records b and audits it; it returns the block's id.
func (h *Hotline) BlockCaller(ctx context.Context, b Block) (uuid.UUID, error) {
	now := h.clk.Now()
	if !blockReasons[b.Reason] || b.SetBy == "" || !b.Until.After(now) || (b.Phone == "") == (b.ConversationID == uuid.Nil) {
		return uuid.Nil, ErrBadBlock
	}
	tx, err := h.pool.Begin(ctx)
	if err != nil {
		return uuid.Nil, err
	}
	defer tx.Rollback(ctx)
	var (
		idx   []byte
		keyID *string
	)
	if b.Phone != "" {
		e164, err := phone.Normalize(b.Phone, "")
		if err != nil {
			return uuid.Nil, ErrBadBlock
		}
		idx, keyID = h.index.Current(e164), new(h.index.CurrentKeyID())
	} else {
		// A conversation that has ended no longer knows its caller.
		err := tx.QueryRow(ctx, `SELECT phone_index, index_key_id FROM conversation WHERE id = $1 AND phone_index IS NOT NULL`,
			b.ConversationID).Scan(&idx, &keyID)
		if errors.Is(err, pgx.ErrNoRows) {
			return uuid.Nil, ErrNotFound
		}
		if err != nil {
			return uuid.Nil, err
		}
	}
	id := uuid.New()
	var caseID *uuid.UUID
	if b.CaseID != uuid.Nil {
		caseID = &b.CaseID
	}
	if _, err := tx.Exec(ctx, `INSERT INTO caller_block (id, phone_index, index_key_id, reason, until, set_by, created_at, case_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, idx, keyID, b.Reason, b.Until, b.SetBy, now, caseID); err != nil {
		return uuid.Nil, err
	}
	if err := audit.Append(ctx, tx, now, audit.Entry{Actor: b.SetBy, Action: "caller.block", CaseID: auditCase(caseID),
		Detail: fmt.Sprintf("block %s reason=%s until=%s", id, b.Reason, b.Until.UTC().Format(time.RFC3339))}); err != nil {
		return uuid.Nil, err
	}
	return id, tx.Commit(ctx)
}

// LiftBlock ends a block early and audits it.
func (h *Hotline) LiftBlock(ctx context.Context, blockID uuid.UUID, by string) error {
	return h.lift(ctx, blockID, nil, by)
}

// lift ends the block blockID, if it is one of the case caseID when that
// is given; ErrNotFound when there is no such block still in force.
func (h *Hotline) lift(ctx context.Context, blockID uuid.UUID, caseID *uuid.UUID, by string) error {
	if by == "" {
		return ErrBadBlock
	}
	tx, err := h.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	now := h.clk.Now()
	var blockCase *uuid.UUID
	err = tx.QueryRow(ctx, `UPDATE caller_block SET lifted_at = $2 WHERE id = $1 AND lifted_at IS NULL
		AND ($3::uuid IS NULL OR case_id = $3) RETURNING case_id`, blockID, now, caseID).Scan(&blockCase)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := audit.Append(ctx, tx, now, audit.Entry{Actor: by, Action: "caller.unblock", CaseID: auditCase(blockCase),
		Detail: "block " + blockID.String()}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func auditCase(id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return id.String()
}
