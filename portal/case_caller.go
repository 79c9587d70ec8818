package portal

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// CallerBlocks blocks and unblocks the caller of a case. The portal never
// learns her number: cmd/amparo wires the hotline's block store, which
// finds the number from the case. Errors: ErrInvalidBlock for a reason,
// expiry or actor the store refuses; ErrBlockNotFound for a block that is
// not the case's or no longer in force.
type CallerBlocks interface {
	BlockReasons() []string
	BlockCaseCaller(ctx context.Context, caseID uuid.UUID, reason string, until time.Time, by string) error
	LiftCaseBlock(ctx context.Context, caseID, blockID uuid.UUID, by string) error
	CaseBlocks(ctx context.Context, caseID uuid.UUID) ([]CallerBlock, error)
}

// Errors a CallerBlocks returns.
var (
	ErrInvalidBlock  = errors.New("portal: invalid block")
	ErrBlockNotFound = errors.New("portal: no such block")
)

// CallerBlock is a block in force on a case's caller.
type CallerBlock struct {
	ID        uuid.UUID
	Reason    string
	Until     time.Time
	SetBy     string // staff user id
	CreatedAt time.Time
}

// blockFor are the lengths a block may have: a fixed list, so that no
// block is forever by a slip of the keyboard.
var blockFor = []int{1, 7, 30, 90} // days

type callerData struct {
	CaseID    uuid.UUID
	Reference string
	Blocks    []CallerBlock
	Reasons   []string
	Days      []int
	Names     map[string]string
}

// caseCaller shows a supervisor the blocks in force on the case's caller,
// and the form to block her number (never shown) for a while.
func (p *Portal) caseCaller(w http.ResponseWriter, r *http.Request) error {
	_, sc, err := p.caseFor(r, ActBlockCaller)
	if err != nil {
		return err
	}
	if p.blocks == nil {
		return errors.New("portal: no caller blocks wired")
	}
	ctx := r.Context()
	d := callerData{CaseID: sc.ID, Reasons: p.blocks.BlockReasons(), Days: blockFor, Names: map[string]string{}}
	if d.Reference, err = p.cases.Reference(ctx, p.pool, sc.ID); err != nil {
		return err
	}
	if d.Blocks, err = p.blocks.CaseBlocks(ctx, sc.ID); err != nil {
		return err
	}
	users, err := p.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, s := range users {
		d.Names[s.ID.String()] = s.Username
	}
	return p.render(w, r, "case_caller", d)
}

func backToCaller(w http.ResponseWriter, r *http.Request, id uuid.UUID) {
	http.Redirect(w, r, "/cases/"+id.String()+"/caller", http.StatusSeeOther)
}
