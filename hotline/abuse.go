package hotline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/amparo/amparo/audit"
	"github.com/amparo/amparo/hotline/internal/hotlinedb"
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

// admitParams are hotlinedb.Admit's, for her message or call now: it
// decides whether a recorded message is processed, counting it against her
// window and locking her counter to the end of the transaction (see the
// query). Its row (hits, blocked) goes to admitVerdict. receiveSMS sends it
// in the pipeline that opens the webhook's transaction.
func (h *Hotline) admitParams(current []byte, candidates [][]byte) hotlinedb.AdmitParams {
	return hotlinedb.AdmitParams{Candidates: candidates, Now: h.clk.Now(), PhoneIndex: current,
		IndexKeyID: h.index.CurrentKeyID(), RateWindow: interval(h.cfg.RateWindow)}
}

// interval is d as PostgreSQL's interval, as pgx would send a
// time.Duration: whole microseconds.
func interval(d time.Duration) pgtype.Interval {
	return pgtype.Interval{Microseconds: d.Microseconds(), Valid: true}
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
	row, err := hotlinedb.New(h.pool).Admit(ctx, h.admitParams(candidates[0], candidates))
	if err != nil {
		h.log.Error("hotline: voice rate limit", "err", err)
		return ""
	}
	verdict := h.admitVerdict(int(row.Hits), row.Blocked)
	if verdict != "" {
		h.log.Info("hotline: call refused", "outcome", verdict)
	}
	return verdict
}

// callStanding reads, without counting, whether a caller counted when her
// call began is refused now: a block may come in the middle of a call.
func (h *Hotline) callStanding(ctx context.Context, tx pgx.Tx, e164 string) (string, error) {
	candidates := h.index.Candidates(e164)
	now := h.clk.Now()
	row, err := hotlinedb.New(tx).Standing(ctx, hotlinedb.StandingParams{
		PhoneIndex: candidates[0], WindowOpened: now.Add(-h.cfg.RateWindow), Candidates: candidates, Now: now})
	if err != nil {
		return "", err
	}
	verdict := h.admitVerdict(int(row.Hits), row.Blocked)
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
		caller, err := hotlinedb.New(tx).ConversationCaller(ctx, b.ConversationID)
		if errors.Is(err, pgx.ErrNoRows) {
			return uuid.Nil, ErrNotFound
		}
		if err != nil {
			return uuid.Nil, err
		}
		idx, keyID = caller.PhoneIndex, caller.IndexKeyID
	}
	id := uuid.New()
	var caseID *uuid.UUID
	if b.CaseID != uuid.Nil {
		caseID = &b.CaseID
	}
	if err := hotlinedb.New(tx).InsertBlock(ctx, hotlinedb.InsertBlockParams{ID: id, PhoneIndex: idx, IndexKeyID: keyID,
		Reason: b.Reason, Until: b.Until, SetBy: b.SetBy, CreatedAt: now, CaseID: caseID}); err != nil {
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
	blockCase, err := hotlinedb.New(tx).LiftBlock(ctx, now, blockID, caseID)
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
