package hotline

import (
	"errors"
	"testing"
	"time"

	"github.com/amparo/amparo/casefile"
)

// TestCaseBlockRefusesHerNextText: a block set from a case (the portal's
// way, which never shows the number) refuses the next text from the
// number her contact holds, is listed and audited against the case, is
// lifted only through its own case, and once lifted she is answered again.
func TestCaseBlockRefusesHerNextText(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	const pestNumber = "+51987000444"
	open := func(phone string) casefile.Case {
		c, err := e.cases.CreateContact(e.ctx, e.pool, phone)
		if err != nil {
			t.Fatal(err)
		}
		kase, err := e.cases.OpenCase(e.ctx, e.pool, c.ID, casefile.CaseInput{Needs: []casefile.Need{casefile.NeedPsychosocial},
			Community: "el-porvenir", Contact: casefile.ContactPrefs{MayText: true, FromHour: 8, ToHour: 20}, Lang: "es"})
		if err != nil {
			t.Fatal(err)
		}
		return kase
	}
	kase, other := open(pestNumber), open("+51987000555")
	pest := e.sim.Phone(pestNumber)

	if _, err := e.h.BlockCaseCaller(e.ctx, kase.ID, "said bad things", e.clk.Now().Add(time.Hour), "sup-1"); !errors.Is(err, ErrBadBlock) {
		t.Fatalf("a free-text reason: %v", err)
	}
	id, err := e.h.BlockCaseCaller(e.ctx, kase.ID, "prank", e.clk.Now().Add(24*time.Hour), "sup-1")
	if err != nil {
		t.Fatal(err)
	}
	pest.Send("hola")
	pest.ExpectNothing()
	if e.count("inbound_message", "outcome = 'blocked'") != 1 {
		t.Fatal("her text was not refused as blocked")
	}
	if e.count("audit_log", "action = 'caller.block' AND actor = 'sup-1' AND case_id = $1", kase.ID) != 1 {
		t.Fatal("the block is not in the case's audit trail")
	}
	blocks, err := e.h.CaseBlocks(e.ctx, kase.ID)
	if err != nil || len(blocks) != 1 || blocks[0].ID != id || blocks[0].Reason != "prank" {
		t.Fatalf("case blocks = %+v, %v", blocks, err)
	}
	if err := e.h.LiftCaseBlock(e.ctx, other.ID, id, "sup-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("lifting through another case: %v", err)
	}
	if err := e.h.LiftCaseBlock(e.ctx, kase.ID, id, "sup-1"); err != nil {
		t.Fatal(err)
	}
	if e.count("audit_log", "action = 'caller.unblock' AND case_id = $1", kase.ID) != 1 {
		t.Fatal("the lift is not in the case's audit trail")
	}
	if blocks, _ := e.h.CaseBlocks(e.ctx, kase.ID); len(blocks) != 0 {
		t.Fatalf("a lifted block is still listed: %+v", blocks)
	}
	pest.Send("hola").ExpectSMS()
	e.assertNotStored("987000444")
}
