package hotline

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/amparo/amparo/hotline/internal/hotlinedb"
)

// BlockReasons lists the reasons a block may give, for forms.
func BlockReasons() []string {
	out := make([]string, 0, len(blockReasons))
	for r := range blockReasons {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// BlockCaseCaller blocks the caller of a case: the number her contact
// texts from, which the supervisor who asks never sees. The block and its
// audit row name the case. casefile's ErrNotFound or ErrErased when there
// is no case or no caller left to block.
func (h *Hotline) BlockCaseCaller(ctx context.Context, caseID uuid.UUID, reason string, until time.Time, by string) (uuid.UUID, error) {
	facts, err := h.cases.CaseFacts(ctx, h.pool, caseID)
	if err != nil {
		return uuid.Nil, err
	}
	phone, err := h.cases.ContactPhone(ctx, h.pool, facts.ContactID)
	if err != nil {
		return uuid.Nil, err
	}
	return h.BlockCaller(ctx, Block{Phone: phone, CaseID: caseID, Reason: reason, Until: until, SetBy: by})
}

// LiftCaseBlock ends a block set from the case caseID; ErrNotFound when
// the block is not that case's or is no longer in force.
func (h *Hotline) LiftCaseBlock(ctx context.Context, caseID, blockID uuid.UUID, by string) error {
	return h.lift(ctx, blockID, &caseID, by)
}

// CaseBlock is a block in force that was set from a case.
type CaseBlock struct {
	ID        uuid.UUID
	Reason    string
	Until     time.Time
	SetBy     string
	CreatedAt time.Time
}

// CaseBlocks lists the blocks in force set from the case, oldest first.
func (h *Hotline) CaseBlocks(ctx context.Context, caseID uuid.UUID) ([]CaseBlock, error) {
	rows, err := hotlinedb.New(h.pool).CaseBlocks(ctx, caseID, h.clk.Now())
	if err != nil {
		return nil, fmt.Errorf("hotline: case blocks: %w", err)
	}
	out := make([]CaseBlock, len(rows))
	for i, r := range rows {
		out[i] = caseBlock(r)
	}
	return out, nil
}

func caseBlock(r hotlinedb.CaseBlocksRow) CaseBlock {
	return CaseBlock{ID: r.ID, Reason: r.Reason, Until: r.Until, SetBy: r.SetBy, CreatedAt: r.CreatedAt}
}
