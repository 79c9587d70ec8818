package portal

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/amparo/amparo/internal/queuehealth"
)

// outboxFigures is queuehealth's outbox in these tests: the outbox belongs
// to the hotline, which the portal's tests do not run (cmd/amparo's do).
type outboxFigures struct {
	mu sync.Mutex
	f  queuehealth.Outbox
}

func (o *outboxFigures) Outbox(context.Context) (queuehealth.Outbox, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.f, nil
}

func (o *outboxFigures) set(f queuehealth.Outbox) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.f = f
}

// blockStore is the portal's CallerBlocks in these tests, keeping blocks
// as the hotline's store does (hotline's TestCaseBlockRefusesHerNextText
// and cmd/amparo's browser test drive the real one).
type blockStore struct {
	mu     sync.Mutex
	blocks map[uuid.UUID][]CallerBlock // by case
}

func (b *blockStore) BlockReasons() []string {
	return []string{"abusive", "impersonation", "other", "prank", "spam"}
}

func (b *blockStore) BlockCaseCaller(_ context.Context, caseID uuid.UUID, reason string, until time.Time, by string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.blocks == nil {
		b.blocks = map[uuid.UUID][]CallerBlock{}
	}
	b.blocks[caseID] = append(b.blocks[caseID], CallerBlock{ID: uuid.New(), Reason: reason, Until: until, SetBy: by})
	return nil
}

func (b *blockStore) LiftCaseBlock(_ context.Context, caseID, blockID uuid.UUID, _ string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.IndexFunc(b.blocks[caseID], func(x CallerBlock) bool { return x.ID == blockID })
	if i < 0 {
		return ErrBlockNotFound
	}
	b.blocks[caseID] = slices.Delete(b.blocks[caseID], i, i+1)
	return nil
}

func (b *blockStore) CaseBlocks(_ context.Context, caseID uuid.UUID) ([]CallerBlock, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.blocks[caseID]), nil
}

// blocksOf returns the case's blocks in force.
func (b *blockStore) blocksOf(caseID uuid.UUID) []CallerBlock {
	out, _ := b.CaseBlocks(context.Background(), caseID)
	return out
}
