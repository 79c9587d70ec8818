package main

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/amparo/amparo/hotline"
	"github.com/amparo/amparo/portal"
)

// callerBlocks is the portal's CallerBlocks: the hotline's block store, the
// one its webhooks consult, so a block set in the portal refuses her next
// text and call.
type callerBlocks struct{ line *hotline.Hotline }

func (b callerBlocks) BlockReasons() []string { return hotline.BlockReasons() }

func (b callerBlocks) BlockCaseCaller(ctx context.Context, caseID uuid.UUID, reason string, until time.Time, by string) error {
	_, err := b.line.BlockCaseCaller(ctx, caseID, reason, until, by)
	return blockErr(err)
}

func (b callerBlocks) LiftCaseBlock(ctx context.Context, caseID, blockID uuid.UUID, by string) error {
	return blockErr(b.line.LiftCaseBlock(ctx, caseID, blockID, by))
}

func (b callerBlocks) CaseBlocks(ctx context.Context, caseID uuid.UUID) ([]portal.CallerBlock, error) {
	blocks, err := b.line.CaseBlocks(ctx, caseID)
	out := make([]portal.CallerBlock, len(blocks))
	for i, x := range blocks {
		out[i] = portal.CallerBlock(x)
	}
	return out, err
}

// blockErr gives the portal its own errors for the hotline's.
func blockErr(err error) error {
	switch {
	case errors.Is(err, hotline.ErrBadBlock):
		return errors.Join(portal.ErrInvalidBlock, err)
	case errors.Is(err, hotline.ErrNotFound):
		return errors.Join(portal.ErrBlockNotFound, err)
	}
	return err
}
