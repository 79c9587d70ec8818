package hotline

import (
	"testing"
	"time"

	"github.com/amparo/amparo/roster"
	"github.com/amparo/amparo/templates"
)

// A duty phone that keeps sending codes that match nothing is told, at the
// limit, that its SMS replies are paused, and the supervisor on call gets a
// text naming the service.
func TestDutyPhoneGuessingCodesIsStoppedAndSupervisorAlerted(t *testing.T) {
	t.Parallel()
	const supervisor = "+51900000801"
	e := newEnv(t, true)
	if err := e.roster.Add(e.ctx, e.pool, roster.Supervisor, supervisor, tuesday10.Add(-time.Hour), tuesday10.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	duty := e.sim.Phone(healthPhone)
	for range 4 {
		duty.Send("OK 1234").Expect(text(t, templates.ES, templates.KeyProviderUnknownCode))
	}
	duty.Send("OK 1234").Expect(text(t, templates.ES, templates.KeyProviderCodesLocked))
	e.sim.Phone(supervisor).Expect(text(t, templates.ES, templates.KeyStaffCodesLocked, "ref", "H"))
	duty.Send("OK 4321").Expect(text(t, templates.ES, templates.KeyProviderCodesLocked))
	e.sim.Settle()
	e.sim.AssertQuiet()
}
